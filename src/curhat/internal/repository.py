"""Every query behind the control center's read-only lists and the dashboard."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Float, Select, and_, cast, func, or_, select
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


def _accepted_requests(
    columns: Callable[[ColumnElement[float]], list[ColumnElement[Any]]], start: datetime, end: datetime | None
) -> Select[Any]:
    """``columns(seconds)`` over the requests accepted within the window, where ``seconds`` is
    request → accept (the winning offer's answer, or the request's close as a fallback)."""
    offer = aliased(PairingOffer)
    accepted_at = func.coalesce(offer.responded_at, PairingRequest.closed_at)
    seconds = cast(func.extract("epoch", accepted_at - PairingRequest.created_at), Float)
    return (
        select(*columns(seconds))
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


async def matched_and_time_to_pair(
    session: AsyncSession, start: datetime, end: datetime | None
) -> tuple[int, float | None, float | None]:
    """Accepted requests whose accept falls in the window, and percentiles of request → accept."""
    stmt = _accepted_requests(
        lambda seconds: [
            func.count(),
            func.percentile_cont(0.5).within_group(seconds),
            func.percentile_cont(0.95).within_group(seconds),
        ],
        start,
        end,
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


def _bucket_counts(seconds: ColumnElement[float], edges: tuple[float, ...]) -> list[ColumnElement[int]]:
    """One ``count(*) FILTER`` per bucket: (-∞, e0), [e0, e1), …, [e_last, ∞)."""
    columns: list[ColumnElement[int]] = []
    for i in range(len(edges) + 1):
        conditions: list[ColumnElement[bool]] = []
        if i > 0:
            conditions.append(seconds >= edges[i - 1])
        if i < len(edges):
            conditions.append(seconds < edges[i])
        columns.append(func.count().filter(and_(*conditions)))
    return columns


async def time_to_pair_histogram(
    session: AsyncSession, start: datetime, end: datetime | None, edges: tuple[float, ...]
) -> list[int]:
    """Accepted requests by seconds from request to accept, counted per bucket of ``edges``."""
    stmt = _accepted_requests(lambda seconds: _bucket_counts(seconds, edges), start, end)
    return [int(n) for n in (await session.execute(stmt)).one()]


async def cancel_wait_histogram(
    session: AsyncSession, start: datetime, end: datetime | None, edges: tuple[float, ...]
) -> list[int]:
    """Searches the customer cancelled, by how long they had waited, per bucket of ``edges``."""
    closed_at = func.coalesce(PairingRequest.closed_at, PairingRequest.created_at)
    seconds = cast(func.extract("epoch", closed_at - PairingRequest.created_at), Float)
    stmt = (
        select(*_bucket_counts(seconds, edges))
        .select_from(PairingRequest)
        .where(PairingRequest.status == "cancelled", *_within(closed_at, start, end))
    )
    return [int(n) for n in (await session.execute(stmt)).one()]


OfferCounts = tuple[uuid.UUID, str, int, int, int, int]


async def offer_counts_by_mitra(
    session: AsyncSession, start: datetime, end: datetime | None
) -> list[OfferCounts]:
    """Per mitra offered in the window: offered, accepted, rejected, and ignored.

    Ignored means the window ran out with the offer unanswered; an offer closed because
    another mitra was faster or the customer cancelled counts as offered only.
    """
    unanswered = PairingOffer.response.is_(None)
    ran_out = PairingRequest.cause_tag.in_(("no_mitra_available", "targeted_mitra_timeout"))
    stmt = (
        select(
            Mitra.id,
            Mitra.display_name,
            func.count(),
            func.count().filter(PairingOffer.response == "accepted"),
            func.count().filter(PairingOffer.response == "rejected"),
            func.count().filter(and_(unanswered, PairingRequest.status == "failed", ran_out)),
        )
        .select_from(PairingOffer)
        .join(PairingRequest, PairingRequest.id == PairingOffer.pairing_request_id)
        .join(Mitra, Mitra.id == PairingOffer.mitra_id)
        .where(*_within(PairingOffer.offered_at, start, end))
        .group_by(Mitra.id, Mitra.display_name)
        .order_by(func.count().desc(), Mitra.display_name)
    )
    return [
        (mid, name, int(o), int(a), int(r), int(i))
        for mid, name, o, a, r, i in (await session.execute(stmt)).all()
    ]
