from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from curhat.models import ExtensionRequest
from curhat.models.enums import ExtensionStatus, Resolution


async def insert(
    session: AsyncSession, *, chat_id: uuid.UUID, payment_id: uuid.UUID, minutes: int, expires_at: datetime
) -> ExtensionRequest:
    ext = ExtensionRequest(
        id=uuid.uuid4(),
        chat_session_id=chat_id,
        payment_session_id=payment_id,
        duration_minutes=minutes,
        status="pending",
        created_at=datetime.now(UTC),
        expires_at=expires_at,
    )
    session.add(ext)
    await session.flush()
    return ext


async def get(
    session: AsyncSession, ext_id: uuid.UUID, *, for_update: bool = False, skip_locked: bool = False
) -> ExtensionRequest | None:
    stmt = select(ExtensionRequest).where(ExtensionRequest.id == ext_id)
    if for_update:
        stmt = stmt.with_for_update(skip_locked=skip_locked)
    return (await session.scalars(stmt)).one_or_none()


async def resolve(
    session: AsyncSession, ext: ExtensionRequest, status: ExtensionStatus, resolution: Resolution
) -> None:
    ext.status = status
    ext.resolution = resolution
    ext.resolved_at = datetime.now(UTC)
    await session.flush()


async def due(session: AsyncSession, limit: int) -> list[uuid.UUID]:
    stmt = (
        select(ExtensionRequest.id)
        .where(ExtensionRequest.status == "pending", ExtensionRequest.expires_at <= func.now())
        .order_by(ExtensionRequest.expires_at)
        .limit(limit)
    )
    return list((await session.scalars(stmt)).all())
