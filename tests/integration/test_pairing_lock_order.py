"""Lock order (payment → request → mitra): accept, reject, cancel and the window's deadline race
on the real database through the real HTTP stack; no answer is ever a 500 (deadlock detected)."""

from __future__ import annotations

import asyncio
import logging
import uuid

import httpx
import pytest
from sqlalchemy import text

from curhat.models import Mitra
from curhat.pairing import repository as pairing_repository
from curhat.pairing.service import REQUEST_WINDOW
from curhat.runtime import Runtime
from tests.fixtures.factories import Account, make_customer, new_phone
from tests.invariants import assert_invariants

ROUNDS = 40
CANCEL = "/api/client/chat-requests/cancel"


async def _mitras(runtime: Runtime, n: int) -> list[Account]:
    """Mitras inserted directly: no argon2 per round (these never log in)."""
    rows = [
        Mitra(id=uuid.uuid4(), phone=new_phone(), display_name=f"Bestie {i}", password_hash="-")
        for i in range(n)
    ]
    async with runtime.transaction() as session:
        session.add_all(rows)
    return [Account(m.id, runtime.signer.issue(m.id, "mitra"), m.phone, "", m.display_name) for m in rows]


async def _open_search(
    public: httpx.AsyncClient, runtime: Runtime, customer: Account, mitras: list[Account]
) -> tuple[str, str]:
    """A confirmed payment of ``customer`` and its open blast, offered to ``mitras``."""
    pid = (
        await public.post(
            "/api/client/payment-sessions", json={"duration_minutes": 30}, headers=customer.headers
        )
    ).json()["id"]
    assert (
        await public.post(f"/api/client/payment-sessions/{pid}/confirm", headers=customer.headers)
    ).status_code == 200
    r = await public.post(
        "/api/client/chat-requests", json={"payment_session_id": pid}, headers=customer.headers
    )
    assert r.status_code == 202, r.text
    rid = r.json()["pairing_request_id"]
    async with runtime.transaction() as session:
        await pairing_repository.add_offers(session, uuid.UUID(rid), [m.id for m in mitras])
    return pid, rid


async def _respond(public: httpx.AsyncClient, mitra: Account, rid: str, action: str) -> httpx.Response:
    return await public.post(
        f"/api/mitra/pairing-requests/{rid}/respond", json={"action": action}, headers=mitra.headers
    )


async def test_accept_racing_cancel_never_deadlocks(public: httpx.AsyncClient, runtime: Runtime) -> None:
    customer = await make_customer(runtime)
    for mitra in await _mitras(runtime, ROUNDS):  # one mitra per round: capacity never decides
        pid, rid = await _open_search(public, runtime, customer, [mitra])
        accept, cancel = await asyncio.gather(
            _respond(public, mitra, rid, "accept"),
            public.post(CANCEL, json={"payment_session_id": pid}, headers=customer.headers),
        )
        assert (accept.status_code, cancel.status_code) in {(200, 409), (409, 200)}, (
            accept.text,
            cancel.text,
        )
        if accept.status_code == 409:
            assert accept.json()["error"] == "request_closed"
        else:
            assert cancel.json()["error"] == "no_open_request"
    async with runtime.transaction() as session:
        await assert_invariants(session)


async def test_reject_and_cancel_and_the_deadline_race_without_deadlock(
    public: httpx.AsyncClient, runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="curhat.deadlines.runner")
    customer = await make_customer(runtime)
    mitras = await _mitras(runtime, ROUNDS)
    for accepter, rejecter in zip(mitras[::2], mitras[1::2], strict=True):
        pid, rid = await _open_search(public, runtime, customer, [accepter, rejecter])
        async with runtime.transaction() as session:
            # Due now: the deadline handler, a late accept and a cancel all reach for the rows.
            await session.execute(
                text("UPDATE pairing_requests SET expires_at = now() WHERE id = :id"), {"id": rid}
            )
        results = await asyncio.gather(
            runtime.deadlines.fire(REQUEST_WINDOW, uuid.UUID(rid)),
            public.post(CANCEL, json={"payment_session_id": pid}, headers=customer.headers),
            _respond(public, rejecter, rid, "reject"),
            _respond(public, accepter, rid, "accept"),
        )
        for answer in results[1:]:
            assert answer.status_code in (200, 409), answer.text
        # A handler that found the rows locked leaves it to the next poll: be that poll.
        await runtime.deadlines.fire(REQUEST_WINDOW, uuid.UUID(rid))
        async with runtime.transaction() as session:
            status = await session.scalar(
                text("SELECT status FROM pairing_requests WHERE id = :id"), {"id": rid}
            )
        # The deadline, not a late click, decides; a cancel that got there first wins.
        assert status in ("failed", "cancelled")
    assert not [r for r in caplog.records if "failed" in r.getMessage()], caplog.text
    async with runtime.transaction() as session:
        await assert_invariants(session)
