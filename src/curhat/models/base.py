from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import DateTime, Dialect, String, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from curhat.models import enums


class EnumText(TypeDecorator[StrEnum]):
    """A ``StrEnum`` stored as its plain string (the CHECK constraints keep the set closed)."""

    impl = String
    cache_ok = True

    def __init__(self, enum_cls: type[StrEnum]) -> None:
        super().__init__()
        self.enum_cls = enum_cls

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else str(self.enum_cls(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> StrEnum | None:
        return None if value is None else self.enum_cls(value)


_ENUMS: list[type[StrEnum]] = [
    enums.PaymentStatus,
    enums.RequestType,
    enums.RequestStatus,
    enums.OfferResponse,
    enums.ChatStatus,
    enums.EndReason,
    enums.ExtensionStatus,
    enums.Resolution,
    enums.CauseTag,
    enums.OperatorAction,
    enums.SenderRole,
]


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: DateTime(timezone=True),
        uuid.UUID: UUID(as_uuid=True),
        **{cls: EnumText(cls) for cls in _ENUMS},
    }


def uuid_pk() -> Mapped[uuid.UUID]:
    return mapped_column(primary_key=True, default=uuid.uuid4, server_default=func.gen_random_uuid())


def created_at() -> Mapped[datetime]:
    return mapped_column(server_default=func.now())
