from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from curhat.auth.deps import CurrentCustomer, CurrentMitra
from curhat.deps import ConfigDep, PresenceDep
from curhat.models import PairingRequest
from curhat.pairing import service
from curhat.pairing.schemas import (
    CancelOut,
    ChatRequestIn,
    OfferCustomer,
    OfferListOut,
    OfferOut,
    PairingRequestOut,
    RespondIn,
    RespondOut,
    ReturningChatRequestIn,
    TargetedOfflineOut,
)
from curhat.postgres import SessionDep

router = APIRouter()
customer = APIRouter(prefix="/api/client/chat-requests", tags=["pairing"])
mitra = APIRouter(prefix="/api/mitra/pairing-requests", tags=["pairing"])

_PAYMENT_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "validation_error"},
    401: {"description": "unauthorized"},
    404: {"description": "payment_session_not_found"},
    409: {
        "description": "payment_session_not_confirmed / payment_session_expired / payment_session_already_used"
        " / free_trial_already_used"
    },
}


def _out(req: PairingRequest) -> PairingRequestOut:
    return PairingRequestOut(
        pairing_request_id=req.id,
        payment_session_id=req.payment_session_id,
        request_type=req.request_type,
        status=req.status,
        expires_at=req.expires_at,
    )


@customer.post("", status_code=202, responses=_PAYMENT_ERRORS)
async def start_search(
    body: ChatRequestIn,
    principal: CurrentCustomer,
    session: SessionDep,
    config: ConfigDep,
    presence: PresenceDep,
) -> PairingRequestOut:
    """Start the paid blast for a confirmed payment session: every online mitra below capacity is offered it."""
    req = await service.create_pairing_request(
        session, config, presence, principal.id, body.payment_session_id
    )
    return _out(req)


@customer.post("/cancel", responses={**_PAYMENT_ERRORS, 409: {"description": "no_open_request"}})
async def cancel_search(
    body: ChatRequestIn, principal: CurrentCustomer, session: SessionDep, presence: PresenceDep
) -> CancelOut:
    """Cancel the running search: the payment becomes failed_pairing with cause customer_cancelled."""
    await service.cancel_payment_search(session, presence, principal.id, body.payment_session_id)
    return CancelOut(
        payment_session_id=body.payment_session_id, status="failed_pairing", cause_tag="customer_cancelled"
    )


@customer.post(
    "/returning",
    status_code=202,
    response_model=PairingRequestOut,
    responses={
        **_PAYMENT_ERRORS,
        409: {"model": TargetedOfflineOut, "description": "targeted_mitra_offline"},
    },
)
async def start_returning(
    body: ReturningChatRequestIn,
    principal: CurrentCustomer,
    session: SessionDep,
    config: ConfigDep,
    presence: PresenceDep,
) -> PairingRequestOut | JSONResponse:
    """Curhat lagi: offer the search to one past mitra only; 409 targeted_mitra_offline when they cannot take it."""
    outcome = await service.create_targeted_pairing_request(
        session, config, presence, principal.id, body.payment_session_id, body.mitra_id
    )
    if isinstance(outcome, service.TargetedOffline):
        # Not raised: the failed payment session must be committed with this answer.
        body_out = TargetedOfflineOut(message="Bestie sedang tidak online.")
        return JSONResponse(body_out.model_dump(), status_code=409)
    return _out(outcome)


@customer.post("/{payment_session_id}/fallback-to-blast", status_code=202, responses=_PAYMENT_ERRORS)
async def fallback(
    payment_session_id: uuid.UUID,
    principal: CurrentCustomer,
    session: SessionDep,
    config: ConfigDep,
    presence: PresenceDep,
) -> PairingRequestOut:
    """After a failed Curhat lagi, search among every online mitra with the same payment session."""
    req = await service.fallback_to_general_blast(session, config, presence, principal.id, payment_session_id)
    return _out(req)


@mitra.get("", responses={401: {"description": "unauthorized"}})
async def my_offers(principal: CurrentMitra, session: SessionDep) -> OfferListOut:
    """The requests offered to this mitra that are still open (recover cards after a reconnect)."""
    offers = await service.open_offers_for_mitra(session, principal.id)
    return OfferListOut(
        rows=[
            OfferOut(
                pairing_request_id=o.request.id,
                request_type=o.request.request_type,
                customer=OfferCustomer(display_name=o.customer_name),
                duration_minutes=o.duration_minutes,
                expires_at=o.request.expires_at,
            )
            for o in offers
        ]
    )


@mitra.post(
    "/{pairing_request_id}/respond",
    responses={
        401: {"description": "unauthorized"},
        404: {"description": "pairing_request_not_found"},
        409: {"description": "already_taken / request_closed / at_capacity"},
    },
)
async def respond_to_offer(
    pairing_request_id: uuid.UUID,
    body: RespondIn,
    principal: CurrentMitra,
    session: SessionDep,
    config: ConfigDep,
    presence: PresenceDep,
) -> RespondOut:
    """Accept (opens the chat) or reject an offered request; losers of a race get 409 already_taken."""
    result = await service.respond_to_pairing_request(
        session, config, presence, principal.id, pairing_request_id, body.action
    )
    return RespondOut(
        pairing_request_id=pairing_request_id,
        action=body.action,
        chat_session_id=result.chat_session_id if result else None,
    )


router.include_router(customer)
router.include_router(mitra)
