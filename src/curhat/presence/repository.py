"""The PostgreSQL reads presence needs: active sessions per mitra, to set and rebuild its counters."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from curhat.kit.sql import any_of
from curhat.models import ChatSession


async def active_session_counts(session: AsyncSession) -> dict[uuid.UUID, int]:
    """``SELECT mitra_id, count(*) FROM chat_sessions WHERE status = 'active' GROUP BY mitra_id``."""
    stmt = (
        select(ChatSession.mitra_id, func.count())
        .where(ChatSession.status == "active")
        .group_by(ChatSession.mitra_id)
    )
    return {mitra_id: int(n) for mitra_id, n in (await session.execute(stmt)).all()}


async def active_session_counts_of(session: AsyncSession, mitra_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Active sessions of each of ``mitra_ids`` (0 for those with none), in one query."""
    stmt = (
        select(ChatSession.mitra_id, func.count())
        .where(any_of(ChatSession.mitra_id, mitra_ids), ChatSession.status == "active")
        .group_by(ChatSession.mitra_id)
    )
    counts = dict.fromkeys(mitra_ids, 0)
    counts.update({mitra_id: int(n) for mitra_id, n in (await session.execute(stmt)).all()})
    return counts


async def active_session_count(session: AsyncSession, mitra_id: uuid.UUID) -> int:
    stmt = select(func.count()).where(ChatSession.mitra_id == mitra_id, ChatSession.status == "active")
    return int((await session.execute(stmt)).scalar_one())


class ActiveSessions:
    """Counts read in a fresh session of their own, so they see what has just committed."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker

    async def all(self) -> dict[uuid.UUID, int]:
        async with self._sessionmaker() as session:
            return await active_session_counts(session)

    async def for_mitras(self, mitra_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
        async with self._sessionmaker() as session:
            return await active_session_counts_of(session, mitra_ids)

    async def for_mitra(self, mitra_id: uuid.UUID) -> int:
        async with self._sessionmaker() as session:
            return await active_session_count(session, mitra_id)
