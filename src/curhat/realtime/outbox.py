"""Events queued on a database session; the owner of the transaction sends them after commit."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from curhat.realtime.protocol import Envelope

_KEY = "curhat_outbox"


def emit(session: AsyncSession, envelope: Envelope) -> None:
    session.info.setdefault(_KEY, []).append(envelope)


def pending_events(session: AsyncSession) -> list[Envelope]:
    return list(session.info.get(_KEY, []))


def take_events(session: AsyncSession) -> list[Envelope]:
    events: list[Envelope] = session.info.pop(_KEY, [])
    return events
