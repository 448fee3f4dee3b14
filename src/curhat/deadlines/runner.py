"""Durable deadlines: an in-process timer for latency, a poll of due rows for crashes.

Each domain registers a ``DeadlineKind``: how to find due row ids, and a handler that
locks one row (``FOR UPDATE SKIP LOCKED``), re-checks that it is still due and open,
and makes an idempotent compare-and-set transition. So a deadline fires once in
effect however many instances (or a timer and a poll) reach it together.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from curhat.postgres import Transactions
from curhat.realtime.outbox import DueAt

log = logging.getLogger(__name__)

DueIds = Callable[[AsyncSession, int], Awaitable[list[uuid.UUID]]]
Fire = Callable[[AsyncSession, uuid.UUID], Awaitable[None]]

POLL_BATCH = 500
CONCURRENCY = 16


@dataclass(frozen=True)
class DeadlineKind:
    name: str
    due_ids: DueIds  # ids of rows due now (no locks; the handler locks)
    fire: Fire  # lock, re-check, transition; must be a no-op when not due or already done


class DeadlineRunner:
    """Owns this process's deadline timers; ``DueAt`` entries reach it from committed outboxes."""

    def __init__(
        self,
        transactions: Transactions,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        poll_interval: float,
    ) -> None:
        self._transactions = transactions
        self._sessionmaker = sessionmaker
        self._poll_interval = poll_interval
        self._kinds: dict[str, DeadlineKind] = {}
        self._timers: dict[tuple[str, uuid.UUID], asyncio.TimerHandle] = {}
        self._inflight: set[asyncio.Task[None]] = set()
        self._semaphore = asyncio.Semaphore(CONCURRENCY)
        self.fired = 0
        transactions.on_deadlines(self.schedule_many)

    def register(self, kind: DeadlineKind) -> None:
        self._kinds[kind.name] = kind

    def schedule_many(self, due: list[DueAt]) -> None:
        for entry in due:
            self.schedule(entry.kind, entry.row_id, entry.when)

    def schedule(self, kind: str, row_id: uuid.UUID, when: datetime) -> None:
        """Arm an in-process timer; re-arming the same row replaces its timer."""
        loop = asyncio.get_running_loop()
        delay = max(0.0, (when - datetime.now(UTC)).total_seconds())
        key = (kind, row_id)
        old = self._timers.pop(key, None)
        if old is not None:
            old.cancel()
        self._timers[key] = loop.call_at(loop.time() + delay, self._fire_from_timer, kind, row_id)

    def _fire_from_timer(self, kind: str, row_id: uuid.UUID) -> None:
        self._timers.pop((kind, row_id), None)
        task = asyncio.create_task(self.fire(kind, row_id))
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    async def fire(self, kind_name: str, row_id: uuid.UUID) -> None:
        kind = self._kinds.get(kind_name)
        if kind is None:
            log.error("no handler registered for deadline kind %s", kind_name)
            return
        async with self._semaphore:
            try:
                async with self._transactions() as session:
                    await kind.fire(session, row_id)
                self.fired += 1
            except Exception:
                log.exception("deadline %s %s failed; the poll will retry", kind_name, row_id)

    async def poll_once(self) -> int:
        due: list[tuple[str, uuid.UUID]] = []
        async with self._sessionmaker() as session:
            for kind in self._kinds.values():
                due.extend((kind.name, row_id) for row_id in await kind.due_ids(session, POLL_BATCH))
        if due:
            await asyncio.gather(*(self.fire(name, row_id) for name, row_id in due))
        return len(due)

    async def poll_forever(self) -> None:
        """Runs for the process's life; call ``poll_once`` first at start-up, before listening."""
        while True:
            started = time.monotonic()
            try:
                found = await self.poll_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("deadline poll failed", exc_info=True)
                found = 0
            if found < POLL_BATCH:
                await asyncio.sleep(max(0.0, self._poll_interval - (time.monotonic() - started)))

    def cancel_all(self) -> None:
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
