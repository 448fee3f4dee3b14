from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from curhat.models.base import Base, created_at, uuid_pk
from curhat.models.enums import TARGETED_CAUSES, CauseTag, OperatorAction

# Kept as names other modules import; the vocabulary itself is in ``models.enums``.
CAUSE_TAGS: tuple[CauseTag, ...] = tuple(CauseTag)
OPERATOR_ACTIONS: tuple[OperatorAction, ...] = tuple(OperatorAction)


__all__ = [
    "CAUSE_TAGS",
    "OPERATOR_ACTIONS",
    "TARGETED_CAUSES",
    "CauseTag",
    "OperatorAction",
    "PairingFailure",
]


class PairingFailure(Base):
    __tablename__ = "pairing_failures"
    id: Mapped[uuid.UUID] = uuid_pk()
    payment_session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("payment_sessions.id", ondelete="CASCADE")
    )
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    targeted_mitra_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("mitras.id"))
    cause_tag: Mapped[CauseTag]
    amount: Mapped[int]
    operator_action: Mapped[OperatorAction | None]
    actioned_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cc_users.id"))
    actioned_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_at()
