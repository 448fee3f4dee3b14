"""Work queued on a database session that must happen only after it commits.

Events go to sockets, and after-commit callbacks (timers, Valkey counters) run, once
the transaction's owner has committed; on rollback both are dropped.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from curhat.realtime.protocol import Envelope

_EVENTS = "curhat_outbox"
_CALLBACKS = "curhat_after_commit"

AfterCommit = Callable[[], Awaitable[None]]


def emit(session: AsyncSession, envelope: Envelope) -> None:
    session.info.setdefault(_EVENTS, []).append(envelope)


def after_commit(session: AsyncSession, callback: AfterCommit) -> None:
    session.info.setdefault(_CALLBACKS, []).append(callback)


def pending_events(session: AsyncSession) -> list[Envelope]:
    return list(session.info.get(_EVENTS, []))


def take_events(session: AsyncSession) -> list[Envelope]:
    events: list[Envelope] = session.info.pop(_EVENTS, [])
    return events


def take_callbacks(session: AsyncSession) -> list[AfterCommit]:
    callbacks: list[AfterCommit] = session.info.pop(_CALLBACKS, [])
    return callbacks
