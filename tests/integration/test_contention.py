"""Contention fails fast (issue 18): a 50-way accept race answers every loser at once with
409 ``already_taken``, and a request that cannot get a PostgreSQL connection answers 503 +
Retry-After after the short pool timeout instead of queueing for 30 s."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import httpx
from sqlalchemy import text

from curhat.app import create_public_app
from curhat.config import Settings
from curhat.runtime import Runtime
from tests.fixtures.app import RuntimeFactory, client_for
from tests.fixtures.factories import insert_mitras, make_customer, open_offered_blast, respond
from tests.invariants import assert_invariants

RACERS = 50
ROUNDS = 3


async def _end_chat(
    public: httpx.AsyncClient, answer: httpx.Response, winner_headers: dict[str, str]
) -> None:
    chat_id = answer.json()["chat_session_id"]
    ended = await public.post(f"/api/mitra/chat-sessions/{chat_id}/end", headers=winner_headers)
    assert ended.status_code == 200, ended.text


async def test_fifty_mitras_accept_at_once_one_wins_the_rest_are_told_already_taken(
    public: httpx.AsyncClient, runtime: Runtime
) -> None:
    customer = await make_customer(runtime)
    mitras = await insert_mitras(runtime, RACERS)
    for _ in range(ROUNDS):
        _, rid = await open_offered_blast(public, runtime, customer, mitras)
        answers = await asyncio.gather(*(respond(public, m, rid, "accept") for m in mitras))
        assert Counter(a.status_code for a in answers) == {200: 1, 409: RACERS - 1}, [a.text for a in answers]
        assert {a.json()["error"] for a in answers if a.status_code == 409} == {"already_taken"}
        [(winner, won)] = [(m, a) for m, a in zip(mitras, answers, strict=True) if a.status_code == 200]
        async with runtime.transaction() as session:
            row = (
                await session.execute(
                    text("SELECT status, accepted_mitra_id FROM pairing_requests WHERE id = :id"), {"id": rid}
                )
            ).one()
        assert (row.status, row.accepted_mitra_id) == ("accepted", winner.id)
        await _end_chat(public, won, winner.headers)  # the next round starts with everyone free
    async with runtime.transaction() as session:
        await assert_invariants(session)


async def test_losers_are_answered_while_the_winner_still_waits_for_the_row_lock(
    public: httpx.AsyncClient, runtime: Runtime
) -> None:
    """The payment row is held by another transaction (as a slow cancel or deadline would):
    the one accept holding the request's claim waits for it, every other accept is answered
    409 ``already_taken`` without queueing behind that lock."""
    customer = await make_customer(runtime)
    mitras = await insert_mitras(runtime, RACERS)
    pid, rid = await open_offered_blast(public, runtime, customer, mitras)
    async with runtime.db.engine.connect() as blocker:
        await blocker.execute(text("SELECT 1 FROM payment_sessions WHERE id = :id FOR UPDATE"), {"id": pid})
        tasks = [asyncio.create_task(respond(public, m, rid, "accept")) for m in mitras]
        pending: set[asyncio.Task[httpx.Response]] = set(tasks)
        deadline = time.monotonic() + 120  # generous: the machine may be loaded; normally ~1 s
        while len(pending) > 1 and time.monotonic() < deadline:
            _, pending = await asyncio.wait(pending, timeout=1, return_when=asyncio.FIRST_COMPLETED)
        assert len(pending) == 1, "every accept but one should be answered while the lock is held"
        losers = [t.result() for t in tasks if t.done()]
        assert {(a.status_code, a.json()["error"]) for a in losers} == {(409, "already_taken")}
        await blocker.rollback()  # the lock goes: the claimant proceeds and wins
    [claimant] = pending
    won = await claimant
    assert won.status_code == 200, won.text
    async with runtime.transaction() as session:
        await assert_invariants(session)


async def test_an_exhausted_request_pool_answers_503_quickly_and_background_pools_go_on(
    settings: Settings, start_runtime: RuntimeFactory
) -> None:
    assert Settings().db_pool_timeout_seconds <= 3  # the default: a short wait, not SQLAlchemy's 30 s
    small = settings.model_copy(update={"db_pool_size": 2, "db_pool_overflow": 0})
    async with start_runtime(small) as rt, client_for(create_public_app(rt), "http://public.test") as public:
        customer = await make_customer(rt)
        assert (await public.get("/api/client/chat-sessions", headers=customer.headers)).status_code == 200
        timeouts_before = _pool_timeouts(rt)
        held = [await rt.db.engine.connect() for _ in range(2)]  # every connection of the request pool
        try:
            for conn in held:
                await conn.execute(text("SELECT 1"))
            started = time.monotonic()
            r = await public.get("/api/client/chat-sessions", headers=customer.headers)
            waited = time.monotonic() - started
            assert r.status_code == 503, r.text
            assert r.json()["error"] == "service_unavailable"
            assert int(r.headers["Retry-After"]) >= 1
            assert waited < 20, f"answered after {waited:.1f} s: the pool timeout is not applied"
            assert _pool_timeouts(rt) == timeouts_before + 1
            # Deadlines and the sweeper have pools of their own: they still run.
            await rt.deadlines.poll_once()
            assert await rt.sweeper.sweep_once() == 0
        finally:
            for conn in held:
                await conn.close()
        assert (await public.get("/api/client/chat-sessions", headers=customer.headers)).status_code == 200


def _pool_timeouts(rt: Runtime) -> float:
    return rt.metrics.registry.get_sample_value("curhat_db_pool_timeouts_total") or 0.0
