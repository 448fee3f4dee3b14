"""Pure pricing and idempotency rules (no database)."""

from __future__ import annotations

import uuid

from curhat.kit.locks import lock_key
from curhat.models import PriceTier
from curhat.payments.idempotency import request_hash
from curhat.pricing.service import _price


def tier(minutes: int, amount: int) -> PriceTier:
    return PriceTier(id=uuid.uuid4(), duration_minutes=minutes, amount=amount, is_active=True, sort_order=0)


def test_eligible_customers_get_tiers_within_the_limit_free() -> None:
    short, long = tier(15, 15000), tier(30, 25000)
    free = _price(short, eligible=True, limit=15)
    assert free is not None and (free.amount, free.is_free_trial) == (0, True)
    paid = _price(long, eligible=True, limit=15)
    assert paid is not None and (paid.amount, paid.is_free_trial) == (25000, False)


def test_ineligible_customers_and_a_zero_limit_pay() -> None:
    short = tier(15, 15000)
    for eligible, limit in ((False, 15), (True, 0), (True, 14)):
        priced = _price(short, eligible=eligible, limit=limit)
        assert priced is not None and (priced.amount, priced.is_free_trial) == (15000, False)


def test_a_zero_amount_tier_exists_only_as_a_free_trial() -> None:
    zero = tier(10, 0)
    assert _price(zero, eligible=False, limit=15) is None
    assert _price(zero, eligible=True, limit=5) is None
    trial = _price(zero, eligible=True, limit=15)
    assert trial is not None and trial.is_free_trial


def test_request_hash_ignores_key_order_but_not_values() -> None:
    a = request_hash({"duration_minutes": 30, "is_extension": False})
    assert a == request_hash({"is_extension": False, "duration_minutes": 30})
    assert a != request_hash({"duration_minutes": 60, "is_extension": False})


def test_lock_keys_are_stable_signed_64_bit_and_separated() -> None:
    k = lock_key("idempotency", "c", "k")
    assert k == lock_key("idempotency", "c", "k")
    assert -(2**63) <= k < 2**63
    assert lock_key("a", "bc") != lock_key("ab", "c")
