"""A mitra's own status: going online/offline, and what ``/api/mitra/me`` shows."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from curhat.app_config.service import ConfigSnapshot
from curhat.errors import Conflict, Forbidden, Unauthorized
from curhat.models import Mitra
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
