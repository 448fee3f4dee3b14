from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from curhat.pricing.schemas import MAX_TIER_MINUTES


class PaymentSessionCreateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    duration_minutes: int = Field(ge=1, le=MAX_TIER_MINUTES, description="must match an active tier")
    tier_id: uuid.UUID | None = None
    targeted_mitra_id: uuid.UUID | None = Field(
        default=None, description='"Curhat lagi": a mitra the customer chatted with before'
    )
    is_extension: bool = False
    chat_session_id: uuid.UUID | None = Field(
        default=None, description="extensions only: the customer's active chat session"
    )


class PaymentSessionCreatedOut(BaseModel):
    id: uuid.UUID
    amount: int
    is_free_trial: bool
    is_extension: bool
    duration_minutes: int
    targeted_mitra_id: uuid.UUID | None
    chat_session_id: uuid.UUID | None
    created_at: datetime
    expires_at: datetime
    status: Literal["pending"]


class PaymentStatusOut(BaseModel):
    id: uuid.UUID
    status: str


class PairingSummaryOut(BaseModel):
    pairing_request_id: uuid.UUID
    request_type: str
    status: str
    cause_tag: str | None
    chat_session_id: uuid.UUID | None
    expires_at: datetime


class PaymentSessionOut(BaseModel):
    id: uuid.UUID
    customer_id: uuid.UUID
    amount: int
    duration_minutes: int
    is_free_trial: bool
    is_extension: bool
    status: str
    targeted_mitra_id: uuid.UUID | None
    chat_session_id: uuid.UUID | None
    created_at: datetime
    confirmed_at: datetime | None
    consumed_at: datetime | None
    expires_at: datetime
    pairing: PairingSummaryOut | None
