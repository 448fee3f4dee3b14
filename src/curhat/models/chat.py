from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from curhat.models.base import Base, created_at, uuid_pk
from curhat.models.enums import ChatStatus, EndReason, SenderRole


class ChatSession(Base):
    __tablename__ = "chat_sessions"
    id: Mapped[uuid.UUID] = uuid_pk()
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    mitra_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("mitras.id"))
    payment_session_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("payment_sessions.id"))
    status: Mapped[ChatStatus] = mapped_column(default=ChatStatus.ACTIVE, server_default="active")
    started_at: Mapped[datetime] = created_at()
    ends_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[EndReason | None]
    duration_minutes: Mapped[int]
    # The ends_at the CHAT_SESSION_ENDING warning was sent for; an extension re-arms it.
    warned_for: Mapped[datetime | None]
    # Read receipts: the last message each side has read, and when.
    customer_read_up_to: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("chat_messages.id", ondelete="SET NULL", use_alter=True)
    )
    customer_read_at: Mapped[datetime | None]
    mitra_read_up_to: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("chat_messages.id", ondelete="SET NULL", use_alter=True)
    )
    mitra_read_at: Mapped[datetime | None]


class ChatMessage(Base):
    __tablename__ = "chat_messages"
    id: Mapped[uuid.UUID] = uuid_pk()
    chat_session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("chat_sessions.id"))
    sender_role: Mapped[SenderRole]
    body: Mapped[str]
    created_at: Mapped[datetime] = created_at()
    client_msg_id: Mapped[str | None]
