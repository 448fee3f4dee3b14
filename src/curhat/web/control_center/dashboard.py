"""Dashboard: outcomes, time to pair, abandonment, offers per mitra, for today or a chosen range."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from curhat.deps import PresenceDep
from curhat.errors import ValidationFailed
from curhat.internal import service
from curhat.models.pairing_failure import CAUSE_TAGS
from curhat.postgres import SessionDep
from curhat.web.control_center import charts, labels, render
from curhat.web.control_center.failed_pairings import Filters
from curhat.web.control_center.sessions import CurrentOperatorPage

router = APIRouter()


def _date(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


@router.get("/dashboard")
async def dashboard(
    request: Request, operator: CurrentOperatorPage, session: SessionDep, presence: PresenceDep
) -> HTMLResponse:
    params = request.query_params
    date_from, date_to = _date(params.get("date_from")), _date(params.get("date_to"))
    errors = []
    if (params.get("date_from") and date_from is None) or (params.get("date_to") and date_to is None):
        errors.append("A date was not understood (use YYYY-MM-DD); showing today.")
        date_from = date_to = None
    try:
        d = await service.dashboard(session, presence, date_from, date_to)
    except ValidationFailed:
        errors.append("The “from” date is after the “to” date; showing today.")
        d = await service.dashboard(session, presence, None, None)
    s = d.stats
    in_range = Filters(date_from=s.date_from, date_to=s.date_to)
    outcomes = [("Matched", s.matched, "good")] + [
        (labels.cause_label(tag), s.failed.get(tag, 0), "bad") for tag in CAUSE_TAGS
    ]
    causes = [
        (labels.cause_label(tag), s.failed.get(tag, 0), in_range.url(cause_tags=(tag,))) for tag in CAUSE_TAGS
    ]
    today = datetime.now(UTC).date()
    context = {
        "operator": operator,
        "errors": errors,
        "d": d,
        "s": s,
        "failed_total": sum(s.failed.values()),
        "outcomes": charts.rows("Pairings by outcome", outcomes),
        "time_to_pair": charts.columns(
            "Time to pair",
            labels.bucket_labels(d.time_to_pair.edges),
            d.time_to_pair.counts,
            "good",
        ),
        "cancel_waits": charts.columns(
            "Customer cancelled, by time waited",
            labels.bucket_labels(d.cancel_waits.edges),
            d.cancel_waits.counts,
            "bad",
        ),
        "causes": causes,
        "failed_in_range_url": in_range.url(),
        "unactioned_url": Filters(unactioned=True).url(),
        "single_day": s.date_from == s.date_to,
        "today": today,
        "week_from": today - timedelta(days=6),
    }
    return render.page(request, "dashboard.html", context, section="dashboard")
