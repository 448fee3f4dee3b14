"""Every query behind the control center's read-only lists and the dashboard."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, Float, and_, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased

from curhat.kit.pagination import Page
from curhat.models import ChatSession, Mitra, PairingFailure, PairingOffer, PairingRequest, User


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def list_customers(session: AsyncSession, page: Page, terms: list[str]) -> tuple[list[User], int]:
    """Newest first; ``terms`` match the phone or the display name (any of them, case-insensitive)."""
    where: list[ColumnElement[bool]] = []
    if terms:
        matches = [
            or_(User.phone.ilike(_like(t), escape="\\"), User.display_name.ilike(_like(t), escape="\\"))
            for t in terms
        ]
        where.append(or_(*matches))
    total = await session.scalar(select(func.count()).select_from(User).where(*where))
    stmt = (
        select(User)
        .where(*where)
        .order_by(User.created_at.desc(), User.id.desc())
        .limit(page.limit)
        .offset(page.offset)
    )
    return list((await session.scalars(stmt)).all()), int(total or 0)


ChatRow = tuple[ChatSession, uuid.UUID, str, uuid.UUID, str]


async def list_chat_sessions(
    session: AsyncSession, page: Page, status: str | None
) -> tuple[list[ChatRow], int]:
    where = [ChatSession.status == status] if status else []
    total = await session.scalar(select(func.count()).select_from(ChatSession).where(*where))
    stmt = (
        select(ChatSession, User.id, User.display_name, Mitra.id, Mitra.display_name)
        .join(User, User.id == ChatSession.customer_id)
        .join(Mitra, Mitra.id == ChatSession.mitra_id)
        .where(*where)
        .order_by(ChatSession.started_at.desc(), ChatSession.id.desc())
        .limit(page.limit)
        .offset(page.offset)
    )
    rows = (await session.execute(stmt)).all()
    return [(chat, cid, cname, mid, mname) for chat, cid, cname, mid, mname in rows], int(total or 0)


def _within(
    column: ColumnElement[datetime] | InstrumentedAttribute[datetime], start: datetime, end: datetime | None
) -> list[ColumnElement[bool]]:
    clauses = [column >= start]
    if end is not None:
        clauses.append(column < end)
    return clauses


async def failures_by_cause(session: AsyncSession, start: datetime, end: datetime | None) -> dict[str, int]:
    stmt = (
        select(PairingFailure.cause_tag, func.count())
        .where(*_within(PairingFailure.created_at, start, end))
        .group_by(PairingFailure.cause_tag)
    )
    return {tag: int(n) for tag, n in (await session.execute(stmt)).all()}


async def matched_and_time_to_pair(
    session: AsyncSession, start: datetime, end: datetime | None
) -> tuple[int, float | None, float | None]:
    """Accepted requests whose accept falls in the window, and percentiles of request → accept."""
    offer = aliased(PairingOffer)
    accepted_at = func.coalesce(offer.responded_at, PairingRequest.closed_at)
    seconds = cast(func.extract("epoch", accepted_at - PairingRequest.created_at), Float)
    stmt = (
        select(
            func.count(),
            func.percentile_cont(0.5).within_group(seconds),
            func.percentile_cont(0.95).within_group(seconds),
        )
        .select_from(PairingRequest)
        .outerjoin(
            offer,
            and_(
                offer.pairing_request_id == PairingRequest.id,
                offer.mitra_id == PairingRequest.accepted_mitra_id,
            ),
        )
        .where(PairingRequest.status == "accepted", *_within(accepted_at, start, end))
    )
    count, p50, p95 = (await session.execute(stmt)).one()
    return (
        int(count or 0),
        (float(p50) if p50 is not None else None),
        (float(p95) if p95 is not None else None),
    )


async def count_unactioned_failures(session: AsyncSession) -> int:
    stmt = select(func.count()).select_from(PairingFailure).where(PairingFailure.operator_action.is_(None))
    return int(await session.scalar(stmt) or 0)
