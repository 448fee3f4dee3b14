from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal, get_args

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from curhat.models.base import Base, created_at, uuid_pk

CauseTag = Literal[
    "no_mitra_available",
    "all_mitras_rejected",
    "targeted_mitra_offline",
    "targeted_mitra_rejected",
    "targeted_mitra_timeout",
    "payment_session_expired",
    "customer_cancelled",
]
OperatorAction = Literal["refunded", "credited", "no_action"]

CAUSE_TAGS: tuple[str, ...] = get_args(CauseTag)
TARGETED_CAUSES = ("targeted_mitra_offline", "targeted_mitra_rejected", "targeted_mitra_timeout")
OPERATOR_ACTIONS: tuple[str, ...] = get_args(OperatorAction)


class PairingFailure(Base):
    __tablename__ = "pairing_failures"
    id: Mapped[uuid.UUID] = uuid_pk()
    payment_session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("payment_sessions.id", ondelete="CASCADE")
    )
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    targeted_mitra_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("mitras.id"))
    cause_tag: Mapped[str]
    amount: Mapped[int]
    operator_action: Mapped[str | None]
    actioned_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cc_users.id"))
    actioned_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_at()
