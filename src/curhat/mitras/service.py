"""Mitra accounts run by operators: list with live presence, create, change, deactivate."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from curhat.app_config.service import ConfigSnapshot
from curhat.auth import service as auth_service
from curhat.auth.passwords import PasswordHashing
from curhat.kit.pagination import Page
from curhat.mitras import repository
from curhat.mitras.errors import MitraNotFound
from curhat.models import Mitra
from curhat.presence.service import Presence
from curhat.realtime.outbox import after_commit


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


async def live(presence: Presence, config: ConfigSnapshot, mitras: list[Mitra]) -> list[MitraLive]:
    """Online and active-session counts from presence (Valkey), capacity from the config."""
    capacity = config.max_customers_per_mitra
    online = await asyncio.gather(*(presence.is_online(m.id) for m in mitras))
    counts = await asyncio.gather(*(presence.active_count(m.id) for m in mitras))
    return [
        MitraLive(m, on and m.is_active, n, capacity) for m, on, n in zip(mitras, online, counts, strict=True)
    ]


async def list_mitras(
    session: AsyncSession, presence: Presence, config: ConfigSnapshot, page: Page
) -> tuple[list[MitraLive], int]:
    rows, total = await repository.list_mitras(session, page)
    return await live(presence, config, rows), total


async def get_mitra(
    session: AsyncSession, presence: Presence, config: ConfigSnapshot, mitra_id: uuid.UUID
) -> MitraLive:
    """404 ``mitra_not_found`` when there is no such mitra."""
    mitra = await repository.get(session, mitra_id)
    if mitra is None:
        raise MitraNotFound()
    return (await live(presence, config, [mitra]))[0]


async def create_mitra(
    session: AsyncSession,
    presence: Presence,
    config: ConfigSnapshot,
    passwords: PasswordHashing,
    phone: str,
    display_name: str,
    password: str,
) -> MitraLive:
    """409 ``phone_taken`` when another mitra has the phone."""
    mitra = await auth_service.create_mitra(session, passwords, phone, password, display_name)
    return (await live(presence, config, [mitra]))[0]


async def update_mitra(
    session: AsyncSession,
    presence: Presence,
    config: ConfigSnapshot,
    passwords: PasswordHashing,
    mitra_id: uuid.UUID,
    changes: MitraChanges,
) -> MitraLive:
    """The changed row; a deactivated mitra is taken offline once the change has committed."""
    # Hash first: the row lock is not held through tens of milliseconds of argon2.
    password_hash = await passwords.hash(changes.password) if changes.password is not None else None
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
    row = (await live(presence, config, [mitra]))[0]
    if deactivated:
        row.online = False

        # After commit, so a racing go-online already sees is_active = false.
        async def take_offline() -> None:
            await presence.set_offline(mitra_id)

        after_commit(session, take_offline)
    return row
