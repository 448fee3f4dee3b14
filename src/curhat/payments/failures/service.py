"""Failed pairings: the row written with every ``failed_pairing`` payment, and the operator's action.

An operator action is set at most once (a compare-and-set on ``operator_action IS NULL``);
the same action again is a no-op, another one is 409 ``already_actioned``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from curhat.errors import Conflict, NotFound, ValidationFailed
from curhat.models import PairingFailure, PaymentSession
from curhat.models.pairing_failure import CAUSE_TAGS, OPERATOR_ACTIONS
from curhat.payments.failures import repository
from curhat.payments.failures.repository import FailureFilter, FailureRow
from curhat.realtime.outbox import log_after_commit

__all__ = [
    "AlreadyActioned",
    "FailureNotFound",
    "FailureRow",
    "get_failure",
    "list_failures",
    "record_failure",
    "set_operator_action",
]


class FailureNotFound(NotFound):
    code = "failed_pairing_not_found"
    message = "Data pairing gagal tidak ditemukan."


class AlreadyActioned(Conflict):
    code = "already_actioned"
    message = "Baris ini sudah ditindaklanjuti operator."


async def record_failure(session: AsyncSession, payment: PaymentSession, cause_tag: str) -> PairingFailure:
    """The failure row for a payment that just became ``failed_pairing`` (same transaction)."""
    if cause_tag not in CAUSE_TAGS:
        raise ValueError(f"unknown cause tag {cause_tag!r}")
    return await repository.insert_failure(session, payment, cause_tag)


def _day_start(d: date) -> datetime:
    return datetime.combine(d, time.min, tzinfo=UTC)


async def list_failures(
    session: AsyncSession,
    *,
    cause_tags: list[str] | tuple[str, ...] | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    actioned: bool | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[FailureRow], int]:
    """Newest first; dates are inclusive UTC days."""
    tags = tuple(dict.fromkeys(cause_tags or ()))
    unknown = [t for t in tags if t not in CAUSE_TAGS]
    if unknown:
        raise ValidationFailed([{"field": "cause_tags", "message": f"Unknown cause tag: {unknown[0]}"}])
    if date_from is not None and date_to is not None and date_from > date_to:
        raise ValidationFailed([{"field": "date_from", "message": "date_from must not be after date_to."}])
    created_before = None
    if date_to is not None and date_to < date.max:
        created_before = _day_start(date_to + timedelta(days=1))
    filt = FailureFilter(
        cause_tags=tags,
        created_from=_day_start(date_from) if date_from is not None else None,
        created_before=created_before,
        actioned=actioned,
    )
    return await repository.list_failures(session, filt, limit=limit, offset=offset)


async def get_failure(session: AsyncSession, failure_id: uuid.UUID) -> FailureRow:
    """404 ``failed_pairing_not_found``; a fallback to blast deletes unactioned targeted rows."""
    row = await repository.failure_row(session, failure_id)
    if row is None:
        raise FailureNotFound()
    return row


async def set_operator_action(
    session: AsyncSession, failure_id: uuid.UUID, operator_id: uuid.UUID, action: str
) -> FailureRow:
    if action not in OPERATOR_ACTIONS:
        raise ValidationFailed([{"field": "action", "message": f"Unknown action: {action}"}])
    updated = await repository.set_action_if_unset(session, failure_id, operator_id, action)
    if updated is None:
        current = await repository.get_failure(session, failure_id)
        if current is None:
            raise FailureNotFound()
        if current.operator_action != action:
            raise AlreadyActioned()
    log_after_commit(
        session,
        "failed_pairing.action",
        failure_id=failure_id,
        action=action,
        operator_id=operator_id,
        changed=updated is not None,
    )
    row = await repository.failure_row(session, failure_id)
    if row is None:  # deleted between the two statements: cannot happen under the row lock we hold
        raise FailureNotFound()
    return row
