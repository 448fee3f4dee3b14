from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

MAX_TIER_MINUTES = 600
MAX_AMOUNT = 100_000_000
SORT_ORDER_LIMIT = 1_000_000


class TierOut(BaseModel):
    id: uuid.UUID
    duration_minutes: int
    amount: int
    is_free_trial: bool


class PricingOut(BaseModel):
    tiers: list[TierOut]
    free_trial_eligible: bool


class PriceTierAdminOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    duration_minutes: int
    amount: int
    is_active: bool
    sort_order: int
    created_at: datetime


class PriceTierListOut(BaseModel):
    rows: list[PriceTierAdminOut]


class PriceTierCreateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    duration_minutes: int = Field(ge=1, le=MAX_TIER_MINUTES)
    amount: int = Field(ge=0, le=MAX_AMOUNT)
    sort_order: int | None = Field(default=None, ge=-SORT_ORDER_LIMIT, le=SORT_ORDER_LIMIT)


class PriceTierPatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: int | None = Field(default=None, ge=0, le=MAX_AMOUNT)
    is_active: bool | None = None
    sort_order: int | None = Field(default=None, ge=-SORT_ORDER_LIMIT, le=SORT_ORDER_LIMIT)
