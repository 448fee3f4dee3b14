"""Durable deadlines, fired in set-based batches: in-process timers for latency, a poll for crashes.

Each domain registers a ``DeadlineKind``: how to find the rows due up to a moment, and a
batch handler that transitions, in one transaction and a few statements, every row of a
set that is still due and open. Handlers lock in the project's order (payment → pairing or
extension request → chat → mitra) and with ``SKIP LOCKED``, so they never wait on a busy
row (the next poll retries it) and a deadline fires once in effect however many instances,
timers and polls reach it together.

Timers coalesce: rows that fall due within ``COALESCE_SECONDS`` of each other — or while a
batch of their kind is still running — go into one batch. The poll fires what is already
due and arms timers for what falls due before the next poll, so a row written by another
instance (or before a crash) still fires on time, not up to a poll interval late.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from curhat.postgres import DatabaseBusy, Transactions
from curhat.realtime.outbox import DueAt

log = logging.getLogger(__name__)

# (row id, when it falls due) of rows due at or before the horizon, soonest first.
DueRows = Callable[[AsyncSession, datetime, int], Awaitable[list[tuple[uuid.UUID, datetime]]]]
# Transition the rows of the set that are still due and open; how many it transitioned.
FireBatch = Callable[[AsyncSession, list[uuid.UUID]], Awaitable[int]]
Clock = Callable[[], datetime]

POLL_BATCH = 20_000  # rows per kind per poll (due now plus due before the next poll)
MAX_BATCH = 1_000  # ids per batch transaction
BATCH_CONCURRENCY = 2  # batches in flight per kind (each holds one pooled connection)
COALESCE_SECONDS = 0.005


@dataclass(frozen=True)
class DeadlineKind:
    name: str
    due: DueRows  # no locks: the batch handler locks and re-checks
    fire: FireBatch  # must be a no-op for rows not due, already done, or locked by someone else


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _unreachable(exc: Exception) -> bool:
    """The database is down or the pool is exhausted: splitting the batch would not help."""
    return isinstance(exc, OSError | PoolTimeout | DatabaseBusy) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    )


class DeadlineRunner:
    """Owns this process's deadline timers; ``DueAt`` entries reach it from committed outboxes."""

    def __init__(
        self,
        transactions: Transactions,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        poll_interval: float,
        clock: Clock = _utcnow,
        coalesce_seconds: float = COALESCE_SECONDS,
        max_batches: int = 3,
    ) -> None:
        """``max_batches``: batch transactions in flight at once over all kinds — below the
        runner's pool size, so the poll always finds a connection."""
        self._transactions = transactions
        self._sessionmaker = sessionmaker
        self._poll_interval = poll_interval
        self._clock = clock
        self._coalesce = coalesce_seconds
        self._kinds: dict[str, DeadlineKind] = {}
        self._timers: dict[tuple[str, uuid.UUID], tuple[datetime, asyncio.TimerHandle]] = {}
        self._pending: dict[str, dict[uuid.UUID, None]] = {}  # insertion-ordered sets per kind
        self._firing: dict[str, set[uuid.UUID]] = {}  # ids in a batch running now, per kind
        self._running: dict[str, int] = {}
        self._flush_handle: asyncio.Handle | None = None
        self._inflight: set[asyncio.Task[int]] = set()
        self._connections = asyncio.Semaphore(max_batches)
        self.fired = 0  # rows transitioned by this process
        self.batches = 0  # batch transactions committed by this process
        transactions.on_deadlines(self.schedule_many)

    def register(self, kind: DeadlineKind) -> None:
        self._kinds[kind.name] = kind

    # -- timers -------------------------------------------------------------------------------

    def schedule_many(self, due: list[DueAt]) -> None:
        for entry in due:
            self.schedule(entry.kind, entry.row_id, entry.when)

    def schedule(self, kind: str, row_id: uuid.UUID, when: datetime) -> None:
        """Arm an in-process timer; re-arming the same row replaces its timer."""
        key = (kind, row_id)
        old = self._timers.pop(key, None)
        if old is not None:
            if old[0] == when:  # the poll re-arming what is already armed
                self._timers[key] = old
                return
            old[1].cancel()
        loop = asyncio.get_running_loop()
        delay = max(0.0, (when - self._clock()).total_seconds())
        self._timers[key] = (when, loop.call_at(loop.time() + delay, self._timer_due, kind, row_id))

    def _timer_due(self, kind: str, row_id: uuid.UUID) -> None:
        self._timers.pop((kind, row_id), None)
        # Even while a batch holding this row runs: the row may have been re-armed for later.
        self._enqueue(kind, [row_id], skip_firing=False)

    def _enqueue(self, kind: str, ids: list[uuid.UUID], *, skip_firing: bool) -> None:
        pending = self._pending.setdefault(kind, {})
        firing = self._firing.get(kind, ()) if skip_firing else ()
        for row_id in ids:
            if row_id not in firing:
                pending[row_id] = None
        if self._flush_handle is None:
            # Wait a few ms for the timers falling due right after this one: one batch for all.
            self._flush_handle = asyncio.get_running_loop().call_later(self._coalesce, self._flush)

    def _flush(self) -> None:
        self._flush_handle = None
        for name, pending in self._pending.items():
            # While BATCH_CONCURRENCY batches run, what falls due waits and joins the next one.
            while pending and self._running.get(name, 0) < BATCH_CONCURRENCY:
                ids = list(pending)[:MAX_BATCH]
                for row_id in ids:
                    del pending[row_id]
                self._firing.setdefault(name, set()).update(ids)
                self._running[name] = self._running.get(name, 0) + 1
                task = asyncio.create_task(self._timer_batch(name, ids))
                self._inflight.add(task)
                task.add_done_callback(self._inflight.discard)

    async def _timer_batch(self, name: str, ids: list[uuid.UUID]) -> int:
        try:
            return await self.fire_batch(name, ids)
        finally:
            self._running[name] -= 1
            self._firing[name].difference_update(ids)
            if self._pending.get(name) and self._flush_handle is None:
                self._flush_handle = asyncio.get_running_loop().call_soon(self._flush)

    async def settle(self) -> None:
        """Wait until every timer that has fallen due has fired (tests; a graceful stop)."""
        loop = asyncio.get_running_loop()
        while True:
            if self._inflight:
                await asyncio.gather(*self._inflight, return_exceptions=True)
            elif (
                self._flush_handle is not None
                or any(self._pending.values())
                or any(h.when() <= loop.time() for _, h in self._timers.values())
            ):
                await asyncio.sleep(self._coalesce)
            else:
                return

    # -- firing -------------------------------------------------------------------------------

    async def fire(self, kind_name: str, row_id: uuid.UUID) -> None:
        await self.fire_batch(kind_name, [row_id])

    async def fire_batch(self, kind_name: str, ids: list[uuid.UUID]) -> int:
        """Fire a set of rows of one kind, MAX_BATCH per transaction; how many transitioned."""
        kind = self._kinds.get(kind_name)
        if kind is None:
            log.error("no handler registered for deadline kind %s", kind_name)
            return 0
        fired = 0
        for start in range(0, len(ids), MAX_BATCH):
            fired += await self._fire_chunk(kind, ids[start : start + MAX_BATCH])
        return fired

    async def _fire_chunk(self, kind: DeadlineKind, ids: list[uuid.UUID]) -> int:
        try:
            async with self._connections, self._transactions() as session:
                fired = await kind.fire(session, ids)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if len(ids) == 1 or _unreachable(exc):
                log.exception("deadline %s: %d rows failed; the poll will retry", kind.name, len(ids))
                return 0
            # One bad row must not hold back the others: halve until it stands alone.
            log.warning("deadline %s: a batch of %d failed; splitting it", kind.name, len(ids), exc_info=True)
            half = len(ids) // 2
            return await self._fire_chunk(kind, ids[:half]) + await self._fire_chunk(kind, ids[half:])
        self.fired += fired
        self.batches += 1
        return fired

    # -- the poll -----------------------------------------------------------------------------

    async def poll_once(self, *, wait: bool = True) -> int:
        """Fire what is due now (through the same batches as the timers, so a row already in one
        is not fired twice here), and wait for it unless ``wait`` is false; arm timers for what
        falls due before the next poll. Returns how many rows it found."""
        now = self._clock()
        horizon = now + timedelta(seconds=self._poll_interval * 1.5)
        found: dict[str, list[tuple[uuid.UUID, datetime]]] = {}
        async with self._sessionmaker() as session:
            for kind in self._kinds.values():
                found[kind.name] = await kind.due(session, horizon, POLL_BATCH)
        for name, rows in found.items():
            ids = [row_id for row_id, when in rows if when <= now]
            for row_id, when in rows:
                if when > now:
                    self.schedule(name, row_id, when)
            if ids:
                self._enqueue(name, ids, skip_firing=True)
        if wait:
            await self.settle()
        return max((len(rows) for rows in found.values()), default=0)

    async def poll_forever(self) -> None:
        """Runs for the process's life; call ``poll_once`` first at start-up, before listening."""
        while True:
            started = time.monotonic()
            try:
                # Not waiting for the batches: the next poll must arm the next timers on time.
                # What it found is queued here, so polling again sooner would find the same rows.
                await self.poll_once(wait=False)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("deadline poll failed", exc_info=True)
            await asyncio.sleep(max(0.0, self._poll_interval - (time.monotonic() - started)))

    def cancel_all(self) -> None:
        for _, handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        self._pending.clear()
