"""Every query on ``price_tiers``."""

from __future__ import annotations

import uuid

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from curhat.models import PriceTier

_ORDER = (PriceTier.sort_order, PriceTier.duration_minutes, PriceTier.created_at, PriceTier.id)


async def active_tiers(session: AsyncSession) -> list[PriceTier]:
    stmt = select(PriceTier).where(PriceTier.is_active.is_(True)).order_by(*_ORDER)
    return list((await session.scalars(stmt)).all())


async def all_tiers(session: AsyncSession) -> list[PriceTier]:
    return list((await session.scalars(select(PriceTier).order_by(*_ORDER))).all())


async def active_tier_by_duration(session: AsyncSession, duration_minutes: int) -> PriceTier | None:
    stmt = select(PriceTier).where(
        PriceTier.is_active.is_(True), PriceTier.duration_minutes == duration_minutes
    )
    return (await session.scalars(stmt)).one_or_none()


async def tier_by_id(session: AsyncSession, tier_id: uuid.UUID) -> PriceTier | None:
    return await session.get(PriceTier, tier_id)


async def insert_active_tier(
    session: AsyncSession, duration_minutes: int, amount: int, sort_order: int
) -> PriceTier | None:
    """None when an active tier already has this duration (the partial unique index)."""
    stmt = (
        insert(PriceTier)
        .values(
            id=uuid.uuid4(),
            duration_minutes=duration_minutes,
            amount=amount,
            sort_order=sort_order,
            is_active=True,
        )
        .on_conflict_do_nothing(index_elements=[PriceTier.duration_minutes], index_where=text("is_active"))
        .returning(PriceTier)
    )
    return (await session.scalars(stmt)).one_or_none()


async def update_tier(
    session: AsyncSession, tier_id: uuid.UUID, values: dict[str, object]
) -> PriceTier | None:
    stmt = (
        update(PriceTier)
        .where(PriceTier.id == tier_id)
        .values(**values)
        .returning(PriceTier)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(stmt)).one_or_none()
