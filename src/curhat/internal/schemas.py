"""Control-center read models."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel

from curhat.kit.openapi import error_responses
from curhat.kit.pagination import Page, PageDep
from curhat.kit.validation import has_control_chars

__all__ = ["Page", "PageDep", "error_responses", "has_control_chars"]


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
