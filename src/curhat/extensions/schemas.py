from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel

from curhat.models.enums import ExtensionAction


class ExtensionIn(BaseModel):
    extension_payment_session_id: uuid.UUID


class ExtensionOut(BaseModel):
    extension_request_id: uuid.UUID
    status: str
    expires_at: datetime
    duration_minutes: int


class ExtensionRespondIn(BaseModel):
    action: ExtensionAction


class ExtensionRespondOut(BaseModel):
    extension_request_id: uuid.UUID
    status: str
    resolution: str | None
