from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from curhat.auth.passwords import MIN_PASSWORD_LENGTH
from curhat.auth.phone import normalise_phone
from curhat.kit.validation import reject_control_chars


class PhoneField(BaseModel):
    phone: str = Field(max_length=32)

    @field_validator("phone")
    @classmethod
    def _normalise(cls, v: str) -> str:
        return normalise_phone(v)


class RegisterIn(PhoneField):
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=256)
    display_name: str = Field(max_length=200)

    @field_validator("display_name")
    @classmethod
    def _display_name(cls, v: str) -> str:
        v = reject_control_chars(v).strip()
        if "\n" in v or "\t" in v:
            raise ValueError("Nama panggilan harus satu baris.")
        if not 1 <= len(v) <= 40:
            raise ValueError("Nama panggilan harus 1–40 karakter.")
        return v


class LoginIn(PhoneField):
    password: str = Field(min_length=1, max_length=256)


class OperatorLoginIn(BaseModel):
    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=256)

    @field_validator("email")
    @classmethod
    def _email(cls, v: str) -> str:
        return reject_control_chars(v)


class AccountOut(BaseModel):
    id: uuid.UUID
    phone: str
    display_name: str


class OperatorOut(BaseModel):
    id: uuid.UUID
    email: str
    display_name: str


class CustomerTokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    user: AccountOut


class MitraTokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    mitra: AccountOut


class OperatorTokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    user: OperatorOut


class CustomerMeOut(AccountOut):
    free_trial_eligible: bool
