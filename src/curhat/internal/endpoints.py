"""Control-center endpoints not owned by another domain: dashboard stats and support lists."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from curhat.auth.deps import CurrentOperator
from curhat.deps import PresenceDep
from curhat.errors import ValidationFailed
from curhat.internal import service
from curhat.internal.schemas import (
    ChatSessionListOut,
    ChatSessionRowOut,
    CustomerListOut,
    CustomerRowOut,
    PageDep,
    PairingCountsOut,
    PartyOut,
    StatsOut,
    TimeToPairOut,
    error_responses,
    has_control_chars,
)
from curhat.postgres import SessionDep

router = APIRouter(prefix="/internal", tags=["control center"])


@router.get("/stats", responses=error_responses())
async def get_stats(
    operator: CurrentOperator,
    session: SessionDep,
    presence: PresenceDep,
    date_from: Annotated[date | None, Query(description="inclusive, UTC; default today")] = None,
    date_to: Annotated[date | None, Query(description="inclusive, UTC; default today")] = None,
) -> StatsOut:
    """Dashboard figures for a date range: matched vs failed by cause, time to pair, unactioned failures, online mitras."""
    s = await service.stats(session, presence, date_from, date_to)
    return StatsOut(
        date_from=s.date_from,
        date_to=s.date_to,
        pairings=PairingCountsOut(matched=s.matched, failed=s.failed, total=s.total),
        time_to_pair_seconds=TimeToPairOut(p50=s.p50, p95=s.p95),
        unactioned_failures=s.unactioned_failures,
        online_mitras=s.online_mitras,
    )


@router.get("/customers", responses=error_responses())
async def list_customers(
    operator: CurrentOperator,
    session: SessionDep,
    page: PageDep,
    q: Annotated[str | None, Query(max_length=100, description="part of the phone or the name")] = None,
) -> CustomerListOut:
    """Read-only, newest first."""
    if q is not None and has_control_chars(q, allow=""):
        raise ValidationFailed([{"field": "q", "message": "q must not contain control characters."}])
    rows, total = await service.list_customers(session, page, q)
    return CustomerListOut(
        rows=[
            CustomerRowOut(id=u.id, phone=u.phone, display_name=u.display_name, created_at=u.created_at)
            for u in rows
        ],
        total=total,
    )


@router.get("/chat-sessions", responses=error_responses())
async def list_chat_sessions(
    operator: CurrentOperator,
    session: SessionDep,
    page: PageDep,
    status: Annotated[Literal["active", "ended"] | None, Query()] = None,
) -> ChatSessionListOut:
    """Read-only, newest first."""
    rows, total = await service.list_chat_sessions(session, page, status)
    return ChatSessionListOut(
        rows=[
            ChatSessionRowOut(
                id=chat.id,
                customer=PartyOut(id=customer_id, display_name=customer_name),
                mitra=PartyOut(id=mitra_id, display_name=mitra_name),
                status=chat.status,
                started_at=chat.started_at,
                ends_at=chat.ends_at,
                ended_at=chat.ended_at,
                end_reason=chat.end_reason,
                duration_minutes=chat.duration_minutes,
            )
            for chat, customer_id, customer_name, mitra_id, mitra_name in rows
        ],
        total=total,
    )
