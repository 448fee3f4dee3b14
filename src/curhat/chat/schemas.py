from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel

from curhat.kit.validation import MessageFields


class Party(BaseModel):
    id: uuid.UUID
    display_name: str


class CustomerParty(BaseModel):
    display_name: str


class PendingExtensionOut(BaseModel):
    extension_request_id: uuid.UUID
    duration_minutes: int
    expires_at: datetime


class ChatSessionOut(BaseModel):
    id: uuid.UUID
    mitra: Party | None = None
    customer: CustomerParty | None = None
    status: str
    started_at: datetime
    ends_at: datetime
    ended_at: datetime | None
    end_reason: str | None
    duration_minutes: int


class ChatSessionDetailOut(ChatSessionOut):
    pending_extension: PendingExtensionOut | None
    # Read receipts survive a reload: the last message each side has read (``chat.read``).
    customer_read_up_to: uuid.UUID | None = None
    mitra_read_up_to: uuid.UUID | None = None


class ChatSessionListOut(BaseModel):
    rows: list[ChatSessionOut]
    total: int


class MessageOut(BaseModel):
    id: uuid.UUID
    sender_role: str
    body: str
    created_at: datetime
    client_msg_id: str | None


class MessageListOut(BaseModel):
    rows: list[MessageOut]


class MessageIn(MessageFields):
    """A message sent over REST (the socket's ``chat.send`` carries the same fields)."""


class EndOut(BaseModel):
    id: uuid.UUID
    status: str
    end_reason: str | None
