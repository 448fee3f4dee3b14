from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import true
from sqlalchemy.orm import Mapped, mapped_column

from curhat.models.base import Base, created_at, uuid_pk


class PriceTier(Base):
    __tablename__ = "price_tiers"
    id: Mapped[uuid.UUID] = uuid_pk()
    duration_minutes: Mapped[int]
    amount: Mapped[int]
    is_active: Mapped[bool] = mapped_column(default=True, server_default=true())
    sort_order: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = created_at()
