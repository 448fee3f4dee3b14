"""The runner's timers coalesce into batches, on a fixed clock with a recording handler."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from curhat.deadlines import runner as runner_module
from curhat.deadlines.runner import DeadlineKind, DeadlineRunner
from curhat.postgres import Transactions

T0 = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


class FakeTransactions:
    """Stands in for ``Transactions``: a session object nobody reads, committed by doing nothing."""

    def on_deadlines(self, sink: Any) -> None:
        pass

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[Any]:
        yield object()


class Recorder:
    def __init__(self) -> None:
        self.batches: list[list[uuid.UUID]] = []
        self.entered = asyncio.Event()
        self.release = asyncio.Event()
        self.release.set()

    async def fire(self, session: Any, ids: list[uuid.UUID]) -> int:
        self.batches.append(list(ids))
        self.entered.set()
        await self.release.wait()
        return len(ids)


async def _nothing_due(session: Any, horizon: datetime, limit: int) -> list[tuple[uuid.UUID, datetime]]:
    return []


def _runner(*kinds: tuple[str, Recorder], coalesce: float = 0.005) -> DeadlineRunner:
    runner = DeadlineRunner(
        cast(Transactions, FakeTransactions()),
        cast(Any, None),
        poll_interval=0.5,
        clock=lambda: T0,
        coalesce_seconds=coalesce,
    )
    for name, rec in kinds:
        runner.register(DeadlineKind(name, _nothing_due, rec.fire))
    return runner


def _ids(n: int) -> list[uuid.UUID]:
    return [uuid.uuid4() for _ in range(n)]


async def test_rows_due_together_fire_as_one_batch_per_kind() -> None:
    windows, chats = Recorder(), Recorder()
    runner = _runner(("window", windows), ("chat", chats))
    w_ids, c_ids = _ids(300), _ids(40)
    for i, row_id in enumerate(w_ids):
        # Due at the clock's now or already overdue: every timer runs on the same loop tick.
        runner.schedule("window", row_id, T0 - timedelta(milliseconds=i))
    for row_id in c_ids:
        runner.schedule("chat", row_id, T0)
    await runner.settle()
    assert windows.batches == [w_ids]
    assert chats.batches == [c_ids]
    assert runner.fired == 340 and runner.batches == 2


async def test_a_batch_never_exceeds_the_maximum(monkeypatch: Any) -> None:
    monkeypatch.setattr(runner_module, "MAX_BATCH", 100)
    rec = Recorder()
    runner = _runner(("window", rec))
    ids = _ids(250)
    for row_id in ids:
        runner.schedule("window", row_id, T0)
    await runner.settle()
    assert [len(b) for b in rec.batches] == [100, 100, 50]
    assert [i for b in rec.batches for i in b] == ids


async def test_rows_falling_due_while_batches_run_join_the_next_batch(monkeypatch: Any) -> None:
    monkeypatch.setattr(runner_module, "BATCH_CONCURRENCY", 2)
    rec = Recorder()
    rec.release.clear()
    runner = _runner(("window", rec), coalesce=0.0)
    waves = [_ids(5) for _ in range(4)]

    async def arm(wave: list[uuid.UUID]) -> None:
        for row_id in wave:
            runner.schedule("window", row_id, T0)
        for _ in range(5):  # let the timers and the flush run
            await asyncio.sleep(0)

    await arm(waves[0])
    await arm(waves[1])  # a second batch may run beside the first (two at most here)
    assert rec.batches == [waves[0], waves[1]]
    await arm(waves[2])
    await arm(waves[3])  # both slots busy: these two waves wait, together
    assert len(rec.batches) == 2
    rec.release.set()
    await runner.settle()
    assert rec.batches == [waves[0], waves[1], waves[2] + waves[3]]


async def test_rearming_a_row_replaces_its_timer() -> None:
    rec = Recorder()
    runner = _runner(("window", rec))
    row_id = uuid.uuid4()
    runner.schedule("window", row_id, T0 + timedelta(hours=1))
    runner.schedule("window", row_id, T0)  # an extension moved it the other way: the latest wins
    await runner.settle()
    assert rec.batches == [[row_id]]
    runner.cancel_all()
