"""Mitra accounts run by operators: list with live presence, create, change, deactivate."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from sqlalchemy.ext.asyncio import AsyncSession

from curhat.auth import service as auth_service
from curhat.auth.passwords import hash_password
from curhat.errors import NotFound
from curhat.internal.schemas import Page
from curhat.mitras import repository
from curhat.models import Mitra

if TYPE_CHECKING:
    from curhat.runtime import Runtime

log = logging.getLogger(__name__)


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


def _presence_call(runtime: Runtime, name: str) -> Callable[[uuid.UUID], Awaitable[object]] | None:
    """A presence method when this build has it (presence and this module land separately)."""
    method = getattr(runtime.presence, name, None)
    return cast("Callable[[uuid.UUID], Awaitable[object]] | None", method)


async def live(session: AsyncSession, runtime: Runtime, mitras: list[Mitra]) -> list[MitraLive]:
    capacity = (await runtime.config.get()).int("max_customers_per_mitra")
    is_online = _presence_call(runtime, "is_online")
    active_count = _presence_call(runtime, "active_count")
    ids = [m.id for m in mitras]
    if is_online is not None:
        online = [bool(v) for v in await asyncio.gather(*(is_online(i) for i in ids))]
    else:
        online = [False] * len(ids)
    if active_count is not None:
        counts = [int(cast(int, v)) for v in await asyncio.gather(*(active_count(i) for i in ids))]
    else:
        by_id = await repository.active_session_counts(session, ids)
        counts = [by_id.get(i, 0) for i in ids]
    return [
        MitraLive(m, on and m.is_active, n, capacity) for m, on, n in zip(mitras, online, counts, strict=True)
    ]


async def count_online(runtime: Runtime, mitra_ids: list[uuid.UUID]) -> int | None:
    """How many of these mitras are online; None when presence cannot tell."""
    online_count = getattr(runtime.presence, "online_count", None)
    if online_count is not None:
        return int(await online_count())
    is_online = _presence_call(runtime, "is_online")
    if is_online is None:
        return None
    return sum(bool(v) for v in await asyncio.gather(*(is_online(i) for i in mitra_ids)))


async def list_mitras(session: AsyncSession, runtime: Runtime, page: Page) -> tuple[list[MitraLive], int]:
    rows, total = await repository.list_mitras(session, page)
    return await live(session, runtime, rows), total


async def create_mitra(
    session: AsyncSession, runtime: Runtime, phone: str, display_name: str, password: str
) -> MitraLive:
    """409 ``phone_taken`` when another mitra has the phone."""
    mitra = await auth_service.create_mitra(session, phone, password, display_name)
    return (await live(session, runtime, [mitra]))[0]


async def update_mitra(
    session: AsyncSession, runtime: Runtime, mitra_id: uuid.UUID, changes: MitraChanges
) -> tuple[MitraLive, bool]:
    """The changed row, and whether this change deactivated the mitra (set them offline after commit)."""
    mitra = await repository.get_for_update(session, mitra_id)
    if mitra is None:
        raise MitraNotFound()
    deactivated = changes.is_active is False and mitra.is_active
    if changes.is_active is not None:
        mitra.is_active = changes.is_active
    if changes.display_name is not None:
        mitra.display_name = changes.display_name
    if changes.password is not None:
        mitra.password_hash = await hash_password(changes.password)
    await session.flush()
    row = (await live(session, runtime, [mitra]))[0]
    if deactivated:
        row.online = False
    return row, deactivated


async def set_offline_after_deactivation(runtime: Runtime, mitra_id: uuid.UUID) -> None:
    """Run after the deactivation committed, so a racing go-online sees is_active = false."""
    set_offline = _presence_call(runtime, "set_offline")
    if set_offline is None:
        log.info("presence has no set_offline; deactivated mitra %s stays as presence has them", mitra_id)
        return
    await set_offline(mitra_id)
