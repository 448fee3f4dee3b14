"""``/internal/failed-pairings``: the operators' queue of failed pairings."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from curhat.auth.deps import CurrentOperator
from curhat.kit.openapi import error_responses
from curhat.kit.pagination import PageDep
from curhat.payments.failures import service
from curhat.payments.failures.schemas import (
    CauseTag,
    FailedPairingListOut,
    FailedPairingOut,
    FailureActionIn,
    FailureCustomerOut,
    PartyOut,
)
from curhat.postgres import SessionDep

router = APIRouter()
internal_router = APIRouter(prefix="/internal/failed-pairings", tags=["failed pairings"])


def _out(row: service.FailureRow) -> FailedPairingOut:
    f = row.failure
    return FailedPairingOut(
        id=f.id,
        payment_session_id=f.payment_session_id,
        customer=FailureCustomerOut(
            id=f.customer_id, display_name=row.customer_name, phone=row.customer_phone
        ),
        targeted_mitra=(
            PartyOut(id=f.targeted_mitra_id, display_name=row.mitra_name or "")
            if f.targeted_mitra_id is not None
            else None
        ),
        cause_tag=f.cause_tag,
        amount=f.amount,
        operator_action=f.operator_action,
        actioned_by=(
            PartyOut(id=f.actioned_by, display_name=row.operator_name or "")
            if f.actioned_by is not None
            else None
        ),
        actioned_at=f.actioned_at,
        created_at=f.created_at,
    )


@internal_router.get("", responses=error_responses())
async def list_failed_pairings(
    operator: CurrentOperator,
    session: SessionDep,
    page: PageDep,
    cause_tags: Annotated[list[CauseTag] | None, Query(description="repeatable")] = None,
    cause_tags_brackets: Annotated[
        list[CauseTag] | None, Query(alias="cause_tags[]", description="same as cause_tags")
    ] = None,
    date_from: Annotated[date | None, Query(description="inclusive, UTC")] = None,
    date_to: Annotated[date | None, Query(description="inclusive, UTC")] = None,
    actioned: Annotated[bool | None, Query(description="true: actioned rows only; false: open rows")] = None,
) -> FailedPairingListOut:
    """Newest first, filtered by cause tags, creation date range and whether an operator acted."""
    tags = [*(cause_tags or ()), *(cause_tags_brackets or ())]
    rows, total = await service.list_failures(
        session,
        cause_tags=tags,
        date_from=date_from,
        date_to=date_to,
        actioned=actioned,
        limit=page.limit,
        offset=page.offset,
    )
    return FailedPairingListOut(rows=[_out(r) for r in rows], total=total)


@internal_router.post(
    "/{failure_id}/action",
    responses=error_responses((404, "failed_pairing_not_found"), (409, "already_actioned")),
)
async def action_failed_pairing(
    failure_id: uuid.UUID, body: FailureActionIn, operator: CurrentOperator, session: SessionDep
) -> FailedPairingOut:
    """Set the operator action once; the same action again answers 200 unchanged."""
    row = await service.set_operator_action(session, failure_id, operator.id, body.action)
    return _out(row)
