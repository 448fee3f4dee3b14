"""Lock order (payment → request → mitra): accept, reject, cancel and the window's deadline race
on the real database through the real HTTP stack; no answer is ever a 500 (deadlock detected)."""

from __future__ import annotations

import asyncio
import logging
import uuid

import httpx
import pytest
from sqlalchemy import text

from curhat.pairing.service import REQUEST_WINDOW
from curhat.runtime import Runtime
from tests.fixtures.factories import insert_mitras, make_customer, open_offered_blast, respond
from tests.invariants import assert_invariants

ROUNDS = 40
CANCEL = "/api/client/chat-requests/cancel"


async def test_accept_racing_cancel_never_deadlocks(public: httpx.AsyncClient, runtime: Runtime) -> None:
    customer = await make_customer(runtime)
    for mitra in await insert_mitras(runtime, ROUNDS):  # one mitra per round: capacity never decides
        pid, rid = await open_offered_blast(public, runtime, customer, [mitra])
        accept, cancel = await asyncio.gather(
            respond(public, mitra, rid, "accept"),
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
    mitras = await insert_mitras(runtime, ROUNDS)
    for accepter, rejecter in zip(mitras[::2], mitras[1::2], strict=True):
        pid, rid = await open_offered_blast(public, runtime, customer, [accepter, rejecter])
        async with runtime.transaction() as session:
            # Due now: the deadline handler, a late accept and a cancel all reach for the rows.
            await session.execute(
                text("UPDATE pairing_requests SET expires_at = now() WHERE id = :id"), {"id": rid}
            )
        results = await asyncio.gather(
            runtime.deadlines.fire(REQUEST_WINDOW, uuid.UUID(rid)),
            public.post(CANCEL, json={"payment_session_id": pid}, headers=customer.headers),
            respond(public, rejecter, rid, "reject"),
            respond(public, accepter, rid, "accept"),
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
