from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from curhat.models.base import Base, created_at, uuid_pk
from curhat.models.enums import CauseTag, OfferResponse, RequestStatus, RequestType


class PairingRequest(Base):
    __tablename__ = "pairing_requests"
    id: Mapped[uuid.UUID] = uuid_pk()
    payment_session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payment_sessions.id"))
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    request_type: Mapped[RequestType]
    targeted_mitra_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("mitras.id"))
    status: Mapped[RequestStatus] = mapped_column(default=RequestStatus.OPEN, server_default="open")
    cause_tag: Mapped[CauseTag | None]
    accepted_mitra_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("mitras.id"))
    created_at: Mapped[datetime] = created_at()
    expires_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]


class PairingOffer(Base):
    __tablename__ = "pairing_offers"
    pairing_request_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("pairing_requests.id", ondelete="CASCADE"), primary_key=True
    )
    mitra_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("mitras.id"), primary_key=True)
    offered_at: Mapped[datetime] = created_at()
    response: Mapped[OfferResponse | None]
    responded_at: Mapped[datetime | None]
