from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from curhat.models import AppConfig


async def all_rows(session: AsyncSession) -> list[AppConfig]:
    return list((await session.scalars(select(AppConfig).order_by(AppConfig.key))).all())


async def set_value(
    session: AsyncSession, key: str, value: str, updated_by: uuid.UUID | None
) -> AppConfig | None:
    from sqlalchemy import func

    stmt = (
        update(AppConfig)
        .where(AppConfig.key == key)
        .values(value=value, updated_by=updated_by, updated_at=func.now())
        .returning(AppConfig)
    )
    return (await session.scalars(stmt)).one_or_none()


async def rows_with_editors(session: AsyncSession) -> list[tuple[AppConfig, str | None]]:
    """Every row with the display name of the operator who last changed it (None: never changed)."""
    from curhat.models import CCUser

    stmt = (
        select(AppConfig, CCUser.display_name)
        .outerjoin(CCUser, CCUser.id == AppConfig.updated_by)
        .order_by(AppConfig.key)
    )
    return [(row, name) for row, name in (await session.execute(stmt)).all()]
