"""Accounts: register, log in (rate limited), create operators and mitras."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from curhat.auth import repository
from curhat.auth.passwords import PasswordHashing
from curhat.auth.ratelimit import LoginRateLimiter
from curhat.errors import Conflict, Unauthorized
from curhat.models import CCUser, Mitra, User


class PhoneTaken(Conflict):
    code = "phone_taken"
    message = "Nomor HP sudah terdaftar."


class EmailTaken(Conflict):
    code = "email_taken"
    message = "Email sudah terdaftar."


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"
    message = "Nomor HP atau kata sandi salah."


async def register_customer(
    session: AsyncSession, passwords: PasswordHashing, phone: str, password: str, display_name: str
) -> User:
    if await repository.customer_by_phone(session, phone) is not None:
        raise PhoneTaken()
    user = await repository.insert_customer(session, phone, display_name, await passwords.hash(password))
    if user is None:
        raise PhoneTaken()
    return user


async def login_customer(
    session: AsyncSession,
    passwords: PasswordHashing,
    limiter: LoginRateLimiter,
    phone: str,
    password: str,
    address: str,
) -> User:
    await limiter.check(f"customer:{phone}", address)
    user = await repository.customer_by_phone(session, phone)
    if not await passwords.verify(user.password_hash if user else None, password) or user is None:
        await limiter.failed(f"customer:{phone}", address)
        raise InvalidCredentials()
    await limiter.succeeded(f"customer:{phone}", address)
    return user


async def login_mitra(
    session: AsyncSession,
    passwords: PasswordHashing,
    limiter: LoginRateLimiter,
    phone: str,
    password: str,
    address: str,
) -> Mitra:
    await limiter.check(f"mitra:{phone}", address)
    mitra = await repository.mitra_by_phone(session, phone)
    ok = await passwords.verify(mitra.password_hash if mitra else None, password)
    if not ok or mitra is None or not mitra.is_active:
        await limiter.failed(f"mitra:{phone}", address)
        raise InvalidCredentials()
    await limiter.succeeded(f"mitra:{phone}", address)
    return mitra


async def login_operator(
    session: AsyncSession,
    passwords: PasswordHashing,
    limiter: LoginRateLimiter,
    email: str,
    password: str,
    address: str,
) -> CCUser:
    email = email.strip().lower()
    await limiter.check(f"cc:{email}", address)
    user = await repository.operator_by_email(session, email)
    if not await passwords.verify(user.password_hash if user else None, password) or user is None:
        await limiter.failed(f"cc:{email}", address)
        raise InvalidCredentials("Email atau kata sandi salah.")
    await limiter.succeeded(f"cc:{email}", address)
    return user


async def get_operator(session: AsyncSession, operator_id: uuid.UUID) -> CCUser | None:
    """None when the operator no longer exists (a session outliving its account)."""
    return await repository.operator_by_id(session, operator_id)


async def create_operator(
    session: AsyncSession,
    passwords: PasswordHashing,
    email: str,
    password: str,
    display_name: str | None = None,
) -> CCUser:
    email = email.strip().lower()
    user = await repository.insert_operator(
        session, email, display_name or email.split("@")[0], await passwords.hash(password)
    )
    if user is None:
        raise EmailTaken()
    return user


async def ensure_operator(
    session: AsyncSession, passwords: PasswordHashing, email: str, password: str
) -> CCUser:
    """Exists after the call; an existing operator keeps their password."""
    existing = await repository.operator_by_email(session, email.strip().lower())
    if existing is not None:
        return existing
    return await create_operator(session, passwords, email, password)


async def create_mitra(
    session: AsyncSession, passwords: PasswordHashing, phone: str, password: str, display_name: str
) -> Mitra:
    mitra = await repository.insert_mitra(session, phone, display_name, await passwords.hash(password))
    if mitra is None:
        raise PhoneTaken()
    return mitra
