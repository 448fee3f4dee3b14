"""The mitra's own endpoints: status, ``me``, today's figures and the settings the app shows."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from curhat.auth.deps import CurrentMitra
from curhat.deps import ConfigDep, PresenceDep
from curhat.mitras import status
from curhat.models.enums import DefaultAction
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


class TodayOut(BaseModel):
    date: date
    chats: int
    minutes: int


class MitraSettingsOut(BaseModel):
    extension_timeout_seconds: int
    extension_default_action_on_timeout: DefaultAction
    returning_chat_confirmation_timeout_seconds: int
    max_customers_per_mitra: int


@router.get("/today", responses={401: {"description": "unauthorized"}})
async def today(
    principal: CurrentMitra,
    session: SessionDep,
    utc_offset_minutes: Annotated[
        int, Query(ge=-720, le=840, description="the app's UTC offset; default WIB (UTC+7)")
    ] = 420,
) -> TodayOut:
    """Chats started today (in the app's time zone) and the whole minutes spent in them so far."""
    figures = await status.today_figures(session, principal.id, utc_offset_minutes)
    return TodayOut(date=figures.date, chats=figures.chats, minutes=figures.minutes)


@router.get("/settings", responses={401: {"description": "unauthorized"}})
async def settings(principal: CurrentMitra, config: ConfigDep) -> MitraSettingsOut:
    """The operator settings the app's copy follows (extension countdown, capacity)."""
    return MitraSettingsOut.model_validate(status.app_settings(config), from_attributes=True)
