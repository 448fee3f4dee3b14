"""Engine, sessions, and the one place where a request's transaction commits."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import event
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry

from curhat.realtime.outbox import pending_events, take_callbacks, take_events
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


class Database:
    def __init__(
        self, url: str, *, pool_size: int = 10, on_pool_wait: PoolWaitObserver | None = None
    ) -> None:
        self.url = url
        self.engine: AsyncEngine = create_async_engine(
            url,
            poolclass=_observed_pool(on_pool_wait or (lambda seconds, timed_out: None)),
            pool_size=pool_size,
            max_overflow=pool_size * 2,
            pool_recycle=1800,
            connect_args={"server_settings": {"application_name": "curhat"}},
        )
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        # Counted for the "no PostgreSQL on the availability path" proof.
        self.statements = 0
        event.listen(self.engine.sync_engine, "before_cursor_execute", self._count)

    def _count(self, *args: Any) -> None:
        self.statements += 1

    @asynccontextmanager
    async def transaction(self, publish: Publish) -> AsyncIterator[AsyncSession]:
        """Commit on success, roll back on error; queued events leave only after commit."""
        async with self.sessionmaker() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                take_events(session)
                take_callbacks(session)
                raise
            events = take_events(session)
            callbacks = take_callbacks(session)
        if events:
            await publish(events)
        for callback in callbacks:
            try:
                await callback()
            except Exception:
                # The commit stands; sweeps and rebuilds repair what a callback missed.
                log.warning("after-commit callback failed", exc_info=True)

    async def dispose(self) -> None:
        await self.engine.dispose()


async def get_db_session(request: Request) -> AsyncIterator[AsyncSession]:
    runtime = request.app.state.runtime
    async with runtime.transaction() as session:
        yield session


# scope="function": the commit happens before the response is sent, not after.
SessionDep = Annotated[AsyncSession, Depends(get_db_session, scope="function")]

__all__ = ["Database", "SessionDep", "get_db_session", "pending_events"]
