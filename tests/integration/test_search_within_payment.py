"""A search never outlives its payment: the window ends at the payment's expires_at at the latest."""

from __future__ import annotations

import uuid
from datetime import datetime

import httpx
from sqlalchemy import text

from curhat.pairing.service import REQUEST_WINDOW
from curhat.runtime import Runtime
from tests.fixtures.factories import make_customer

BASE = "/api/client/payment-sessions"


async def test_a_blast_started_just_before_the_payment_expires_ends_with_it(
    public: httpx.AsyncClient, runtime: Runtime
) -> None:
    customer = await make_customer(runtime)
    pid = (await public.post(BASE, json={"duration_minutes": 30}, headers=customer.headers)).json()["id"]
    assert (await public.post(f"{BASE}/{pid}/confirm", headers=customer.headers)).status_code == 200
    async with runtime.transaction() as session:
        payment_expires = await session.scalar(
            text(
                "UPDATE payment_sessions SET expires_at = now() + interval '3 seconds'"
                " WHERE id = :id RETURNING expires_at"
            ),
            {"id": pid},
        )
    r = await public.post(
        "/api/client/chat-requests", json={"payment_session_id": pid}, headers=customer.headers
    )
    assert r.status_code == 202, r.text
    window_end = datetime.fromisoformat(r.json()["expires_at"])
    assert window_end <= payment_expires  # the configured 60 s would end well after it
    async with runtime.transaction() as session:
        await session.execute(
            text("UPDATE pairing_requests SET expires_at = now() WHERE id = :id"),
            {"id": r.json()["pairing_request_id"]},
        )
    await runtime.deadlines.fire(REQUEST_WINDOW, uuid.UUID(r.json()["pairing_request_id"]))
    # The search failed while the payment was still valid: the customer is owed a refund or credit.
    detail = (await public.get(f"{BASE}/{pid}", headers=customer.headers)).json()
    assert detail["status"] == "failed_pairing"
