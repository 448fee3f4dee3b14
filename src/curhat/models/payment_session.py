from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, false
from sqlalchemy.orm import Mapped, mapped_column

from curhat.models.base import Base, created_at, uuid_pk
from curhat.models.enums import PaymentStatus


class PaymentSession(Base):
    __tablename__ = "payment_sessions"
    id: Mapped[uuid.UUID] = uuid_pk()
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    amount: Mapped[int] = mapped_column(default=0, server_default="0")
    duration_minutes: Mapped[int]
    is_free_trial: Mapped[bool] = mapped_column(default=False, server_default=false())
    status: Mapped[PaymentStatus] = mapped_column(default=PaymentStatus.PENDING, server_default="pending")
    targeted_mitra_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("mitras.id"))
    created_at: Mapped[datetime] = created_at()
    confirmed_at: Mapped[datetime | None]
    consumed_at: Mapped[datetime | None]
    expires_at: Mapped[datetime]
    is_extension: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Ours: the chat an extension payment belongs to (NULL for initial sessions).
    chat_session_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("chat_sessions.id"))
