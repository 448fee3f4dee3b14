from __future__ import annotations

import uuid

from fastapi import APIRouter

from curhat.auth.deps import CurrentCustomer, CurrentMitra
from curhat.deps import ConfigDep
from curhat.extensions import service
from curhat.extensions.schemas import ExtensionIn, ExtensionOut, ExtensionRespondIn, ExtensionRespondOut
from curhat.postgres import SessionDep

router = APIRouter(tags=["extensions"])


@router.post(
    "/api/client/chat-sessions/{chat_session_id}/extensions",
    status_code=202,
    responses={
        400: {"description": "invalid_extension_payment"},
        401: {"description": "unauthorized"},
        404: {"description": "chat_session_not_found"},
        409: {"description": "extension_pending / chat_session_ended / payment_session_not_confirmed"},
    },
)
async def request_extension(
    chat_session_id: uuid.UUID,
    body: ExtensionIn,
    principal: CurrentCustomer,
    session: SessionDep,
    config: ConfigDep,
) -> ExtensionOut:
    """Ask the mitra for more time, with a confirmed extension payment session for this chat."""
    ext = await service.request_extension(
        session, config, principal.id, chat_session_id, body.extension_payment_session_id
    )
    return ExtensionOut(
        extension_request_id=ext.id,
        status=ext.status,
        expires_at=ext.expires_at,
        duration_minutes=ext.duration_minutes,
    )


@router.post(
    "/api/mitra/extension-requests/{extension_request_id}/respond",
    responses={
        401: {"description": "unauthorized"},
        404: {"description": "extension_request_not_found"},
        409: {"description": "extension_resolved"},
    },
)
async def respond_to_extension(
    extension_request_id: uuid.UUID,
    body: ExtensionRespondIn,
    principal: CurrentMitra,
    session: SessionDep,
    config: ConfigDep,
) -> ExtensionRespondOut:
    """Approve (charges the payment and moves ends_at) or reject (voids it) an extension request."""
    ext = await service.respond_to_extension(session, config, principal.id, extension_request_id, body.action)
    return ExtensionRespondOut(extension_request_id=ext.id, status=ext.status, resolution=ext.resolution)
