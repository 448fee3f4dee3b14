"""Set-based deadlines on the real database: many batches from two runners (two instances, in
effect), over the same few hundred due rows at once — every row transitions exactly once, with
exactly one event of each kind per row, and data.md's invariants hold."""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, text

from curhat.chat import repository as chat_repository
from curhat.chat import service as chat_service
from curhat.deadlines.runner import DeadlineKind, DeadlineRunner
from curhat.models import ChatSession, Mitra, PairingOffer, PairingRequest, PaymentSession, User
from curhat.pairing import repository as pairing_repository
from curhat.pairing import service as pairing_service
from curhat.postgres import Transactions
from curhat.realtime import events
from curhat.realtime.protocol import Envelope
from curhat.runtime import Runtime
from tests.invariants import assert_invariants

N = 300


async def _people(runtime: Runtime, customers: int, mitras: int) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    """Inserted directly: no argon2 per row (these never log in)."""
    users = [
        {
            "id": uuid.uuid4(),
            "phone": f"+62899{uuid.uuid4().int % 10**9:09d}",
            "display_name": "P",
            "password_hash": "-",
        }
        for _ in range(customers)
    ]
    bestie = [
        {
            "id": uuid.uuid4(),
            "phone": f"+62898{uuid.uuid4().int % 10**9:09d}",
            "display_name": "B",
            "password_hash": "-",
        }
        for _ in range(mitras)
    ]
    async with runtime.transaction() as session:
        await session.execute(insert(User), users)
        await session.execute(insert(Mitra), bestie)
    return [u["id"] for u in users], [m["id"] for m in bestie]


def _second_runner(runtime: Runtime, seen: list[Envelope]) -> DeadlineRunner:
    """Another instance's runner: its own transactions and timers over the same database."""
    transactions = Transactions(runtime.db, runtime.publish)
    transactions.tap(seen.extend)
    runner = DeadlineRunner(transactions, runtime.db.sessionmaker, poll_interval=0.5)

    async def windows(session, ids):  # type: ignore[no-untyped-def]
        return await pairing_service.fire_request_windows(session, runtime.presence, ids)

    async def ends(session, ids):  # type: ignore[no-untyped-def]
        return await chat_service.fire_chat_ends(session, runtime.presence, ids)

    runner.register(DeadlineKind(pairing_service.REQUEST_WINDOW, pairing_repository.due_windows, windows))
    runner.register(DeadlineKind(chat_service.CHAT_END, chat_repository.due_ends, ends))
    return runner


def _chunks(ids: list[uuid.UUID], size: int, seed: int) -> list[list[uuid.UUID]]:
    shuffled = random.Random(seed).sample(ids, len(ids))
    return [shuffled[i : i + size] for i in range(0, len(shuffled), size)]


async def _race(runtime: Runtime, other: DeadlineRunner, kind: str, ids: list[uuid.UUID]) -> None:
    """Both runners' timers, both polls and overlapping hand-made batches, all at once."""
    now = datetime.now(UTC)
    for runner in (runtime.deadlines, other):
        for row_id in ids:
            runner.schedule(kind, row_id, now)
    await asyncio.gather(
        runtime.deadlines.poll_once(),
        other.poll_once(),
        *(runtime.deadlines.fire_batch(kind, chunk) for chunk in _chunks(ids, 37, seed=1)),
        *(other.fire_batch(kind, chunk) for chunk in _chunks(ids, 64, seed=2)),
        runtime.deadlines.settle(),
        other.settle(),
    )


async def test_two_runners_fire_the_same_due_windows_each_exactly_once(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="curhat.events")
    customers, mitras = await _people(runtime, N, 3)
    now = datetime.now(UTC)
    payments = [
        {
            "id": uuid.uuid4(),
            "customer_id": c,
            "amount": 25000,
            "duration_minutes": 30,
            "status": "confirmed",
            "confirmed_at": now,
            "expires_at": now + timedelta(hours=1),
            "targeted_mitra_id": mitras[0] if i % 3 == 0 else None,
        }
        for i, c in enumerate(customers)
    ]
    requests = [
        {
            "id": uuid.uuid4(),
            "payment_session_id": p["id"],
            "customer_id": p["customer_id"],
            "request_type": "returning" if p["targeted_mitra_id"] else "blast",
            "targeted_mitra_id": p["targeted_mitra_id"],
            "status": "open",
            "created_at": now - timedelta(seconds=60),
            # Over a second overdue: each batch says so in one log line, not one per row.
            "expires_at": now - timedelta(seconds=2, milliseconds=i),
        }
        for i, p in enumerate(payments)
    ]
    # Every blast offered to two mitras, one of whom already said no; returning: to its mitra.
    offers = [
        {"pairing_request_id": r["id"], "mitra_id": m, "response": "rejected" if m == mitras[2] else None}
        for r in requests
        for m in ([r["targeted_mitra_id"]] if r["targeted_mitra_id"] else [mitras[1], mitras[2]])
    ]
    async with runtime.transaction() as session:
        await session.execute(insert(PaymentSession), payments)
        await session.execute(insert(PairingRequest), requests)
        await session.execute(insert(PairingOffer), offers)
    ids = [r["id"] for r in requests]
    returning = {r["id"] for r in requests if r["request_type"] == "returning"}

    seen: list[Envelope] = []
    undo = runtime.transactions.tap(seen.extend)
    other = _second_runner(runtime, seen)
    fired_before, batches_before = runtime.deadlines.fired, runtime.deadlines.batches
    try:
        await _race(runtime, other, pairing_service.REQUEST_WINDOW, ids)
    finally:
        undo()
        other.cancel_all()

    assert runtime.deadlines.fired - fired_before + other.fired == N
    late = [r for r in caplog.records if r.getMessage() == "deadline.late"]
    assert 1 <= len(late) <= runtime.deadlines.batches - batches_before + other.batches < N
    async with runtime.transaction() as session:
        rows = (
            await session.execute(
                text(
                    "SELECT r.id, r.status, r.cause_tag, p.status AS payment, f.cause_tag AS failure"
                    " FROM pairing_requests r JOIN payment_sessions p ON p.id = r.payment_session_id"
                    " LEFT JOIN pairing_failures f ON f.payment_session_id = p.id WHERE r.id = ANY(:ids)"
                ),
                {"ids": ids},
            )
        ).all()
        await assert_invariants(session)
    assert len(rows) == N  # one failure row per payment at most (the join would duplicate)
    for row in rows:
        cause = "targeted_mitra_timeout" if row.id in returning else "no_mitra_available"
        assert (row.status, row.cause_tag, row.payment, row.failure) == (
            "failed",
            cause,
            "failed_pairing",
            cause,
        )

    def count(kind: type[events.ServerEvent]) -> Counter[uuid.UUID]:
        return Counter(
            e.event.pairing_request_id  # type: ignore[attr-defined]
            for e in seen
            if isinstance(e.event, kind) and e.event.pairing_request_id in set(ids)  # type: ignore[attr-defined]
        )

    assert count(events.PairingFailed) == Counter(ids)
    assert count(events.ReturningChatTimeout) == Counter(returning)
    assert count(events.PairingRequestClosed) == Counter(ids)
    closed = [e for e in seen if isinstance(e.event, events.PairingRequestClosed)]
    # Only the mitras who had not answered are told the window closed.
    assert {r.id for e in closed for r in e.recipients} <= {mitras[0], mitras[1]}
    assert all(e.event.reason == "expired" for e in closed)  # type: ignore[attr-defined]


async def test_two_runners_end_the_same_due_chats_each_exactly_once(runtime: Runtime) -> None:
    customers, mitras = await _people(runtime, N, N // 3)
    now = datetime.now(UTC)
    payments = [
        {
            "id": uuid.uuid4(),
            "customer_id": c,
            "amount": 25000,
            "duration_minutes": 30,
            "status": "consumed",
            "confirmed_at": now - timedelta(minutes=31),
            "consumed_at": now - timedelta(minutes=30),
            "expires_at": now + timedelta(hours=1),
        }
        for c in customers
    ]
    chats = [
        {
            "id": uuid.uuid4(),
            "customer_id": p["customer_id"],
            "mitra_id": mitras[i % len(mitras)],
            "payment_session_id": p["id"],
            "duration_minutes": 30,
            "started_at": now - timedelta(minutes=30),
            "ends_at": now - timedelta(milliseconds=i),
        }
        for i, p in enumerate(payments)
    ]
    async with runtime.transaction() as session:
        await session.execute(insert(PaymentSession), payments)
        await session.execute(insert(ChatSession), chats)
    ids = [c["id"] for c in chats]
    for m in mitras[:3]:
        await runtime.presence.set_active_count(m, 3)

    seen: list[Envelope] = []
    undo = runtime.transactions.tap(seen.extend)
    other = _second_runner(runtime, seen)
    try:
        await _race(runtime, other, chat_service.CHAT_END, ids)
    finally:
        undo()
        other.cancel_all()

    async with runtime.transaction() as session:
        ended = Counter(
            (
                await session.execute(
                    text("SELECT status || ':' || end_reason FROM chat_sessions WHERE id = ANY(:ids)"),
                    {"ids": ids},
                )
            ).scalars()
        )
        await assert_invariants(session)
    assert ended == {"ended:time_up": N}
    ends = [e for e in seen if isinstance(e.event, events.ChatSessionEnded)]
    assert Counter(e.event.chat_session_id for e in ends) == Counter(ids)  # type: ignore[attr-defined]
    assert all(len(e.recipients) == 2 for e in ends)
    # Each batch resynced its mitras' counters from PostgreSQL after its commit. Two batches
    # ending chats of one mitra at once can leave the counter one behind (each reads, then
    # sets); the next resync of that mitra, at its next chat start or end, corrects it.
    for m in mitras[:3]:
        assert await runtime.presence.active_count(m) < 3
    await runtime.presence.resync_active_counts(mitras[:3])
    for m in mitras[:3]:
        assert await runtime.presence.active_count(m) == 0
