from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from curhat.models.enums import OfferAction, RequestType


class ChatRequestIn(BaseModel):
    payment_session_id: uuid.UUID


class ReturningChatRequestIn(BaseModel):
    payment_session_id: uuid.UUID
    mitra_id: uuid.UUID


class PairingRequestOut(BaseModel):
    pairing_request_id: uuid.UUID
    payment_session_id: uuid.UUID
    request_type: RequestType
    status: str
    expires_at: datetime


class CancelOut(BaseModel):
    payment_session_id: uuid.UUID
    status: str
    cause_tag: str


class TargetedOfflineOut(BaseModel):
    error: Literal["targeted_mitra_offline"] = "targeted_mitra_offline"
    reason: Literal["targeted_mitra_offline"] = "targeted_mitra_offline"
    message: str


class RespondIn(BaseModel):
    action: OfferAction


class RespondOut(BaseModel):
    pairing_request_id: uuid.UUID
    action: str
    chat_session_id: uuid.UUID | None = None


class OfferCustomer(BaseModel):
    display_name: str


class OfferOut(BaseModel):
    pairing_request_id: uuid.UUID
    request_type: str
    customer: OfferCustomer
    duration_minutes: int
    expires_at: datetime


class OfferListOut(BaseModel):
    rows: list[OfferOut]
