"""Control-center read models, paging and the error envelope as OpenAPI sees it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Depends, Query
from pydantic import BaseModel, ConfigDict

MAX_LIMIT = 200
DEFAULT_LIMIT = 50
# Far beyond any real table, and well inside PostgreSQL's bigint OFFSET.
MAX_OFFSET = 1_000_000_000


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int


def paging(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="rows per page (1–200)")] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> Page:
    return Page(limit, offset)


PageDep = Annotated[Page, Depends(paging)]


def has_control_chars(value: str) -> bool:
    """PostgreSQL refuses NUL in text; other control characters have no place in names either."""
    return any(ord(c) < 32 or ord(c) == 127 for c in value)


class FieldErrorOut(BaseModel):
    field: str
    message: str


class ErrorOut(BaseModel):
    """Every non-2xx body; some codes add fields (``fields`` for validation_error)."""

    model_config = ConfigDict(extra="allow")

    error: str
    message: str
    fields: list[FieldErrorOut] | None = None


def error_responses(*codes: tuple[int, str]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for an operator endpoint: 400, 401, ``codes``, then any other 4XX.

    Declaring ``4XX`` also keeps FastAPI from documenting its default 422, which this API
    never answers (validation failures are 400 ``validation_error``).
    """
    out: dict[int | str, dict[str, Any]] = {
        400: {"model": ErrorOut, "description": "validation_error"},
        401: {"model": ErrorOut, "description": "unauthorized / invalid_token / wrong_role"},
    }
    for status, description in codes:
        out[status] = {"model": ErrorOut, "description": description}
    out["4XX"] = {"model": ErrorOut, "description": "any other client error, same envelope"}
    out[503] = {"model": ErrorOut, "description": "service_unavailable (with Retry-After)"}
    return out


class CustomerRowOut(BaseModel):
    id: uuid.UUID
    phone: str
    display_name: str
    created_at: datetime


class CustomerListOut(BaseModel):
    rows: list[CustomerRowOut]
    total: int


class PartyOut(BaseModel):
    id: uuid.UUID
    display_name: str


class ChatSessionRowOut(BaseModel):
    id: uuid.UUID
    customer: PartyOut
    mitra: PartyOut
    status: str
    started_at: datetime
    ends_at: datetime
    ended_at: datetime | None
    end_reason: str | None
    duration_minutes: int


class ChatSessionListOut(BaseModel):
    rows: list[ChatSessionRowOut]
    total: int


class PairingCountsOut(BaseModel):
    matched: int
    failed: dict[str, int]
    total: int


class TimeToPairOut(BaseModel):
    p50: float | None
    p95: float | None


class StatsOut(BaseModel):
    date_from: date
    date_to: date
    pairings: PairingCountsOut
    time_to_pair_seconds: TimeToPairOut
    unactioned_failures: int
    online_mitras: int
