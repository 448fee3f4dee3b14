"""Input rules shared by every schema and command."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, field_validator


def has_control_chars(value: str, *, allow: str = "\n\t") -> bool:
    """PostgreSQL cannot store NUL, and no name or message needs other control characters."""
    return any(unicodedata.category(ch) == "Cc" and ch not in allow for ch in value)


def reject_control_chars(value: str) -> str:
    """For Pydantic validators: raises ValueError with the Indonesian message."""
    if has_control_chars(value):
        raise ValueError("Tidak boleh berisi karakter kontrol.")
    return value


def in_utc_range(value: datetime) -> datetime:
    """For Pydantic: an instant PostgreSQL can store once moved to UTC (0001-01-01T00:00+14:00
    is in year 0 in UTC); out of range raises ValueError, so the API answers 400."""
    if value.tzinfo is None:
        return value
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("Waktu di luar rentang yang didukung.") from None


UtcDateTime = Annotated[datetime, AfterValidator(in_utc_range)]


MESSAGE_MAX_CHARS = 2000


def message_body(value: str) -> str:
    """A chat message's text: no control characters, not blank, at most 2000 characters."""
    reject_control_chars(value)
    if not value.strip():
        raise ValueError("Pesan tidak boleh kosong.")
    if len(value) > MESSAGE_MAX_CHARS:
        raise ValueError("Pesan maksimal 2000 karakter.")
    return value


class MessageFields(BaseModel):
    """A chat message as both the REST body and the ``chat.send`` command carry it."""

    body: str = Field(max_length=4000)
    client_msg_id: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$")

    @field_validator("body")
    @classmethod
    def _body(cls, v: str) -> str:
        return message_body(v)
