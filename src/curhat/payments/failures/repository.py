"""Every query on ``pairing_failures``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Row, Select, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from curhat.models import CCUser, Mitra, PairingFailure, PaymentSession, User
from curhat.models.pairing_failure import TARGETED_CAUSES


@dataclass(frozen=True)
class FailureRow:
    failure: PairingFailure
    customer_name: str
    customer_phone: str
    mitra_name: str | None
    operator_name: str | None


@dataclass(frozen=True)
class FailureFilter:
    cause_tags: tuple[str, ...] = ()
    created_from: datetime | None = None
    created_before: datetime | None = None
    actioned: bool | None = None


async def insert_failure(session: AsyncSession, payment: PaymentSession, cause_tag: str) -> PairingFailure:
    stmt = (
        insert(PairingFailure)
        .values(
            id=uuid.uuid4(),
            payment_session_id=payment.id,
            customer_id=payment.customer_id,
            targeted_mitra_id=payment.targeted_mitra_id,
            cause_tag=cause_tag,
            amount=payment.amount,
        )
        .returning(PairingFailure)
    )
    return (await session.scalars(stmt)).one()


def _conditions(f: FailureFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if f.cause_tags:
        conditions.append(PairingFailure.cause_tag.in_(f.cause_tags))
    if f.created_from is not None:
        conditions.append(PairingFailure.created_at >= f.created_from)
    if f.created_before is not None:
        conditions.append(PairingFailure.created_at < f.created_before)
    if f.actioned is True:
        conditions.append(PairingFailure.operator_action.is_not(None))
    elif f.actioned is False:
        conditions.append(PairingFailure.operator_action.is_(None))
    return conditions


_Mitra = aliased(Mitra)
_Operator = aliased(CCUser)


def _select_rows() -> Select[PairingFailure, str, str, str | None, str | None]:
    return (
        select(
            PairingFailure,
            User.display_name,
            User.phone,
            _Mitra.display_name,
            _Operator.display_name,
        )
        .join(User, User.id == PairingFailure.customer_id)
        .outerjoin(_Mitra, _Mitra.id == PairingFailure.targeted_mitra_id)
        .outerjoin(_Operator, _Operator.id == PairingFailure.actioned_by)
    )


def _row(r: Row[PairingFailure, str, str, str | None, str | None]) -> FailureRow:
    return FailureRow(r[0], r[1], r[2], r[3], r[4])


async def list_failures(
    session: AsyncSession, f: FailureFilter, *, limit: int, offset: int
) -> tuple[list[FailureRow], int]:
    conditions = _conditions(f)
    total = await session.scalar(select(func.count()).select_from(PairingFailure).where(*conditions))
    stmt = (
        _select_rows()
        .where(*conditions)
        .order_by(PairingFailure.created_at.desc(), PairingFailure.id.desc())
        .limit(limit)
        .offset(offset)
    )
    rows = [_row(r) for r in (await session.execute(stmt)).all()]
    return rows, int(total or 0)


async def failure_row(session: AsyncSession, failure_id: uuid.UUID) -> FailureRow | None:
    row = (await session.execute(_select_rows().where(PairingFailure.id == failure_id))).one_or_none()
    return None if row is None else _row(row)


async def get_failure(session: AsyncSession, failure_id: uuid.UUID) -> PairingFailure | None:
    stmt = (
        select(PairingFailure)
        .where(PairingFailure.id == failure_id)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(stmt)).one_or_none()


async def failure_for_payment(session: AsyncSession, payment_session_id: uuid.UUID) -> PairingFailure | None:
    stmt = (
        select(PairingFailure)
        .where(PairingFailure.payment_session_id == payment_session_id)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(stmt)).one_or_none()


async def set_action_if_unset(
    session: AsyncSession, failure_id: uuid.UUID, operator_id: uuid.UUID, action: str
) -> PairingFailure | None:
    """The one compare-and-set that makes an operator action happen at most once."""
    stmt = (
        update(PairingFailure)
        .where(PairingFailure.id == failure_id, PairingFailure.operator_action.is_(None))
        .values(operator_action=action, actioned_by=operator_id, actioned_at=func.now())
        .returning(PairingFailure)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(stmt)).one_or_none()


async def delete_unactioned_targeted(
    session: AsyncSession, payment_session_id: uuid.UUID
) -> PairingFailure | None:
    """Delete the failure row a fallback undoes — only while no operator has actioned it."""
    stmt = (
        delete(PairingFailure)
        .where(
            PairingFailure.payment_session_id == payment_session_id,
            PairingFailure.operator_action.is_(None),
            PairingFailure.cause_tag.in_(TARGETED_CAUSES),
        )
        .returning(PairingFailure)
    )
    return (await session.scalars(stmt)).one_or_none()
