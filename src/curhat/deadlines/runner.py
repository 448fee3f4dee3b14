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
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from curhat.realtime.outbox import after_commit

if TYPE_CHECKING:
    from curhat.runtime import Runtime

log = logging.getLogger(__name__)

DueIds = Callable[[AsyncSession, int], Awaitable[list[uuid.UUID]]]
Fire = Callable[["Runtime", AsyncSession, uuid.UUID], Awaitable[None]]

POLL_BATCH = 500
CONCURRENCY = 16


@dataclass(frozen=True)
class DeadlineKind:
    name: str
    due_ids: DueIds  # ids of rows due now (no locks; the handler locks)
    fire: Fire  # lock, re-check, transition; must be a no-op when not due or already done


class DeadlineRunner:
    def __init__(self) -> None:
        self._kinds: dict[str, DeadlineKind] = {}
        self._runtime: Runtime | None = None
        self._timers: dict[tuple[str, uuid.UUID], asyncio.TimerHandle] = {}
        self._inflight: set[asyncio.Task[None]] = set()
        self._semaphore = asyncio.Semaphore(CONCURRENCY)
        self.fired = 0

    def register(self, kind: DeadlineKind) -> None:
        self._kinds[kind.name] = kind

    async def start(self, runtime: Runtime) -> None:
        self._runtime = runtime
        # Deadlines that passed while no process was running fire now, not at the next tick.
        await self.poll_once()
        runtime.spawn("deadline-poll", self._poll_forever)

    def schedule_after_commit(
        self, session: AsyncSession, kind: str, row_id: uuid.UUID, when: datetime
    ) -> None:
        async def arm() -> None:
            self.schedule(kind, row_id, when)

        after_commit(session, arm)

    def schedule(self, kind: str, row_id: uuid.UUID, when: datetime) -> None:
        """Arm an in-process timer; re-arming the same row replaces its timer."""
        if self._runtime is None:
            return
        loop = asyncio.get_running_loop()
        delay = max(0.0, (when - datetime.now(UTC)).total_seconds())
        key = (kind, row_id)
        old = self._timers.pop(key, None)
        if old is not None:
            old.cancel()
        self._timers[key] = loop.call_at(loop.time() + delay, self._fire_from_timer, kind, row_id)

    def _fire_from_timer(self, kind: str, row_id: uuid.UUID) -> None:
        self._timers.pop((kind, row_id), None)
        self._spawn_fire(kind, row_id)

    def _spawn_fire(self, kind: str, row_id: uuid.UUID) -> None:
        task = asyncio.create_task(self.fire(kind, row_id))
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    async def fire(self, kind_name: str, row_id: uuid.UUID) -> None:
        runtime = self._runtime
        kind = self._kinds.get(kind_name)
        if runtime is None or kind is None:
            return
        async with self._semaphore:
            try:
                async with runtime.transaction() as session:
                    await kind.fire(runtime, session, row_id)
                self.fired += 1
            except Exception:
                log.exception("deadline %s %s failed; the poll will retry", kind_name, row_id)

    async def poll_once(self) -> int:
        runtime = self._runtime
        if runtime is None:
            return 0
        due: list[tuple[str, uuid.UUID]] = []
        async with runtime.db.sessionmaker() as session:
            for kind in self._kinds.values():
                due.extend((kind.name, row_id) for row_id in await kind.due_ids(session, POLL_BATCH))
        if due:
            await asyncio.gather(*(self.fire(name, row_id) for name, row_id in due))
        return len(due)

    async def _poll_forever(self) -> None:
        assert self._runtime is not None
        interval = self._runtime.settings.deadline_poll_interval_seconds
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
                await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))

    def cancel_all(self) -> None:
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
