"""The payment sweeper: expire_stale_payment_sessions semantics and the loop around it."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest

from curhat.payments import idempotency, service, sweeper
from curhat.runtime import Runtime
from tests.fixtures.factories import make_customer, make_mitra
from tests.integration.test_payments_support import (
    count,
    failure_rows,
    insert_chat,
    insert_payment,
    insert_request,
    payment_row,
    settled,
    sql,
)

PAST = timedelta(seconds=-1)


async def sweep(runtime: Runtime) -> int:
    async with runtime.transaction() as session:
        return await service.expire_stale_payment_sessions(session)


async def test_sweep_moves_each_stale_state_as_drawn(runtime: Runtime) -> None:
    await settled(runtime)
    customer, mitra = await make_customer(runtime), await make_mitra(runtime)
    chat = await insert_chat(runtime, customer, mitra)
    pending = await insert_payment(runtime, customer, status="pending", expires_in=PAST)
    initial = await insert_payment(
        runtime, customer, amount=45000, duration=60, targeted=mitra.id, expires_in=PAST
    )
    free = await insert_payment(runtime, customer, free=True, duration=15, expires_in=PAST)
    extension = await insert_payment(runtime, customer, extension=True, chat_id=chat, expires_in=PAST)
    fresh_pending = await insert_payment(runtime, customer, status="pending")
    fresh_confirmed = await insert_payment(runtime, customer)
    terminal = {
        s: await insert_payment(runtime, customer, status=s, expires_in=PAST)
        for s in ("consumed", "abandoned", "voided", "expired", "failed_pairing")
    }

    assert await sweep(runtime) == 4
    assert (await payment_row(runtime, pending)).status == "expired"
    assert await failure_rows(runtime, pending) == []
    for pid, amount in ((initial, 45000), (free, 0)):
        assert (await payment_row(runtime, pid)).status == "failed_pairing"
        rows = await failure_rows(runtime, pid)
        assert [(r.cause_tag, r.amount) for r in rows] == [("payment_session_expired", amount)]
    assert (await failure_rows(runtime, initial))[0].targeted_mitra_id == mitra.id
    assert (await payment_row(runtime, extension)).status == "expired"
    assert await failure_rows(runtime, extension) == []
    assert (await payment_row(runtime, fresh_pending)).status == "pending"
    assert (await payment_row(runtime, fresh_confirmed)).status == "confirmed"
    for status, pid in terminal.items():
        assert (await payment_row(runtime, pid)).status == status
    # Idempotent: a second sweep (another instance, a retry) changes nothing.
    assert await sweep(runtime) == 0
    assert await count(runtime, "pairing_failures") == 2


async def test_sessions_in_use_are_left_to_their_own_deadline(runtime: Runtime) -> None:
    await settled(runtime)
    customer, mitra = await make_customer(runtime), await make_mitra(runtime)
    searching = await insert_payment(runtime, customer, expires_in=PAST)
    await insert_request(runtime, customer, searching)
    closed = await insert_payment(runtime, customer, expires_in=PAST)
    await insert_request(runtime, customer, closed, status="failed", cause_tag="no_mitra_available")
    chat = await insert_chat(runtime, customer, mitra)
    ext = await insert_payment(runtime, customer, extension=True, chat_id=chat, expires_in=PAST)
    await sql(
        runtime,
        "INSERT INTO extension_requests (chat_session_id, payment_session_id, duration_minutes, expires_at) "
        "VALUES (:c, :p, 30, now() + interval '10 seconds')",
        c=chat,
        p=ext,
    )
    assert await sweep(runtime) == 1
    assert (await payment_row(runtime, searching)).status == "confirmed"
    assert (await payment_row(runtime, ext)).status == "confirmed"
    # A session whose request already closed is unused again: it expires.
    assert (await payment_row(runtime, closed)).status == "failed_pairing"


async def test_sweep_once_commits_and_purges_day_old_keys(runtime: Runtime) -> None:
    await settled(runtime)
    customer = await make_customer(runtime)
    pid = await insert_payment(runtime, customer, status="pending", expires_in=PAST)
    await sql(
        runtime,
        "INSERT INTO idempotency_keys (customer_id, key, request_hash, response, status_code, created_at) VALUES "
        "(:c, 'old', 'h', '{}', 201, now() - interval '25 hours'), (:c, 'new', 'h', '{}', 201, now())",
        c=customer.id,
    )
    assert await runtime.sweeper.sweep_once() == 1
    assert (await payment_row(runtime, pid)).status == "expired"
    assert await count(runtime, "idempotency_keys") == 1


async def test_sweep_forever_keeps_going_after_an_error(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    done = asyncio.Event()

    async def flaky(session: object) -> int:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database hiccup")
        if len(calls) == 3:
            done.set()
        return 0

    monkeypatch.setattr(service, "expire_stale_payment_sessions", flaky)
    fast = sweeper.PaymentSweeper(runtime.transactions, interval=0.01)
    task = asyncio.create_task(fast.sweep_forever())
    try:
        await asyncio.wait_for(done.wait(), 10)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert len(calls) >= 3


async def test_the_runtime_runs_the_sweeper(runtime: Runtime) -> None:
    names = {t.get_name() for t in runtime._tasks}
    assert "payment-sweeper" in names


async def test_purge_keeps_fresh_keys(runtime: Runtime) -> None:
    await settled(runtime)
    customer = await make_customer(runtime)
    await sql(
        runtime,
        "INSERT INTO idempotency_keys (customer_id, key, request_hash, response, status_code) "
        "VALUES (:c, :k, 'h', '{}', 201)",
        c=customer.id,
        k=str(uuid.uuid4()),
    )
    async with runtime.transaction() as session:
        assert await idempotency.purge_expired(session) == 0
    assert await count(runtime, "idempotency_keys") == 1
