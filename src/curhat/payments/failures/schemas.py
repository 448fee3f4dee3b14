from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from curhat.models.pairing_failure import CauseTag, OperatorAction

__all__ = ["CauseTag", "OperatorAction"]


class FailureCustomerOut(BaseModel):
    id: uuid.UUID
    display_name: str
    phone: str


class PartyOut(BaseModel):
    id: uuid.UUID
    display_name: str


class FailedPairingOut(BaseModel):
    id: uuid.UUID
    payment_session_id: uuid.UUID
    customer: FailureCustomerOut
    targeted_mitra: PartyOut | None
    cause_tag: str
    amount: int
    operator_action: str | None
    actioned_by: PartyOut | None
    actioned_at: datetime | None
    created_at: datetime


class FailedPairingListOut(BaseModel):
    rows: list[FailedPairingOut]
    total: int


class FailureActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: OperatorAction
