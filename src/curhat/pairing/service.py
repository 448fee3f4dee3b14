"""Pairing: the paid blast, "Curhat lagi" (targeted), cancel, fallback, and the windows' end.

Every path starts from a confirmed payment session; there is no other way to search.
The request row is locked (``FOR UPDATE``) by whoever changes it — an accept, a reject,
a cancel, the window's deadline — so exactly one of them decides its outcome. Every one of
them locks in the same order, payment row → request row → mitra row, so they queue and
never deadlock (a cancel starts from the payment, so everyone does). The windows' deadline
closes a whole batch at once, taking each payment and request lock ``SKIP LOCKED``: it never
waits, so it cannot join a deadlock, and a busy row is left for the next poll.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import assert_never

from sqlalchemy.ext.asyncio import AsyncSession

from curhat.app_config.service import ConfigSnapshot
from curhat.chat import repository as chat_repository
from curhat.chat import service as chat_service
from curhat.deadlines.runner import DeadlineKind, DeadlineRunner
from curhat.errors import Conflict, NotFound
from curhat.kit.locks import lock_key
from curhat.mitras.errors import MitraNotFound
from curhat.models import PairingRequest, PaymentSession
from curhat.models.enums import (
    CauseTag,
    OfferAction,
    OfferResponse,
    PaymentStatus,
    RequestClosedReason,
    RequestStatus,
    RequestType,
)
from curhat.observability import note_deadline
from curhat.pairing import repository
from curhat.payments import service as payments
from curhat.payments.errors import (
    PaymentSessionAlreadyUsed,
    PaymentSessionExpired,
    PaymentSessionNotConfirmed,
)
from curhat.postgres import Transactions
from curhat.presence.service import Presence
from curhat.realtime import events, protocol
from curhat.realtime.outbox import emit, schedule

REQUEST_WINDOW = "pairing_window"


class PairingRequestNotFound(NotFound):
    code = "pairing_request_not_found"
    message = "Permintaan tidak ditemukan."


class AlreadyTaken(Conflict):
    code = "already_taken"
    message = "Permintaan ini sudah diterima bestie lain."


class RequestClosed(Conflict):
    code = "request_closed"
    message = "Permintaan ini sudah ditutup."


class AtCapacity(Conflict):
    code = "at_capacity"
    message = "Kamu sudah mencapai batas sesi bersamaan."


class NoOpenRequest(Conflict):
    code = "no_open_request"
    message = "Tidak ada pencarian yang sedang berjalan."


class TargetedMitraMismatch(Conflict):
    code = "targeted_mitra_mismatch"
    message = "Sesi pembayaran ini untuk bestie lain."


@dataclass
class TargetedOffline:
    """The pre-check failed: the payment session failed with targeted_mitra_offline."""

    payment_session_id: uuid.UUID


def _request_event(
    req: PairingRequest, customer_name: str, duration_minutes: int
) -> events.PairingRequestEvent:
    remaining = max(0, int((req.expires_at - datetime.now(UTC)).total_seconds()))
    return events.PairingRequestEvent(
        pairing_request_id=req.id,
        request_type=req.request_type,
        customer=events.CustomerName(display_name=customer_name),
        duration_minutes=duration_minutes,
        expires_at=req.expires_at,
        seconds_remaining=remaining,
    )


async def _usable_payment(
    session: AsyncSession, customer_id: uuid.UUID, payment_session_id: uuid.UUID
) -> PaymentSession:
    payment = await payments.get_owned_payment_session(
        session, payment_session_id, customer_id, for_update=True
    )
    if payment.is_extension:
        raise PaymentSessionAlreadyUsed(
            "Sesi pembayaran perpanjangan tidak bisa dipakai untuk mencari bestie."
        )
    if payment.status == PaymentStatus.CONSUMED:
        raise PaymentSessionAlreadyUsed()
    if payment.status != PaymentStatus.CONFIRMED:
        raise PaymentSessionNotConfirmed()
    if payment.expires_at <= datetime.now(UTC):
        raise PaymentSessionExpired()
    await payments.ensure_free_trial_unused(session, payment)
    if await repository.open_request_for_payment(session, payment.id) is not None:
        raise PaymentSessionAlreadyUsed("Pencarian untuk sesi pembayaran ini sedang berjalan.")
    return payment


async def _open_blast(
    session: AsyncSession, config: ConfigSnapshot, presence: Presence, payment: PaymentSession
) -> PairingRequest:
    now = datetime.now(UTC)
    req = await repository.insert_request(
        session,
        payment_session_id=payment.id,
        customer_id=payment.customer_id,
        request_type=RequestType.BLAST,
        targeted_mitra_id=None,
        created_at=now,
        # Capped at the payment's expiry: an offer accepted after it could not be paid for.
        expires_at=min(now + timedelta(seconds=config.pairing_blast_timeout_seconds), payment.expires_at),
    )
    # The available set read once, as text; offered to the active ones in one statement.
    offered = await repository.offer_to_active_mitras(session, req.id, await presence.available_mitra_keys())
    if offered:
        name = await repository.customer_name(session, payment.customer_id)
        # One envelope for every mitra: serialised once, published once.
        emit(
            session,
            _request_event(req, name, payment.duration_minutes),
            to=(protocol.mitra(m) for m in offered),
        )
    schedule(session, REQUEST_WINDOW, req.id, req.expires_at)
    return req


async def create_pairing_request(
    session: AsyncSession,
    config: ConfigSnapshot,
    presence: Presence,
    customer_id: uuid.UUID,
    payment_session_id: uuid.UUID,
) -> PairingRequest:
    payment = await _usable_payment(session, customer_id, payment_session_id)
    return await _open_blast(session, config, presence, payment)


async def create_targeted_pairing_request(
    session: AsyncSession,
    config: ConfigSnapshot,
    presence: Presence,
    customer_id: uuid.UUID,
    payment_session_id: uuid.UUID,
    mitra_id: uuid.UUID,
) -> PairingRequest | TargetedOffline:
    payment = await _usable_payment(session, customer_id, payment_session_id)
    if not await chat_repository.has_past_session(session, customer_id, mitra_id):
        raise MitraNotFound()
    if payment.targeted_mitra_id is not None and payment.targeted_mitra_id != mitra_id:
        raise TargetedMitraMismatch()
    payment.targeted_mitra_id = mitra_id
    await session.flush()

    cap = config.max_customers_per_mitra
    online = await presence.is_online(mitra_id) and bool(
        await repository.active_mitra_ids(session, [mitra_id])
    )
    has_room = await chat_repository.count_active_for_mitra(session, mitra_id) < cap
    already_with_customer = await chat_repository.has_active_with(session, mitra_id, customer_id)
    if not online or not (has_room or already_with_customer):
        await payments.fail_payment_session(session, payment.id, CauseTag.TARGETED_MITRA_OFFLINE)
        return TargetedOffline(payment.id)

    now = datetime.now(UTC)
    req = await repository.insert_request(
        session,
        payment_session_id=payment.id,
        customer_id=customer_id,
        request_type=RequestType.RETURNING,
        targeted_mitra_id=mitra_id,
        created_at=now,
        expires_at=min(
            now + timedelta(seconds=config.returning_chat_confirmation_timeout_seconds), payment.expires_at
        ),
    )
    await repository.add_offers(session, req.id, [mitra_id])
    name = await repository.customer_name(session, customer_id)
    emit(session, _request_event(req, name, payment.duration_minutes), to=[protocol.mitra(mitra_id)])
    schedule(session, REQUEST_WINDOW, req.id, req.expires_at)
    return req


async def _fail_request(
    session: AsyncSession,
    presence: Presence,
    req: PairingRequest,
    cause_tag: CauseTag,
    *,
    closed_reason: RequestClosedReason,
) -> None:
    """Close an open request as failed: payment → failed_pairing (+ failure row), tell everyone."""
    status = RequestStatus.CANCELLED if cause_tag == CauseTag.CUSTOMER_CANCELLED else RequestStatus.FAILED
    await repository.close_request(session, req, status=status, cause_tag=cause_tag)
    await payments.fail_payment_session(session, req.payment_session_id, cause_tag)
    pending = await repository.unanswered_offer_mitra_ids(session, req.id)
    if pending:
        emit(
            session,
            events.PairingRequestClosed(pairing_request_id=req.id, reason=closed_reason),
            to=(protocol.mitra(m) for m in pending),
        )
    fallback_offered = req.request_type == RequestType.RETURNING and presence.availability()[0]
    to_customer = [protocol.customer(req.customer_id)]
    emit(
        session,
        events.PairingFailed(
            payment_session_id=req.payment_session_id,
            pairing_request_id=req.id,
            cause_tag=cause_tag,
            fallback_offered=fallback_offered,
        ),
        to=to_customer,
    )
    targeted: type[events.ReturningChatTimeout] | type[events.ReturningChatRejected] | None = None
    if cause_tag == CauseTag.TARGETED_MITRA_TIMEOUT:
        targeted = events.ReturningChatTimeout
    elif cause_tag == CauseTag.TARGETED_MITRA_REJECTED:
        targeted = events.ReturningChatRejected
    if targeted is not None:
        emit(
            session,
            targeted(
                payment_session_id=req.payment_session_id,
                pairing_request_id=req.id,
                mitra_id=req.targeted_mitra_id,
                fallback_offered=fallback_offered,
            ),
            to=to_customer,
        )


@dataclass
class OpenOffer:
    request: PairingRequest
    customer_name: str
    duration_minutes: int


async def open_offers_for_mitra(session: AsyncSession, mitra_id: uuid.UUID) -> list[OpenOffer]:
    """The cards a mitra should see now (recovered after a reconnect)."""
    return [OpenOffer(*row) for row in await repository.open_offers_for_mitra(session, mitra_id)]


@dataclass
class Accepted:
    chat_session_id: uuid.UUID


async def _lock_request(
    session: AsyncSession, request_id: uuid.UUID, *, skip_locked: bool = False
) -> PairingRequest | None:
    """The request locked after its payment (the lock order); None if absent or skipped."""
    req = await repository.get_request(session, request_id)
    if (
        req is None
        or await payments.lock_payment_session(session, req.payment_session_id, skip_locked=skip_locked)
        is None
    ):
        return None
    return await repository.get_request(session, request_id, for_update=True, skip_locked=skip_locked)


async def respond_to_pairing_request(
    session: AsyncSession,
    config: ConfigSnapshot,
    presence: Presence,
    mitra_id: uuid.UUID,
    request_id: uuid.UUID,
    action: OfferAction,
) -> Accepted | None:
    await _check_before_locking(session, config, mitra_id, request_id, claim=action == OfferAction.ACCEPT)
    req = await _lock_request(session, request_id)
    offer = await repository.get_offer(session, req.id, mitra_id) if req else None
    if req is None or offer is None:
        raise PairingRequestNotFound()
    if req.status == RequestStatus.ACCEPTED:
        raise AlreadyTaken() if req.accepted_mitra_id != mitra_id else RequestClosed()
    if req.status != RequestStatus.OPEN or req.expires_at <= datetime.now(UTC) or offer.response is not None:
        raise RequestClosed()
    match action:
        case OfferAction.REJECT:
            await _reject(session, presence, req, mitra_id)
            return None
        case OfferAction.ACCEPT:
            return await _accept(session, config, presence, req, mitra_id)
        case _:
            assert_never(action)


async def _check_before_locking(
    session: AsyncSession, config: ConfigSnapshot, mitra_id: uuid.UUID, request_id: uuid.UUID, *, claim: bool
) -> None:
    """Answer what an unlocked read can already tell, before queueing for any row lock.

    In a race of many accepts only the one holding the request's claim goes on to lock rows;
    the others learn ``already_taken`` from this one statement instead of each holding a
    pooled connection while it waits for a lock it cannot win. The claim never waits, and
    whoever holds it still takes payment → request → mitra in the documented order.
    """
    check = await repository.check_before_accept(
        session,
        request_id,
        mitra_id,
        capacity=config.max_customers_per_mitra,
        claim_key=lock_key("accept", str(request_id)) if claim else None,
    )
    if check is None:
        raise PairingRequestNotFound()
    if check.status == RequestStatus.ACCEPTED:
        raise AlreadyTaken() if check.accepted_mitra_id != mitra_id else RequestClosed()
    if check.status != RequestStatus.OPEN or check.expired or check.responded:
        raise RequestClosed()
    if not claim:
        return
    if not check.mitra_active:
        raise PairingRequestNotFound()
    if check.active_chats >= config.max_customers_per_mitra:
        raise AtCapacity()
    if not check.claimed:
        raise AlreadyTaken()


async def _reject(
    session: AsyncSession, presence: Presence, req: PairingRequest, mitra_id: uuid.UUID
) -> None:
    await repository.set_offer_response(session, req.id, mitra_id, OfferResponse.REJECTED)
    if req.request_type == RequestType.RETURNING:
        await _fail_request(
            session, presence, req, CauseTag.TARGETED_MITRA_REJECTED, closed_reason=RequestClosedReason.FAILED
        )
        return
    offers = await repository.offers(session, req.id)
    if any(o.response is None and o.mitra_id != mitra_id for o in offers):
        return
    offered = {o.mitra_id for o in offers}
    others = [m for m in await presence.online_mitras_below_capacity() if m not in offered]
    if not await repository.active_mitra_ids(session, others):
        await _fail_request(
            session, presence, req, CauseTag.ALL_MITRAS_REJECTED, closed_reason=RequestClosedReason.FAILED
        )


async def _accept(
    session: AsyncSession,
    config: ConfigSnapshot,
    presence: Presence,
    req: PairingRequest,
    mitra_id: uuid.UUID,
) -> Accepted:
    mitra = await repository.lock_mitra(session, mitra_id)
    if mitra is None or not mitra.is_active:
        raise PairingRequestNotFound()
    if await chat_repository.count_active_for_mitra(session, mitra_id) >= config.max_customers_per_mitra:
        raise AtCapacity()
    payment = await payments.consume_payment_session(session, req.payment_session_id)
    chat = await chat_service.start_chat_session(
        session, config, presence, customer_id=req.customer_id, mitra_id=mitra_id, payment=payment
    )
    await repository.set_offer_response(session, req.id, mitra_id, OfferResponse.ACCEPTED)
    await repository.close_request(session, req, status=RequestStatus.ACCEPTED, accepted_mitra_id=mitra_id)
    # Read after this mitra's offer was answered: the winner is not among them.
    others = await repository.unanswered_offer_mitra_ids(session, req.id)
    if others:
        emit(
            session,
            events.PairingRequestClosed(pairing_request_id=req.id, reason=RequestClosedReason.TAKEN),
            to=(protocol.mitra(m) for m in others),
        )
    customer_name = await repository.customer_name(session, req.customer_id)
    emit(
        session,
        events.PairingMatched(
            payment_session_id=req.payment_session_id,
            pairing_request_id=req.id,
            chat_session_id=chat.id,
            mitra=events.MitraRef(id=mitra.id, display_name=mitra.display_name),
            ends_at=chat.ends_at,
        ),
        to=[protocol.customer(req.customer_id)],
    )
    emit(
        session,
        events.ChatSessionStarted(
            chat_session_id=chat.id,
            customer=events.CustomerName(display_name=customer_name),
            ends_at=chat.ends_at,
        ),
        to=[protocol.mitra(mitra_id)],
    )
    return Accepted(chat.id)


async def cancel_payment_search(
    session: AsyncSession, presence: Presence, customer_id: uuid.UUID, payment_session_id: uuid.UUID
) -> PairingRequest:
    payment = await payments.get_owned_payment_session(
        session, payment_session_id, customer_id, for_update=True
    )
    req = await repository.open_request_for_payment(session, payment.id, for_update=True)
    if req is None:
        raise NoOpenRequest()
    await _fail_request(
        session, presence, req, CauseTag.CUSTOMER_CANCELLED, closed_reason=RequestClosedReason.CANCELLED
    )
    return req


async def fallback_to_general_blast(
    session: AsyncSession,
    config: ConfigSnapshot,
    presence: Presence,
    customer_id: uuid.UUID,
    payment_session_id: uuid.UUID,
) -> PairingRequest:
    payment = await payments.revive_for_fallback(session, payment_session_id, customer_id)
    await payments.ensure_free_trial_unused(session, payment)  # raising rolls the revival back
    return await _open_blast(session, config, presence, payment)


async def fire_request_windows(session: AsyncSession, presence: Presence, ids: list[uuid.UUID]) -> int:
    """The windows of ``ids`` that are still open and due fail, in three statements for the whole
    set: the requests closed (each with its payment locked; busy ones skipped, the next poll
    retries them), the payments failed with one failure row each, the unanswered offers read;
    then the same events the per-request path sends. Returns how many closed."""
    now = datetime.now(UTC)
    closed = await repository.fail_due_windows(session, ids, now)
    if not closed:
        return 0
    # One line per batch, for its most overdue row (not one per row of a late burst).
    note_deadline(REQUEST_WINDOW, min(w.expires_at for w in closed))
    await payments.fail_payment_sessions(session, {w.payment_session_id: w.cause_tag for w in closed})
    pending = await repository.pending_offers_of(session, [w.id for w in closed])
    available = presence.availability()[0]
    for w in closed:
        if mitras := pending.get(w.id):
            emit(
                session,
                events.PairingRequestClosed(pairing_request_id=w.id, reason=RequestClosedReason.EXPIRED),
                to=(protocol.mitra(m) for m in mitras),
            )
        fallback_offered = w.request_type == RequestType.RETURNING and available
        to_customer = [protocol.customer(w.customer_id)]
        emit(
            session,
            events.PairingFailed(
                payment_session_id=w.payment_session_id,
                pairing_request_id=w.id,
                cause_tag=w.cause_tag,
                fallback_offered=fallback_offered,
            ),
            to=to_customer,
        )
        if w.cause_tag == CauseTag.TARGETED_MITRA_TIMEOUT:
            emit(
                session,
                events.ReturningChatTimeout(
                    payment_session_id=w.payment_session_id,
                    pairing_request_id=w.id,
                    mitra_id=w.targeted_mitra_id,
                    fallback_offered=fallback_offered,
                ),
                to=to_customer,
            )
    return len(closed)


async def offer_open_blasts(transactions: Transactions, mitra_id: uuid.UUID) -> None:
    """A mitra came online or freed a slot: they get the blasts still open (late joiners)."""
    async with transactions() as session:
        if not await repository.active_mitra_ids(session, [mitra_id]):
            return
        for req in await repository.open_blasts_not_offered_to(session, mitra_id):
            if await repository.add_offers(session, req.id, [mitra_id]):
                payment = await session.get(PaymentSession, req.payment_session_id)
                assert payment is not None
                name = await repository.customer_name(session, req.customer_id)
                emit(
                    session,
                    _request_event(req, name, payment.duration_minutes),
                    to=[protocol.mitra(mitra_id)],
                )


def register(deadlines: DeadlineRunner, presence: Presence, transactions: Transactions) -> None:
    """Wire pairing's deadline and its late-joiner hook into this process."""

    async def fire(session: AsyncSession, ids: list[uuid.UUID]) -> int:
        return await fire_request_windows(session, presence, ids)

    deadlines.register(DeadlineKind(REQUEST_WINDOW, repository.due_windows, fire))

    async def on_available(mitra_id: uuid.UUID) -> None:
        await offer_open_blasts(transactions, mitra_id)

    presence.on_mitra_available(on_available)
