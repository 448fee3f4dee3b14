"""Every query on mitra accounts made for the control center."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from curhat.kit.pagination import Page
from curhat.models import ChatSession, Mitra


async def list_mitras(session: AsyncSession, page: Page) -> tuple[list[Mitra], int]:
    """Newest first."""
    total = await session.scalar(select(func.count()).select_from(Mitra))
    stmt = (
        select(Mitra).order_by(Mitra.created_at.desc(), Mitra.id.desc()).limit(page.limit).offset(page.offset)
    )
    return list((await session.scalars(stmt)).all()), int(total or 0)


async def get_for_update(session: AsyncSession, mitra_id: uuid.UUID) -> Mitra | None:
    stmt = select(Mitra).where(Mitra.id == mitra_id).with_for_update()
    return (await session.scalars(stmt)).one_or_none()


async def get(session: AsyncSession, mitra_id: uuid.UUID) -> Mitra | None:
    return await session.get(Mitra, mitra_id)


async def chat_figures(
    session: AsyncSession, mitra_id: uuid.UUID, since: datetime, now: datetime
) -> tuple[int, int]:
    """Chats this mitra started in ``[since, now]`` and the seconds spent in them up to ``now``."""
    # A running chat counts up to now, an ended one up to when it ended.
    until = func.coalesce(ChatSession.ended_at, func.least(ChatSession.ends_at, now))
    seconds = func.greatest(func.extract("epoch", until - ChatSession.started_at), 0)
    stmt = select(func.count(), func.coalesce(func.sum(seconds), 0)).where(
        ChatSession.mitra_id == mitra_id,
        ChatSession.started_at >= since,
        ChatSession.started_at <= now,
    )
    count, total = (await session.execute(stmt)).one()
    return int(count), int(total)
