"""Failed Pairings: the filtered, paged queue; the per-row action with a confirmation; CSV export."""

from __future__ import annotations

import csv
import io
import math
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import QueryParams

from curhat.models.pairing_failure import CAUSE_TAGS, OPERATOR_ACTIONS
from curhat.payments.failures import service
from curhat.postgres import SessionDep
from curhat.web.control_center import labels, render
from curhat.web.control_center.forms import fields
from curhat.web.control_center.sessions import CurrentOperatorPage

router = APIRouter()

PAGE_SIZE = 50
CSV_BATCH = 200
# An export is a working list, not a backup: past this many rows, narrow the filter.
CSV_MAX_ROWS = 100_000
BASE = "/cc/failed-pairings"


@dataclass(frozen=True)
class Filters:
    cause_tags: tuple[str, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    unactioned: bool = False
    page: int = 1

    def query(self, **changes: Any) -> str:
        f = replace(self, **changes)
        params: list[tuple[str, str]] = [("cause_tags", t) for t in f.cause_tags]
        if f.date_from:
            params.append(("date_from", f.date_from.isoformat()))
        if f.date_to:
            params.append(("date_to", f.date_to.isoformat()))
        if f.unactioned:
            params.append(("unactioned", "1"))
        if f.page > 1:
            params.append(("page", str(f.page)))
        return urlencode(params)

    def url(self, path: str = BASE, **changes: Any) -> str:
        query = self.query(**changes)
        return f"{path}?{query}" if query else path

    @property
    def active(self) -> bool:
        return bool(self.cause_tags or self.date_from or self.date_to or self.unactioned)


def _date(raw: str | None, name: str, errors: list[str]) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors.append(f"“{raw}” is not a date ({name}); use YYYY-MM-DD.")
        return None


def parse_filters(params: QueryParams) -> tuple[Filters, list[str]]:
    """Whatever the URL says, as far as it makes sense; what did not is reported, not applied."""
    errors: list[str] = []
    tags = []
    for tag in params.getlist("cause_tags"):
        if tag in CAUSE_TAGS:
            tags.append(tag)
        elif tag:
            errors.append(f"Unknown cause “{tag[:40]}” ignored.")
    date_from = _date(params.get("date_from"), "from", errors)
    date_to = _date(params.get("date_to"), "to", errors)
    if date_from and date_to and date_from > date_to:
        errors.append("The “from” date is after the “to” date; dates ignored.")
        date_from = date_to = None
    try:
        page = max(1, min(int(params.get("page", "1")), 1_000_000))
    except ValueError:
        page = 1
    unactioned = params.get("unactioned") in ("1", "true", "on")
    ordered = tuple(t for t in CAUSE_TAGS if t in tags)
    return Filters(ordered, date_from, date_to, unactioned, page), errors


async def _rows(
    session: SessionDep, f: Filters, limit: int, offset: int
) -> tuple[list[service.FailureRow], int]:
    return await service.list_failures(
        session,
        cause_tags=f.cause_tags,
        date_from=f.date_from,
        date_to=f.date_to,
        actioned=False if f.unactioned else None,
        limit=limit,
        offset=offset,
    )


def safe_back(value: str | None) -> str:
    if value and value.startswith(BASE) and not value.startswith("//") and "\\" not in value:
        return value
    return BASE


@router.get("/failed-pairings")
async def failed_pairings(
    request: Request, operator: CurrentOperatorPage, session: SessionDep
) -> HTMLResponse:
    f, errors = parse_filters(request.query_params)
    rows, total = await _rows(session, f, PAGE_SIZE, (f.page - 1) * PAGE_SIZE)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    first = (f.page - 1) * PAGE_SIZE + 1 if rows else 0
    context = {
        "operator": operator,
        "f": f,
        "errors": errors,
        "rows": rows,
        "total": total,
        "pages": pages,
        "first": first,
        "last": first + len(rows) - 1 if rows else 0,
        "causes": [(t, labels.cause_label(t)) for t in CAUSE_TAGS],
        "actions": list(labels.ACTION_MENU.items()),
        "here": f.url(),
        "csv_url": f.url(BASE + ".csv", page=1),
    }
    return render.page(request, "failed_pairings.html", context, section="failed")


@router.get("/failed-pairings.csv")
async def export_csv(request: Request, operator: CurrentOperatorPage, session: SessionDep) -> Response:
    """Every row of the current filter (not only the page shown), newest first."""
    f, _ = parse_filters(request.query_params)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "created_at",
            "customer",
            "customer_phone",
            "targeted_mitra",
            "cause_tag",
            "cause",
            "amount",
            "operator_action",
            "actioned_by",
            "actioned_at",
            "id",
            "payment_session_id",
        ]
    )
    offset = 0
    while offset < CSV_MAX_ROWS:
        rows, _ = await _rows(session, f, CSV_BATCH, offset)
        for r in rows:
            x = r.failure
            writer.writerow(
                [
                    x.created_at.astimezone(UTC).isoformat(),
                    _cell(r.customer_name),
                    r.customer_phone,
                    _cell(r.mitra_name or ""),
                    x.cause_tag,
                    labels.cause_label(x.cause_tag),
                    x.amount,
                    x.operator_action or "",
                    _cell(r.operator_name or ""),
                    x.actioned_at.astimezone(UTC).isoformat() if x.actioned_at else "",
                    x.id,
                    x.payment_session_id,
                ]
            )
        if len(rows) < CSV_BATCH:
            break
        offset += CSV_BATCH
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="failed-pairings-{stamp}.csv"'},
    )


def _cell(text: str) -> str:
    """Names are typed by customers: a leading = + - @ must not become a spreadsheet formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@router.get("/failed-pairings/{failure_id}/confirm")
async def confirm_action(
    request: Request, failure_id: uuid.UUID, operator: CurrentOperatorPage, session: SessionDep
) -> HTMLResponse:
    action = request.query_params.get("action", "")
    back = safe_back(request.query_params.get("back"))
    if action not in OPERATOR_ACTIONS:
        return render.page(
            request,
            "error.html",
            {"operator": operator, "message": "Unknown action.", "back": back},
            status=400,
        )
    row = await service.get_failure(session, failure_id)
    context = {
        "operator": operator,
        "row": row,
        "action": action,
        "action_text": labels.ACTION_MENU[action],
        "back": back,
    }
    return render.page(request, "confirm_action.html", context, section="failed")


@router.post("/failed-pairings/{failure_id}/action")
async def set_action(
    request: Request, failure_id: uuid.UUID, operator: CurrentOperatorPage, session: SessionDep
) -> RedirectResponse:
    form = await fields(request, "action", "back")
    back = safe_back(form["back"])
    target = f"row-{failure_id}"
    if form["action"] not in OPERATOR_ACTIONS:
        return render.redirect(request, back, error="Unknown action; nothing changed.", target=target)
    try:
        row = await service.set_operator_action(session, failure_id, operator.id, form["action"])
    except service.AlreadyActioned:
        current = await service.get_failure(session, failure_id)
        done = labels.action_label(current.failure.operator_action)
        by = current.operator_name or "another operator"
        message = f"Not changed: this row was already marked “{done}” by {by}."
        return render.redirect(request, back, error=message, target=target)
    except service.FailureNotFound:
        message = "This failed pairing no longer exists: the customer turned it into a new search."
        return render.redirect(request, back, error=message, target=target)
    done = labels.action_label(row.failure.operator_action)
    message = f"Marked “{done}”: {row.customer_name}, {labels.when(row.failure.created_at)}."
    return render.redirect(request, back, success=message, target=target)
