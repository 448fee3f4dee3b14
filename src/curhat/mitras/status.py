"""A mitra's own status: going online/offline, what ``/api/mitra/me`` shows, today's figures."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

from sqlalchemy.ext.asyncio import AsyncSession

from curhat.app_config.service import ConfigSnapshot
from curhat.errors import Conflict, Forbidden, Unauthorized
from curhat.mitras import repository
from curhat.models import Mitra
from curhat.models.enums import DefaultAction
from curhat.presence.service import Presence


class NotConnected(Conflict):
    code = "not_connected"
    message = "Buka aplikasi bestie (koneksi WebSocket) sebelum online."


class MitraInactive(Forbidden):
    code = "mitra_inactive"
    message = "Akun bestie ini dinonaktifkan."


@dataclass
class MitraStatus:
    mitra: Mitra
    online: bool
    active_sessions: int
    capacity: int


async def _mitra(session: AsyncSession, mitra_id: uuid.UUID, *, share_lock: bool = False) -> Mitra:
    mitra = await session.get(Mitra, mitra_id, with_for_update={"read": True} if share_lock else None)
    if mitra is None:
        raise Unauthorized("Account no longer exists.", code="invalid_token")
    return mitra


async def set_mitra_online(
    session: AsyncSession, presence: Presence, mitra_id: uuid.UUID, online: bool
) -> bool:
    """Online needs an active account and a live WebSocket (409 ``not_connected``)."""
    if not online:
        await presence.set_offline(mitra_id)
        return False
    # FOR SHARE: a deactivation committing now waits for us, and its set_offline runs after ours.
    mitra = await _mitra(session, mitra_id, share_lock=True)
    if not mitra.is_active:
        raise MitraInactive()
    if not await presence.set_online(mitra_id):
        raise NotConnected()
    return True


async def mitra_status(
    session: AsyncSession, presence: Presence, config: ConfigSnapshot, mitra_id: uuid.UUID
) -> MitraStatus:
    mitra = await _mitra(session, mitra_id)
    capacity = config.max_customers_per_mitra
    online = mitra.is_active and await presence.is_online(mitra_id)
    return MitraStatus(mitra, online, await presence.active_count(mitra_id), capacity)


@dataclass
class TodayFigures:
    date: date
    chats: int
    minutes: int


async def today_figures(
    session: AsyncSession, mitra_id: uuid.UUID, utc_offset_minutes: int, now: datetime | None = None
) -> TodayFigures:
    """Chats started today and whole minutes spent in them, "today" being the app's local day."""
    now = now or datetime.now(UTC)
    local_now = now.astimezone(timezone(timedelta(minutes=utc_offset_minutes)))
    midnight = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
    chats, seconds = await repository.chat_figures(session, mitra_id, midnight.astimezone(UTC), now)
    return TodayFigures(local_now.date(), chats, seconds // 60)


@dataclass
class MitraAppSettings:
    """The settings whose values the mitra app shows (countdown copy, capacity)."""

    extension_timeout_seconds: int
    extension_default_action_on_timeout: DefaultAction
    returning_chat_confirmation_timeout_seconds: int
    max_customers_per_mitra: int


def app_settings(config: ConfigSnapshot) -> MitraAppSettings:
    return MitraAppSettings(
        extension_timeout_seconds=config.extension_timeout_seconds,
        extension_default_action_on_timeout=config.extension_default_action_on_timeout,
        returning_chat_confirmation_timeout_seconds=config.returning_chat_confirmation_timeout_seconds,
        max_customers_per_mitra=config.max_customers_per_mitra,
    )
