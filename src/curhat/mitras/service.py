"""Mitra accounts run by operators: list with live presence, create, change, deactivate."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from curhat.auth import service as auth_service
from curhat.auth.passwords import hash_password
from curhat.errors import NotFound
from curhat.internal.schemas import Page
from curhat.mitras import repository
from curhat.models import Mitra

if TYPE_CHECKING:
    from curhat.runtime import Runtime


class MitraNotFound(NotFound):
    code = "mitra_not_found"
    message = "Bestie tidak ditemukan."


@dataclass
class MitraLive:
    """A mitra row with what presence knows about them right now."""

    mitra: Mitra
    online: bool
    active_sessions: int
    capacity: int


@dataclass
class MitraChanges:
    is_active: bool | None = None
    display_name: str | None = None
    password: str | None = None


async def live(runtime: Runtime, mitras: list[Mitra]) -> list[MitraLive]:
    """Online and active-session counts from presence (Valkey), capacity from the config."""
    capacity = (await runtime.config.get()).int("max_customers_per_mitra")
    presence = runtime.presence
    online = await asyncio.gather(*(presence.is_online(m.id) for m in mitras))
    counts = await asyncio.gather(*(presence.active_count(m.id) for m in mitras))
    return [
        MitraLive(m, on and m.is_active, n, capacity) for m, on, n in zip(mitras, online, counts, strict=True)
    ]


async def count_online(runtime: Runtime) -> int:
    return await runtime.presence.online_count()


async def list_mitras(session: AsyncSession, runtime: Runtime, page: Page) -> tuple[list[MitraLive], int]:
    rows, total = await repository.list_mitras(session, page)
    return await live(runtime, rows), total


async def get_mitra(session: AsyncSession, runtime: Runtime, mitra_id: uuid.UUID) -> MitraLive:
    """404 ``mitra_not_found`` when there is no such mitra."""
    mitra = await repository.get(session, mitra_id)
    if mitra is None:
        raise MitraNotFound()
    return (await live(runtime, [mitra]))[0]


async def create_mitra(
    session: AsyncSession, runtime: Runtime, phone: str, display_name: str, password: str
) -> MitraLive:
    """409 ``phone_taken`` when another mitra has the phone."""
    mitra = await auth_service.create_mitra(session, phone, password, display_name)
    return (await live(runtime, [mitra]))[0]


async def update_mitra(
    session: AsyncSession, runtime: Runtime, mitra_id: uuid.UUID, changes: MitraChanges
) -> tuple[MitraLive, bool]:
    """The changed row, and whether it must be taken offline (after commit: ``is_active: false``)."""
    # Hash first: the row lock is not held through tens of milliseconds of argon2.
    password_hash = await hash_password(changes.password) if changes.password is not None else None
    mitra = await repository.get_for_update(session, mitra_id)
    if mitra is None:
        raise MitraNotFound()
    deactivated = changes.is_active is False
    if changes.is_active is not None:
        mitra.is_active = changes.is_active
    if changes.display_name is not None:
        mitra.display_name = changes.display_name
    if password_hash is not None:
        mitra.password_hash = password_hash
    await session.flush()
    row = (await live(runtime, [mitra]))[0]
    if deactivated:
        row.online = False
    return row, deactivated


async def set_offline_after_deactivation(runtime: Runtime, mitra_id: uuid.UUID) -> None:
    """Run after the deactivation committed, so a racing go-online already sees is_active = false."""
    await runtime.presence.set_offline(mitra_id)
