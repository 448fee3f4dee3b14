from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from curhat.models import CCUser, Mitra, User


async def insert_customer(
    session: AsyncSession, phone: str, display_name: str, password_hash: str
) -> User | None:
    """None when the phone is taken (no exception, so the transaction stays usable)."""
    stmt = (
        insert(User)
        .values(id=uuid.uuid4(), phone=phone, display_name=display_name, password_hash=password_hash)
        .on_conflict_do_nothing(index_elements=[User.phone])
        .returning(User)
    )
    return (await session.scalars(stmt)).one_or_none()


async def customer_by_phone(session: AsyncSession, phone: str) -> User | None:
    return (await session.scalars(select(User).where(User.phone == phone))).one_or_none()


async def customer_by_id(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)


async def mitra_by_phone(session: AsyncSession, phone: str) -> Mitra | None:
    return (await session.scalars(select(Mitra).where(Mitra.phone == phone))).one_or_none()


async def operator_by_email(session: AsyncSession, email: str) -> CCUser | None:
    return (await session.scalars(select(CCUser).where(CCUser.email == email))).one_or_none()


async def operator_by_id(session: AsyncSession, operator_id: uuid.UUID) -> CCUser | None:
    return await session.get(CCUser, operator_id)


async def insert_operator(
    session: AsyncSession, email: str, display_name: str, password_hash: str
) -> CCUser | None:
    stmt = (
        insert(CCUser)
        .values(id=uuid.uuid4(), email=email, display_name=display_name, password_hash=password_hash)
        .on_conflict_do_nothing(index_elements=[CCUser.email])
        .returning(CCUser)
    )
    return (await session.scalars(stmt)).one_or_none()


async def insert_mitra(
    session: AsyncSession, phone: str, display_name: str, password_hash: str
) -> Mitra | None:
    stmt = (
        insert(Mitra)
        .values(id=uuid.uuid4(), phone=phone, display_name=display_name, password_hash=password_hash)
        .on_conflict_do_nothing(index_elements=[Mitra.phone])
        .returning(Mitra)
    )
    return (await session.scalars(stmt)).one_or_none()
