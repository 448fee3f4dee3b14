"""The control center's dashboard figures and its read-only support lists."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from curhat.errors import ValidationFailed
from curhat.internal import repository
from curhat.kit.pagination import Page
from curhat.models import User
from curhat.models.pairing_failure import CAUSE_TAGS
from curhat.presence.service import Presence

_PHONE_SEPARATORS = re.compile(r"[\s\-().]")


def search_terms(q: str | None) -> list[str]:
    """What ``q`` matches: itself, and for a (partial) local phone number its E.164 spelling too."""
    q = (q or "").strip()
    if not q:
        return []
    terms = [q]
    digits = _PHONE_SEPARATORS.sub("", q)
    if digits.isdigit():
        if digits.startswith("0") and len(digits) > 1:
            terms.append("+62" + digits[1:])
        elif digits.startswith("62"):
            terms.append("+" + digits)
        if digits != q:
            terms.append(digits)
    return terms


async def list_customers(session: AsyncSession, page: Page, q: str | None) -> tuple[list[User], int]:
    return await repository.list_customers(session, page, search_terms(q))


async def list_chat_sessions(
    session: AsyncSession, page: Page, status: str | None
) -> tuple[list[repository.ChatRow], int]:
    return await repository.list_chat_sessions(session, page, status)


@dataclass
class Stats:
    date_from: date
    date_to: date
    matched: int
    failed: dict[str, int]
    p50: float | None
    p95: float | None
    unactioned_failures: int
    online_mitras: int

    @property
    def total(self) -> int:
        return self.matched + sum(self.failed.values())


def window(date_from: date | None, date_to: date | None, today: date | None = None) -> tuple[date, date]:
    """Inclusive UTC dates; either end defaults to today (UTC)."""
    today = today or datetime.now(UTC).date()
    start, end = date_from or today, date_to or today
    if date_from is None and date_to is not None and date_to < today:
        start = date_to
    if start > end:
        raise ValidationFailed([{"field": "date_from", "message": "date_from must not be after date_to."}])
    return start, end


def _bounds(start: date, end: date) -> tuple[datetime, datetime | None]:
    lower = datetime.combine(start, time.min, tzinfo=UTC)
    upper = None if end == date.max else datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)
    return lower, upper


async def stats(
    session: AsyncSession, presence: Presence, date_from: date | None, date_to: date | None
) -> Stats:
    """Pairing outcomes whose outcome falls within the dates.

    ``matched`` counts accepted pairing requests by accept time; ``failed`` counts
    ``pairing_failures`` rows by cause (every cause present, zero included) — the
    outcome of a paid search as the Failed Pairings queue shows it, so a targeted
    failure the customer turned into a blast counts by the blast's outcome.
    """
    start, end = window(date_from, date_to)
    lower, upper = _bounds(start, end)
    by_cause = await repository.failures_by_cause(session, lower, upper)
    failed: dict[str, int] = {tag: by_cause.get(tag, 0) for tag in CAUSE_TAGS}
    for tag, n in by_cause.items():
        failed.setdefault(tag, n)
    matched, p50, p95 = await repository.matched_and_time_to_pair(session, lower, upper)
    unactioned = await repository.count_unactioned_failures(session)
    online = await presence.online_count()
    return Stats(start, end, matched, failed, p50, p95, unactioned, online)


# Bucket edges in seconds: pairing is a matter of seconds, a cancelled search of a minute or two.
TIME_TO_PAIR_EDGES: tuple[float, ...] = (5, 10, 20, 30, 60)
CANCEL_WAIT_EDGES: tuple[float, ...] = (10, 30, 60, 120)


@dataclass(frozen=True)
class Histogram:
    """``counts[i]`` falls in [edges[i-1], edges[i]); the first bucket starts at 0, the last is open."""

    edges: tuple[float, ...]
    counts: list[int]

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass(frozen=True)
class MitraOffers:
    mitra_id: uuid.UUID
    display_name: str
    offered: int
    accepted: int
    rejected: int
    ignored: int


@dataclass(frozen=True)
class Dashboard:
    stats: Stats
    time_to_pair: Histogram
    cancel_waits: Histogram
    offers: list[MitraOffers]


async def dashboard(
    session: AsyncSession, presence: Presence, date_from: date | None, date_to: date | None
) -> Dashboard:
    """``stats`` plus the distributions behind them and how each mitra answered offers.

    Time-to-pair counts accepts within the dates; abandonment counts searches the
    customer cancelled within the dates, by how long they had waited; offers count by
    when they were made.
    """
    figures = await stats(session, presence, date_from, date_to)
    lower, upper = _bounds(figures.date_from, figures.date_to)
    to_pair = await repository.time_to_pair_histogram(session, lower, upper, TIME_TO_PAIR_EDGES)
    waits = await repository.cancel_wait_histogram(session, lower, upper, CANCEL_WAIT_EDGES)
    offers = await repository.offer_counts_by_mitra(session, lower, upper)
    return Dashboard(
        stats=figures,
        time_to_pair=Histogram(TIME_TO_PAIR_EDGES, to_pair),
        cancel_waits=Histogram(CANCEL_WAIT_EDGES, waits),
        offers=[MitraOffers(*row) for row in offers],
    )
