"""Every query on mitra accounts made for the control center."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from curhat.internal.schemas import Page
from curhat.models import Mitra


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
