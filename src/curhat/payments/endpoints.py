"""``/api/client/payment-sessions``: the mocked gateway (seed §2.2)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header
from fastapi.responses import JSONResponse

from curhat.auth.deps import CurrentCustomer
from curhat.deps import ConfigDep
from curhat.kit.openapi import error_responses
from curhat.models import PaymentSession
from curhat.payments import idempotency, service
from curhat.payments.schemas import (
    PairingSummaryOut,
    PaymentSessionCreatedOut,
    PaymentSessionCreateIn,
    PaymentSessionOut,
    PaymentStatusOut,
)
from curhat.postgres import SessionDep

router = APIRouter(prefix="/api/client/payment-sessions", tags=["payments"])


def _errors(*codes: tuple[int, str]) -> dict[int | str, dict[str, Any]]:
    return error_responses(*codes)


IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[!-~]+$",
        description="the same key and body within 24 h returns the first answer",
    ),
]


def _created(p: PaymentSession) -> PaymentSessionCreatedOut:
    return PaymentSessionCreatedOut(
        id=p.id,
        amount=p.amount,
        is_free_trial=p.is_free_trial,
        is_extension=p.is_extension,
        duration_minutes=p.duration_minutes,
        targeted_mitra_id=p.targeted_mitra_id,
        chat_session_id=p.chat_session_id,
        created_at=p.created_at,
        expires_at=p.expires_at,
        status="pending",
    )


@router.post(
    "",
    status_code=201,
    response_model=PaymentSessionCreatedOut,
    responses=_errors(
        (400, "validation_error (unknown tier: field duration_minutes) / chat_session_not_active"),
        (404, "mitra_not_found"),
        (409, "idempotency_key_reused"),
    ),
)
async def create_payment_session(
    body: PaymentSessionCreateIn,
    principal: CurrentCustomer,
    session: SessionDep,
    config: ConfigDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """A ``pending`` session; free for an eligible customer on tiers within the free-trial limit."""

    async def produce() -> idempotency.StoredAnswer:
        payment = await service.create_payment_session(
            session,
            config,
            principal.id,
            duration_minutes=body.duration_minutes,
            tier_id=body.tier_id,
            targeted_mitra_id=body.targeted_mitra_id,
            is_extension=body.is_extension,
            chat_session_id=body.chat_session_id,
        )
        return idempotency.StoredAnswer(201, _created(payment).model_dump(mode="json"))

    if idempotency_key is None:
        answer = await produce()
    else:
        answer = await idempotency.run_once(
            session, principal.id, idempotency_key, body.model_dump(mode="json"), produce
        )
    # JSONB does not keep key order: re-serialise so a replay is byte-identical to the first answer.
    content = PaymentSessionCreatedOut.model_validate(answer.body).model_dump(mode="json")
    return JSONResponse(content, status_code=answer.status_code)


@router.post(
    "/{payment_session_id}/confirm",
    responses=_errors(
        (404, "payment_session_not_found"),
        (409, "payment_session_expired / payment_session_not_pending / free_trial_already_used"),
    ),
)
async def confirm_payment_session(
    payment_session_id: uuid.UUID, principal: CurrentCustomer, session: SessionDep
) -> PaymentStatusOut:
    """pending → confirmed; again on a confirmed session: 200, nothing changes."""
    payment = await service.confirm_payment_session(session, payment_session_id, principal.id)
    return PaymentStatusOut(id=payment.id, status=payment.status)


@router.post(
    "/{payment_session_id}/cancel",
    responses=_errors(
        (404, "payment_session_not_found"), (409, "payment_session_not_pending / payment_session_expired")
    ),
)
async def cancel_payment_session(
    payment_session_id: uuid.UUID, principal: CurrentCustomer, session: SessionDep
) -> PaymentStatusOut:
    """pending → abandoned (leaving the payment screen)."""
    payment = await service.cancel_payment_session(session, payment_session_id, principal.id)
    return PaymentStatusOut(id=payment.id, status=payment.status)


@router.get("/{payment_session_id}", responses=_errors((404, "payment_session_not_found")))
async def get_payment_session(
    payment_session_id: uuid.UUID, principal: CurrentCustomer, session: SessionDep
) -> PaymentSessionOut:
    """The full row, plus the latest pairing request for it (null if none)."""
    detail = await service.get_payment_detail(session, payment_session_id, principal.id)
    p, req = detail.payment, detail.pairing_request
    pairing = None
    if req is not None:
        pairing = PairingSummaryOut(
            pairing_request_id=req.id,
            request_type=req.request_type,
            status=req.status,
            cause_tag=req.cause_tag,
            chat_session_id=detail.chat_session_id,
            expires_at=req.expires_at,
        )
    return PaymentSessionOut(
        id=p.id,
        customer_id=p.customer_id,
        amount=p.amount,
        duration_minutes=p.duration_minutes,
        is_free_trial=p.is_free_trial,
        is_extension=p.is_extension,
        status=p.status,
        targeted_mitra_id=p.targeted_mitra_id,
        chat_session_id=p.chat_session_id,
        created_at=p.created_at,
        confirmed_at=p.confirmed_at,
        consumed_at=p.consumed_at,
        expires_at=p.expires_at,
        pairing=pairing,
    )
