"""The mitra's own endpoints: ``POST /api/mitra/status``, ``GET /api/mitra/me``."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from pydantic import BaseModel

from curhat.auth.deps import CurrentMitra
from curhat.deps import ConfigDep, PresenceDep
from curhat.mitras import status
from curhat.postgres import SessionDep

router = APIRouter(prefix="/api/mitra", tags=["mitra status"])


class StatusIn(BaseModel):
    online: bool


class StatusOut(BaseModel):
    online: bool


class MitraMeOut(BaseModel):
    id: uuid.UUID
    phone: str
    display_name: str
    online: bool
    active_sessions: int
    capacity: int


@router.post(
    "/status",
    responses={
        401: {"description": "unauthorized"},
        403: {"description": "mitra_inactive"},
        409: {"description": "not_connected: going online needs a live WebSocket"},
    },
)
async def set_status(
    body: StatusIn, principal: CurrentMitra, session: SessionDep, presence: PresenceDep
) -> StatusOut:
    """Go online (needs a live WebSocket and an active account) or offline."""
    return StatusOut(online=await status.set_mitra_online(session, presence, principal.id, body.online))


@router.get("/me", responses={401: {"description": "unauthorized"}})
async def me(
    principal: CurrentMitra, session: SessionDep, presence: PresenceDep, config: ConfigDep
) -> MitraMeOut:
    """The mitra's own profile: online state, active chats and capacity."""
    s = await status.mitra_status(session, presence, config, principal.id)
    return MitraMeOut(
        id=s.mitra.id,
        phone=s.mitra.phone,
        display_name=s.mitra.display_name,
        online=s.online,
        active_sessions=s.active_sessions,
        capacity=s.capacity,
    )
