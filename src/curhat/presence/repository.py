"""The one PostgreSQL query presence needs: active sessions per mitra, to rebuild its counters."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from curhat.models import ChatSession


async def active_session_counts(session: AsyncSession) -> dict[uuid.UUID, int]:
    """``SELECT mitra_id, count(*) FROM chat_sessions WHERE status = 'active' GROUP BY mitra_id``."""
    stmt = (
        select(ChatSession.mitra_id, func.count())
        .where(ChatSession.status == "active")
        .group_by(ChatSession.mitra_id)
    )
    return {mitra_id: int(n) for mitra_id, n in (await session.execute(stmt)).all()}
