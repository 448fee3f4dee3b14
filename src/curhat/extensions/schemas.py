from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel


class ExtensionIn(BaseModel):
    extension_payment_session_id: uuid.UUID


class ExtensionOut(BaseModel):
    extension_request_id: uuid.UUID
    status: str
    expires_at: datetime
    duration_minutes: int


class ExtensionRespondIn(BaseModel):
    action: Literal["approve", "reject"]


class ExtensionRespondOut(BaseModel):
    extension_request_id: uuid.UUID
    status: str
    resolution: str | None
