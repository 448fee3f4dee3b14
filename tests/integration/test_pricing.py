"""GET /api/client/pricing and /pricing/extension: tiers, order and free-trial marking."""

from __future__ import annotations

import httpx

from curhat.runtime import Runtime
from tests.fixtures.factories import make_customer, make_mitra
from tests.integration.test_payments_support import insert_payment, sql

PRICING = "/api/client/pricing"


async def test_eligible_customer_sees_free_tiers_within_the_limit(
    public: httpx.AsyncClient, runtime: Runtime
) -> None:
    customer = await make_customer(runtime)
    r = await public.get(PRICING, headers=customer.headers)
    assert r.status_code == 200
    body = r.json()
    assert body["free_trial_eligible"] is True
    got = [(t["duration_minutes"], t["amount"], t["is_free_trial"]) for t in body["tiers"]]
    assert got == [(15, 0, True), (30, 25000, False), (60, 45000, False)]
    assert set(body["tiers"][0]) == {"id", "duration_minutes", "amount", "is_free_trial"}
    me = (await public.get("/api/client/me", headers=customer.headers)).json()
    assert me["free_trial_eligible"] is True


async def test_extension_tiers_are_never_free(public: httpx.AsyncClient, runtime: Runtime) -> None:
    customer = await make_customer(runtime)
    body = (await public.get(f"{PRICING}/extension", headers=customer.headers)).json()
    assert body["free_trial_eligible"] is False
    got = [(t["duration_minutes"], t["amount"], t["is_free_trial"]) for t in body["tiers"]]
    assert got == [(15, 15000, False), (30, 25000, False), (60, 45000, False)]


async def test_a_consumed_free_trial_ends_eligibility(public: httpx.AsyncClient, runtime: Runtime) -> None:
    customer = await make_customer(runtime)
    await insert_payment(runtime, customer, status="consumed", free=True, duration=15)
    body = (await public.get(PRICING, headers=customer.headers)).json()
    assert body["free_trial_eligible"] is False
    assert all(not t["is_free_trial"] and t["amount"] > 0 for t in body["tiers"])
    r = await public.post(
        "/api/client/payment-sessions", json={"duration_minutes": 15}, headers=customer.headers
    )
    assert r.json()["amount"] == 15000 and r.json()["is_free_trial"] is False


async def test_unused_failed_or_abandoned_trials_do_not_use_it_up(
    public: httpx.AsyncClient, runtime: Runtime
) -> None:
    customer = await make_customer(runtime)
    for status in ("failed_pairing", "abandoned", "expired", "confirmed", "pending"):
        await insert_payment(runtime, customer, status=status, free=True, duration=15)
    body = (await public.get(PRICING, headers=customer.headers)).json()
    assert body["free_trial_eligible"] is True and body["tiers"][0]["is_free_trial"] is True
    # Someone else's consumed trial is not this customer's.
    other = await make_customer(runtime)
    await insert_payment(runtime, other, status="consumed", free=True, duration=15)
    assert (await public.get(PRICING, headers=customer.headers)).json()["free_trial_eligible"] is True


async def test_the_limit_follows_config_and_zero_disables_the_trial(
    public: httpx.AsyncClient, runtime: Runtime
) -> None:
    customer = await make_customer(runtime)
    await sql(runtime, "UPDATE app_config SET value = '30' WHERE key = 'free_trial_max_duration_minutes'")
    runtime.config.invalidate()
    body = (await public.get(PRICING, headers=customer.headers)).json()
    assert [t["is_free_trial"] for t in body["tiers"]] == [True, True, False]
    await sql(runtime, "UPDATE app_config SET value = '0' WHERE key = 'free_trial_max_duration_minutes'")
    runtime.config.invalidate()
    body = (await public.get(PRICING, headers=customer.headers)).json()
    assert body["free_trial_eligible"] is False
    assert [t["amount"] for t in body["tiers"]] == [15000, 25000, 45000]


async def test_order_is_sort_order_then_duration_and_inactive_tiers_hide(
    public: httpx.AsyncClient, runtime: Runtime
) -> None:
    customer = await make_customer(runtime)
    await sql(runtime, "UPDATE price_tiers SET sort_order = 0 WHERE duration_minutes = 60")
    await sql(runtime, "UPDATE price_tiers SET is_active = false WHERE duration_minutes = 30")
    await sql(runtime, "INSERT INTO price_tiers (duration_minutes, amount, sort_order) VALUES (45, 35000, 0)")
    body = (await public.get(PRICING, headers=customer.headers)).json()
    assert [t["duration_minutes"] for t in body["tiers"]] == [45, 60, 15]


async def test_a_zero_amount_tier_is_offered_only_as_a_trial(
    public: httpx.AsyncClient, runtime: Runtime
) -> None:
    fresh, used = await make_customer(runtime), await make_customer(runtime)
    await insert_payment(runtime, used, status="consumed", free=True, duration=15)
    await sql(runtime, "INSERT INTO price_tiers (duration_minutes, amount, sort_order) VALUES (5, 0, 0)")
    assert (await public.get(PRICING, headers=fresh.headers)).json()["tiers"][0]["duration_minutes"] == 5
    assert 5 not in [
        t["duration_minutes"] for t in (await public.get(PRICING, headers=used.headers)).json()["tiers"]
    ]
    r = await public.post("/api/client/payment-sessions", json={"duration_minutes": 5}, headers=used.headers)
    assert r.status_code == 400 and r.json()["fields"][0]["field"] == "duration_minutes"


async def test_pricing_needs_a_customer_token(public: httpx.AsyncClient, runtime: Runtime) -> None:
    mitra = await make_mitra(runtime)
    for path in (PRICING, f"{PRICING}/extension"):
        assert (await public.get(path)).status_code == 401
        assert (await public.get(path, headers=mitra.headers)).status_code == 401
