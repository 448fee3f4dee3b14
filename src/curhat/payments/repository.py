"""Every query on ``payment_sessions`` (and the reads the payment rules need from others)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, String, Uuid, bindparam, exists, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession

from curhat.models import ChatSession, ExtensionRequest, PairingRequest, PaymentSession


async def insert_session(session: AsyncSession, **values: Any) -> PaymentSession:
    stmt = insert(PaymentSession).values(id=uuid.uuid4(), **values).returning(PaymentSession)
    return (await session.scalars(stmt)).one()


async def get(
    session: AsyncSession,
    payment_session_id: uuid.UUID,
    *,
    customer_id: uuid.UUID | None = None,
    for_update: bool = False,
    skip_locked: bool = False,
) -> PaymentSession | None:
    stmt = select(PaymentSession).where(PaymentSession.id == payment_session_id)
    if customer_id is not None:
        stmt = stmt.where(PaymentSession.customer_id == customer_id)
    if for_update:
        stmt = stmt.with_for_update(skip_locked=skip_locked)
    stmt = stmt.execution_options(populate_existing=True)
    return (await session.scalars(stmt)).one_or_none()


async def transition(
    session: AsyncSession,
    payment_session_id: uuid.UUID,
    *,
    from_status: str,
    to_status: str,
    where: tuple[ColumnElement[bool], ...] = (),
    **values: Any,
) -> PaymentSession | None:
    """One compare-and-set: ``UPDATE … WHERE id AND status = from … RETURNING``; None when it did not apply."""
    stmt = (
        update(PaymentSession)
        .where(PaymentSession.id == payment_session_id, PaymentSession.status == from_status, *where)
        .values(status=to_status, **values)
        .returning(PaymentSession)
        .execution_options(populate_existing=True, synchronize_session=False)
    )
    return (await session.scalars(stmt)).one_or_none()


def not_expired(now: datetime) -> ColumnElement[bool]:
    return PaymentSession.expires_at > now


def has_open_request() -> ColumnElement[bool]:
    return exists().where(
        PairingRequest.payment_session_id == PaymentSession.id, PairingRequest.status == "open"
    )


def has_pending_extension() -> ColumnElement[bool]:
    return exists().where(
        ExtensionRequest.payment_session_id == PaymentSession.id, ExtensionRequest.status == "pending"
    )


async def customer_has_consumed_free_trial(
    session: AsyncSession, customer_id: uuid.UUID, *, other_than: uuid.UUID | None = None
) -> bool:
    cond = [
        PaymentSession.customer_id == customer_id,
        PaymentSession.is_free_trial.is_(True),
        PaymentSession.status == "consumed",
    ]
    if other_than is not None:
        cond.append(PaymentSession.id != other_than)
    return bool(await session.scalar(select(exists().where(*cond))))


async def is_active_chat_of(
    session: AsyncSession, chat_session_id: uuid.UUID, customer_id: uuid.UUID, now: datetime
) -> bool:
    cond = exists().where(
        ChatSession.id == chat_session_id,
        ChatSession.customer_id == customer_id,
        ChatSession.status == "active",
        ChatSession.ends_at > now,
    )
    return bool(await session.scalar(select(cond)))


async def has_past_chat_with(session: AsyncSession, customer_id: uuid.UUID, mitra_id: uuid.UUID) -> bool:
    cond = exists().where(ChatSession.customer_id == customer_id, ChatSession.mitra_id == mitra_id)
    return bool(await session.scalar(select(cond)))


async def latest_pairing_request(
    session: AsyncSession, payment_session_id: uuid.UUID
) -> PairingRequest | None:
    stmt = (
        select(PairingRequest)
        .where(PairingRequest.payment_session_id == payment_session_id)
        .order_by(PairingRequest.created_at.desc(), PairingRequest.id.desc())
        .limit(1)
    )
    return (await session.scalars(stmt)).first()


async def chat_for_payment(session: AsyncSession, payment_session_id: uuid.UUID) -> uuid.UUID | None:
    stmt = select(ChatSession.id).where(ChatSession.payment_session_id == payment_session_id).limit(1)
    return (await session.scalars(stmt)).first()


async def expire_pending(session: AsyncSession, now: datetime) -> list[uuid.UUID]:
    stmt = (
        update(PaymentSession)
        .where(PaymentSession.status == "pending", PaymentSession.expires_at <= now)
        .values(status="expired")
        .returning(PaymentSession.id)
        .execution_options(synchronize_session=False)
    )
    return list((await session.scalars(stmt)).all())


async def lock_stale_confirmed(
    session: AsyncSession, now: datetime, *, is_extension: bool, limit: int
) -> list[uuid.UUID]:
    """Confirmed, past expires_at, not in use; locked (SKIP LOCKED: a request holding one wins)."""
    in_use = has_pending_extension() if is_extension else has_open_request()
    stmt = (
        select(PaymentSession.id)
        .where(
            PaymentSession.status == "confirmed",
            PaymentSession.is_extension.is_(is_extension),
            PaymentSession.expires_at <= now,
            ~in_use,
        )
        .order_by(PaymentSession.expires_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.scalars(stmt)).all())


async def mark_stale_confirmed(
    session: AsyncSession, ids: list[uuid.UUID], now: datetime, *, is_extension: bool, to_status: str
) -> list[PaymentSession]:
    """Re-checked in a statement of its own, so a request committed meanwhile keeps its session."""
    if not ids:
        return []
    in_use = has_pending_extension() if is_extension else has_open_request()
    stmt = (
        update(PaymentSession)
        .where(
            PaymentSession.id.in_(ids),
            PaymentSession.status == "confirmed",
            PaymentSession.is_extension.is_(is_extension),
            PaymentSession.expires_at <= now,
            ~in_use,
        )
        .values(status=to_status)
        .returning(PaymentSession)
        .execution_options(populate_existing=True, synchronize_session=False)
    )
    return list((await session.scalars(stmt)).all())


_FAIL_WITH_FAILURE_ROWS = text(
    """
    WITH failed AS (
        UPDATE payment_sessions SET status = 'failed_pairing'
        WHERE id = ANY(:ids) AND status = 'confirmed' AND NOT is_extension
        RETURNING id, customer_id, targeted_mitra_id, amount
    )
    INSERT INTO pairing_failures (id, payment_session_id, customer_id, targeted_mitra_id, cause_tag, amount)
    SELECT gen_random_uuid(), f.id, f.customer_id, f.targeted_mitra_id, c.cause, f.amount
    FROM failed f JOIN unnest(:ids, :causes) AS c (id, cause) ON c.id = f.id
    RETURNING payment_session_id
    """
).bindparams(bindparam("ids", type_=ARRAY(Uuid())), bindparam("causes", type_=ARRAY(String())))


async def fail_confirmed_with_failure_rows(
    session: AsyncSession, causes: dict[uuid.UUID, str]
) -> list[uuid.UUID]:
    """confirmed → failed_pairing for each (non-extension) payment of ``causes`` still confirmed,
    and its failure row with its cause, in one statement (array parameters, not one bind
    parameter per value: a batch of a thousand is cheap to send and already prepared)."""
    if not causes:
        return []
    params = {"ids": list(causes), "causes": [str(c) for c in causes.values()]}
    return list((await session.scalars(_FAIL_WITH_FAILURE_ROWS, params)).all())
