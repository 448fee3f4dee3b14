from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from curhat.kit.sql import any_of
from curhat.models import ExtensionRequest, PaymentSession
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
        # Locked reads refresh a row this session may have read before taking the lock.
        stmt = stmt.with_for_update(skip_locked=skip_locked).execution_options(populate_existing=True)
    return (await session.scalars(stmt)).one_or_none()


async def resolve(
    session: AsyncSession, ext: ExtensionRequest, status: ExtensionStatus, resolution: Resolution
) -> None:
    ext.status = status
    ext.resolution = resolution
    ext.resolved_at = datetime.now(UTC)
    await session.flush()


async def due_answers(
    session: AsyncSession, horizon: datetime, limit: int
) -> list[tuple[uuid.UUID, datetime]]:
    stmt = (
        select(ExtensionRequest.id, ExtensionRequest.expires_at)
        .where(ExtensionRequest.status == "pending", ExtensionRequest.expires_at <= horizon)
        .order_by(ExtensionRequest.expires_at)
        .limit(limit)
    )
    return [(row_id, when) for row_id, when in (await session.execute(stmt)).all()]


async def lock_due(session: AsyncSession, ids: list[uuid.UUID], now: datetime) -> list[ExtensionRequest]:
    """The requests of ``ids`` still pending and due, each locked after its payment (the lock
    order), both with SKIP LOCKED: a row someone holds is left for the next poll."""
    payments = (
        select(PaymentSession.id)
        .join(ExtensionRequest, ExtensionRequest.payment_session_id == PaymentSession.id)
        .where(
            any_of(ExtensionRequest.id, ids),
            ExtensionRequest.status == "pending",
            ExtensionRequest.expires_at <= now,
        )
        .with_for_update(of=PaymentSession, skip_locked=True)
    )
    payment_ids = list((await session.scalars(payments)).all())
    if not payment_ids:
        return []
    stmt = (
        select(ExtensionRequest)
        .where(
            any_of(ExtensionRequest.id, ids),
            any_of(ExtensionRequest.payment_session_id, payment_ids),
            ExtensionRequest.status == "pending",
            ExtensionRequest.expires_at <= now,
        )
        .order_by(ExtensionRequest.id)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    return list((await session.scalars(stmt)).all())
