from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from curhat.models.base import Base, created_at, uuid_pk
from curhat.models.enums import ExtensionStatus, Resolution


class ExtensionRequest(Base):
    __tablename__ = "extension_requests"
    id: Mapped[uuid.UUID] = uuid_pk()
    chat_session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("chat_sessions.id"))
    payment_session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payment_sessions.id"))
    duration_minutes: Mapped[int]
    status: Mapped[ExtensionStatus] = mapped_column(default=ExtensionStatus.PENDING, server_default="pending")
    resolution: Mapped[Resolution | None]
    created_at: Mapped[datetime] = created_at()
    expires_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
