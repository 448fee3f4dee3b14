"""Work queued on a database session that must happen only after it commits.

Three kinds, delivered by whoever owns the transaction once it has committed and dropped
on rollback: events to sockets, deadlines to arm (the rows already hold them; the timer
is only for latency), and callbacks (Valkey counters and the like).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from curhat.observability import events_log, log_event
from curhat.realtime.events import ServerEvent
from curhat.realtime.protocol import Envelope, Recipient

_KEY = "curhat_outbox"

AfterCommit = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class DueAt:
    """A deadline row to arm a timer for: ``kind`` as registered with the runner."""

    kind: str
    row_id: uuid.UUID
    when: datetime


@dataclass
class Outbox:
    events: list[Envelope] = field(default_factory=list)
    deadlines: list[DueAt] = field(default_factory=list)
    callbacks: list[AfterCommit] = field(default_factory=list)


def _outbox(session: AsyncSession) -> Outbox:
    box = session.info.get(_KEY)
    if box is None:
        box = session.info[_KEY] = Outbox()
    assert isinstance(box, Outbox)
    return box


def emit(session: AsyncSession, event: ServerEvent, *, to: Iterable[Recipient]) -> None:
    """Send ``event`` to ``to`` once the session commits (one frame for all of them)."""
    _outbox(session).events.append(Envelope(event, list(to)))


def schedule(session: AsyncSession, kind: str, row_id: uuid.UUID, when: datetime) -> None:
    """Arm the in-process timer of a deadline once the row that holds it has committed."""
    _outbox(session).deadlines.append(DueAt(kind, row_id, when))


def after_commit(session: AsyncSession, callback: AfterCommit) -> None:
    _outbox(session).callbacks.append(callback)


def log_after_commit(session: AsyncSession, event: str, **fields: object) -> None:
    """A business event's log line, written only once (and if) the transaction commits."""

    async def write() -> None:
        log_event(events_log, event, **fields)

    after_commit(session, write)


def pending_events(session: AsyncSession) -> list[Envelope]:
    box = session.info.get(_KEY)
    return list(box.events) if isinstance(box, Outbox) else []


def take(session: AsyncSession) -> Outbox:
    box = session.info.pop(_KEY, None)
    return box if isinstance(box, Outbox) else Outbox()
