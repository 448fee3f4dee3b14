"""A free trial whose trial was used up meanwhile cannot start a search (found by R1, `make chaos`).

Two free-trial sessions confirmed while neither was used is allowed; once one is consumed no
mitra can accept the other (invariant 9: the accept answers 409 free_trial_already_used). A
search on it was still offered to every mitra, each accept was refused, and the customer was
told no_mitra_available when the window ran out — a cause that lands in the operator's queue.
The search is now refused when it is started, before anyone is offered it.
"""

from __future__ import annotations

import uuid

import httpx

from curhat.models.enums import CauseTag
from curhat.payments import service as payments
from curhat.runtime import Runtime
from tests.fixtures.factories import Account, make_chat, make_customer, make_mitra
from tests.integration.test_payments_support import count, insert_payment, payment_row

SEARCH = "/api/client/chat-requests"


async def _trial_used_elsewhere(runtime: Runtime) -> tuple[Account, uuid.UUID]:
    customer = await make_customer(runtime)
    used = await insert_payment(runtime, customer, free=True, duration=15)
    spare = await insert_payment(runtime, customer, free=True, duration=15)
    async with runtime.transaction() as session:
        await payments.consume_payment_session(session, used)
    return customer, spare


async def test_a_blast_on_a_free_trial_used_up_meanwhile_is_refused(
    public: httpx.AsyncClient, runtime: Runtime
) -> None:
    customer, spare = await _trial_used_elsewhere(runtime)
    r = await public.post(SEARCH, json={"payment_session_id": str(spare)}, headers=customer.headers)
    assert r.status_code == 409, r.text
    assert r.json()["error"] == "free_trial_already_used"
    assert await count(runtime, "pairing_requests") == 0
    assert (await payment_row(runtime, spare)).status == "confirmed"  # nothing changed


async def test_curhat_lagi_on_a_free_trial_used_up_meanwhile_is_refused(
    public: httpx.AsyncClient, runtime: Runtime
) -> None:
    customer, spare = await _trial_used_elsewhere(runtime)
    mitra = await make_mitra(runtime)
    await make_chat(runtime, customer.id, mitra.id, ended=True)
    r = await public.post(
        f"{SEARCH}/returning",
        json={"payment_session_id": str(spare), "mitra_id": str(mitra.id)},
        headers=customer.headers,
    )
    assert r.status_code == 409, r.text
    assert r.json()["error"] == "free_trial_already_used"
    assert await count(runtime, "pairing_requests") == 0
    assert (await payment_row(runtime, spare)).status == "confirmed"
    assert await count(runtime, "pairing_failures") == 0  # refused, not failed


async def test_a_fallback_on_a_free_trial_used_up_meanwhile_is_refused_and_changes_nothing(
    public: httpx.AsyncClient, runtime: Runtime
) -> None:
    customer, spare = await _trial_used_elsewhere(runtime)
    async with runtime.transaction() as session:
        await payments.fail_payment_session(session, spare, CauseTag.TARGETED_MITRA_TIMEOUT)
    r = await public.post(f"{SEARCH}/{spare}/fallback-to-blast", headers=customer.headers)
    assert r.status_code == 409, r.text
    assert r.json()["error"] == "free_trial_already_used"
    # The revival was rolled back with the refusal: still failed, its failure row kept.
    assert (await payment_row(runtime, spare)).status == "failed_pairing"
    assert await count(runtime, "pairing_failures") == 1
    assert await count(runtime, "pairing_requests") == 0
