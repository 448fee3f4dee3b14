"""Mitra accounts as the control center sees and changes them."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field, field_validator

from curhat.auth.passwords import MIN_PASSWORD_LENGTH
from curhat.auth.schemas import PhoneField
from curhat.kit.validation import has_control_chars


def clean_display_name(value: str) -> str:
    value = value.strip()
    if not 1 <= len(value) <= 40:
        raise ValueError("Nama panggilan harus 1–40 karakter.")
    if has_control_chars(value, allow=""):
        raise ValueError("Nama panggilan tidak boleh berisi karakter kontrol.")
    return value


class MitraAdminOut(BaseModel):
    id: uuid.UUID
    phone: str
    display_name: str
    is_active: bool
    created_at: datetime
    online: bool
    active_sessions: int
    capacity: int


class MitraAdminListOut(BaseModel):
    rows: list[MitraAdminOut]
    total: int


class MitraCreateIn(PhoneField):
    display_name: str = Field(max_length=200)
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=256)

    @field_validator("display_name")
    @classmethod
    def _display_name(cls, v: str) -> str:
        return clean_display_name(v)


class MitraPatchIn(BaseModel):
    is_active: bool | None = None
    display_name: str | None = Field(default=None, max_length=200)
    password: str | None = Field(default=None, min_length=MIN_PASSWORD_LENGTH, max_length=256)

    @field_validator("display_name")
    @classmethod
    def _display_name(cls, v: str | None) -> str | None:
        return None if v is None else clean_display_name(v)
