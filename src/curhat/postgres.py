"""Engine, sessions, and the one place where a request's transaction commits."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Annotated, Any

import asyncpg
from fastapi import Depends, Request
from sqlalchemy import event
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry

from curhat.errors import ServiceUnavailable
from curhat.realtime.outbox import DueAt, Outbox, pending_events, take
from curhat.realtime.protocol import Envelope

log = logging.getLogger(__name__)

Publish = Callable[[list[Envelope]], Awaitable[None]]
# (seconds spent getting a pooled connection, whether it timed out)
PoolWaitObserver = Callable[[float, bool], None]


def _observed_pool(observe: PoolWaitObserver) -> type[AsyncAdaptedQueuePool]:
    """The async queue pool, timing every checkout, so pool exhaustion shows on /metrics.

    A class per engine (``recreate`` keeps the class), so the observer is not global.
    """

    class ObservedPool(AsyncAdaptedQueuePool):
        # SQLAlchemy names a pool's logger after its class: keep it SQLAlchemy's (quiet at INFO).
        _sqla_logger_namespace = "sqlalchemy.pool.impl.AsyncAdaptedQueuePool"

        def _do_get(self) -> ConnectionPoolEntry:
            start = time.perf_counter()
            timed_out = False
            try:
                return super()._do_get()
            except PoolTimeout:
                timed_out = True
                raise
            finally:
                observe(time.perf_counter() - start, timed_out)

    return ObservedPool


class DatabaseBusy(ServiceUnavailable):
    """Every pooled connection stayed busy for the pool's timeout (``CURHAT_DB_POOL_TIMEOUT_SECONDS``)."""

    message = "Server sedang sibuk; coba lagi sebentar lagi."

    def __init__(self) -> None:
        super().__init__()
        self.headers = {"Retry-After": "1"}


Deliver = Callable[[Outbox], Awaitable[None]]
DeadlineSink = Callable[[list[DueAt]], None]


class Database:
    """One engine and its bounded pool. A process has one per use (requests, deadlines,
    sweeper; see ``runtime``), so a burst in one cannot take the others' connections."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        max_overflow: int | None = None,
        pool_timeout: float = 30.0,
        name: str = "curhat",
        on_pool_wait: PoolWaitObserver | None = None,
    ) -> None:
        self.url = url
        self.engine: AsyncEngine = create_async_engine(
            url,
            poolclass=_observed_pool(on_pool_wait or (lambda seconds, timed_out: None)),
            pool_size=pool_size,
            max_overflow=pool_size * 2 if max_overflow is None else max_overflow,
            pool_timeout=pool_timeout,
            pool_recycle=1800,
            connect_args={"server_settings": {"application_name": name}},
        )
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        # Counted for the "no PostgreSQL on the availability path" proof.
        self.statements = 0
        event.listen(self.engine.sync_engine, "before_cursor_execute", self._count)

    def _count(self, *args: Any) -> None:
        self.statements += 1

    @asynccontextmanager
    async def transaction(self, deliver: Deliver) -> AsyncIterator[AsyncSession]:
        """Commit on success, roll back on error; the session's outbox is delivered only after commit."""
        async with self.sessionmaker() as session:
            try:
                yield session
                await session.commit()
            except PoolTimeout as exc:
                # No connection within the pool's timeout: a short, answered 503, not a queue.
                await session.rollback()
                take(session)
                raise DatabaseBusy() from exc
            except BaseException:
                await session.rollback()
                take(session)
                raise
            box = take(session)
        await deliver(box)

    async def dispose(self) -> None:
        await self.engine.dispose()


class Transactions:
    """Opens transactions whose outbox goes out after commit: events to the bus, deadlines to
    whoever subscribed (the deadline runner), then the callbacks."""

    def __init__(self, db: Database, publish: Publish) -> None:
        self._db = db
        self._publish = publish
        self._deadline_sinks: list[DeadlineSink] = []
        self._taps: list[Callable[[list[Envelope]], None]] = []

    def using(self, db: Database) -> Transactions:
        """The same delivery (bus, deadline sinks, taps) over another pool: background work
        gets its own bounded pool but its outbox goes where every other transaction's goes."""
        other = Transactions(db, self._publish)
        other._deadline_sinks = self._deadline_sinks
        other._taps = self._taps
        return other

    def on_deadlines(self, sink: DeadlineSink) -> None:
        self._deadline_sinks.append(sink)

    def tap(self, listener: Callable[[list[Envelope]], None]) -> Callable[[], None]:
        """See every committed transaction's events as they are published (the business-event
        log, tests); a listener must not raise. Returns an undo."""
        self._taps.append(listener)
        return lambda: self._taps.remove(listener)

    def __call__(self) -> AbstractAsyncContextManager[AsyncSession]:
        return self._db.transaction(self._deliver)

    @asynccontextmanager
    async def autocommit(self) -> AsyncIterator[tuple[asyncpg.Connection, Outbox]]:
        """A pooled connection's asyncpg driver, each statement committing on its own, and an
        outbox delivered once the block has finished without error.

        Only for work that is a single self-checking statement on the hottest path (a chat
        message): no ORM session, no BEGIN/COMMIT round trips, no SQLAlchemy layer per call.
        """
        box = Outbox()
        try:
            async with self._db.engine.connect() as conn:
                raw = await conn.get_raw_connection()
                driver: asyncpg.Connection = raw.driver_connection
                yield driver, box
        except PoolTimeout as exc:
            raise DatabaseBusy() from exc
        await self._deliver(box)

    async def _deliver(self, box: Outbox) -> None:
        if box.deadlines:
            for sink in self._deadline_sinks:
                sink(box.deadlines)
        # Callbacks before events: a client told "chat ended" that asks at once must already
        # see what the callbacks derive from the commit (a mitra's session count, presence).
        for callback in box.callbacks:
            try:
                await callback()
            except Exception:
                # The commit stands; sweeps and rebuilds repair what a callback missed.
                log.warning("after-commit callback failed", exc_info=True)
        if box.events:
            for listener in self._taps:
                listener(box.events)
            await self._publish(box.events)


async def get_db_session(request: Request) -> AsyncIterator[AsyncSession]:
    transactions: Transactions = request.app.state.transactions
    async with transactions() as session:
        yield session


# scope="function": the commit happens before the response is sent, not after.
SessionDep = Annotated[AsyncSession, Depends(get_db_session, scope="function")]

__all__ = ["Database", "DatabaseBusy", "SessionDep", "Transactions", "get_db_session", "pending_events"]
