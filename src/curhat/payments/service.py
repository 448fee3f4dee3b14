"""Payment sessions (mocked gateway): create, confirm, cancel, consume, fail, void, revive, expire.

Every transition is one compare-and-set (``UPDATE … WHERE status = <from> … RETURNING``)
that also checks ``expires_at`` where the rule says so, inside the caller's transaction;
nothing here commits. A transition that finds the row elsewhere is a no-op for the
idempotent calls (confirm again, fail, void) or a 409 with a stable code.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from curhat.app_config.service import ConfigSnapshot
from curhat.errors import ValidationFailed
from curhat.kit.locks import advisory_xact_lock, lock_key
from curhat.mitras.errors import MitraNotFound
from curhat.models import PairingFailure, PairingRequest, PaymentSession
from curhat.models.enums import CauseTag
from curhat.models.pairing_failure import CAUSE_TAGS, TARGETED_CAUSES
from curhat.payments import repository
from curhat.payments.errors import (
    ChatSessionNotActive,
    FallbackNotAvailable,
    FreeTrialAlreadyUsed,
    IdempotencyKeyReused,
    PaymentSessionAlreadyUsed,
    PaymentSessionExpired,
    PaymentSessionNotConfirmed,
    PaymentSessionNotFound,
    PaymentSessionNotPending,
)
from curhat.payments.failures import repository as failure_repository
from curhat.payments.failures import service as failures
from curhat.pricing import service as pricing

log = logging.getLogger(__name__)

__all__ = [
    "ChatSessionNotActive",
    "FallbackNotAvailable",
    "FreeTrialAlreadyUsed",
    "IdempotencyKeyReused",
    "MitraNotFound",
    "PaymentDetail",
    "PaymentSessionAlreadyUsed",
    "PaymentSessionExpired",
    "PaymentSessionNotConfirmed",
    "PaymentSessionNotFound",
    "PaymentSessionNotPending",
    "cancel_payment_session",
    "confirm_payment_session",
    "consume_payment_session",
    "create_payment_session",
    "ensure_free_trial_unused",
    "expire_stale_payment_sessions",
    "fail_payment_session",
    "get_owned_payment_session",
    "get_payment_detail",
    "lock_payment_session",
    "revive_for_fallback",
    "void_payment_session",
]

SWEEP_BATCH = 500


def _now() -> datetime:
    return datetime.now(UTC)


async def create_payment_session(
    session: AsyncSession,
    config: ConfigSnapshot,
    customer_id: uuid.UUID,
    *,
    duration_minutes: int,
    tier_id: uuid.UUID | None = None,
    targeted_mitra_id: uuid.UUID | None = None,
    is_extension: bool = False,
    chat_session_id: uuid.UUID | None = None,
) -> PaymentSession:
    """A ``pending`` session priced from the active tier of that duration."""
    now = _now()
    if is_extension:
        if targeted_mitra_id is not None:
            raise ValidationFailed(
                [{"field": "targeted_mitra_id", "message": "Perpanjangan tidak menargetkan bestie."}]
            )
        if chat_session_id is None or not await repository.is_active_chat_of(
            session, chat_session_id, customer_id, now
        ):
            raise ChatSessionNotActive()
    elif chat_session_id is not None:
        raise ValidationFailed(
            [{"field": "chat_session_id", "message": "chat_session_id hanya untuk perpanjangan."}]
        )
    if targeted_mitra_id is not None and not await repository.has_past_chat_with(
        session, customer_id, targeted_mitra_id
    ):
        raise MitraNotFound()
    price = await pricing.quote(
        session,
        customer_id,
        config,
        duration_minutes=duration_minutes,
        tier_id=tier_id,
        is_extension=is_extension,
    )
    return await repository.insert_session(
        session,
        customer_id=customer_id,
        amount=price.amount,
        duration_minutes=price.duration_minutes,
        is_free_trial=price.is_free_trial,
        status="pending",
        targeted_mitra_id=targeted_mitra_id,
        created_at=now,
        expires_at=now + timedelta(minutes=config.payment_session_timeout_minutes),
        is_extension=is_extension,
        chat_session_id=chat_session_id if is_extension else None,
    )


async def get_owned_payment_session(
    session: AsyncSession, payment_session_id: uuid.UUID, customer_id: uuid.UUID, *, for_update: bool = False
) -> PaymentSession:
    """404 ``payment_session_not_found`` when it does not exist *or* belongs to someone else."""
    payment = await repository.get(
        session, payment_session_id, customer_id=customer_id, for_update=for_update
    )
    if payment is None:
        raise PaymentSessionNotFound()
    return payment


async def lock_payment_session(
    session: AsyncSession, payment_session_id: uuid.UUID, *, skip_locked: bool = False
) -> PaymentSession | None:
    """Lock the row first: payment → request (pairing or extension) → chat → mitra is the one lock
    order of every transaction that touches more than one of them (docs/decisions.md)."""
    return await repository.get(session, payment_session_id, for_update=True, skip_locked=skip_locked)


async def confirm_payment_session(
    session: AsyncSession, payment_session_id: uuid.UUID, customer_id: uuid.UUID
) -> PaymentSession:
    """pending → confirmed (the mocked charge). Again on a confirmed one: unchanged."""
    now = _now()
    payment = await get_owned_payment_session(session, payment_session_id, customer_id)
    # Invariant 9: a trial consumed since this session was priced cannot be paid with it.
    if (
        payment.status == "pending"
        and payment.is_free_trial
        and await repository.customer_has_consumed_free_trial(session, customer_id)
    ):
        raise FreeTrialAlreadyUsed()
    confirmed = await repository.transition(
        session,
        payment_session_id,
        from_status="pending",
        to_status="confirmed",
        where=(repository.not_expired(now),),
        confirmed_at=now,
    )
    if confirmed is not None:
        return confirmed
    payment = await get_owned_payment_session(session, payment_session_id, customer_id)
    if payment.status in ("pending", "expired") or payment.expires_at <= now:
        raise PaymentSessionExpired()
    if payment.status == "confirmed":
        return payment
    raise PaymentSessionNotPending()


async def cancel_payment_session(
    session: AsyncSession, payment_session_id: uuid.UUID, customer_id: uuid.UUID
) -> PaymentSession:
    """pending → abandoned (the customer left the payment screen); 409 otherwise."""
    await get_owned_payment_session(session, payment_session_id, customer_id)
    cancelled = await repository.transition(
        session,
        payment_session_id,
        from_status="pending",
        to_status="abandoned",
        where=(repository.not_expired(_now()),),
    )
    if cancelled is not None:
        return cancelled
    payment = await get_owned_payment_session(session, payment_session_id, customer_id)
    if payment.status in ("pending", "expired"):
        raise PaymentSessionExpired()
    raise PaymentSessionNotPending()


async def ensure_free_trial_unused(session: AsyncSession, payment: PaymentSession) -> None:
    """Refuse a search on a free trial once another trial was consumed: no accept could pay with it."""
    if payment.is_free_trial and await repository.customer_has_consumed_free_trial(
        session, payment.customer_id, other_than=payment.id
    ):
        raise FreeTrialAlreadyUsed()


async def consume_payment_session(session: AsyncSession, payment_session_id: uuid.UUID) -> PaymentSession:
    """confirmed → consumed (a chat starts or an extension is approved), before expires_at only."""
    now = _now()
    payment = await repository.get(session, payment_session_id, for_update=True)
    if payment is None:
        raise PaymentSessionNotFound()
    if payment.is_free_trial and payment.status == "confirmed":
        # Two free trials confirmed in parallel: the second consume waits here, then refuses.
        await advisory_xact_lock(session, lock_key("free-trial", str(payment.customer_id)))
        if await repository.customer_has_consumed_free_trial(
            session, payment.customer_id, other_than=payment.id
        ):
            raise FreeTrialAlreadyUsed()
    consumed = await repository.transition(
        session,
        payment_session_id,
        from_status="confirmed",
        to_status="consumed",
        where=(repository.not_expired(now),),
        consumed_at=now,
    )
    if consumed is not None:
        return consumed
    if payment.status == "consumed":
        raise PaymentSessionAlreadyUsed()
    if payment.status in ("confirmed", "expired"):
        raise PaymentSessionExpired()
    raise PaymentSessionNotConfirmed()


async def fail_payment_session(
    session: AsyncSession, payment_session_id: uuid.UUID, cause_tag: str
) -> PairingFailure | None:
    """confirmed → failed_pairing, with its pairing_failures row; None (no-op) if not confirmed.

    Extension payments never fail this way (they are voided or expire).
    """
    if cause_tag not in CAUSE_TAGS:
        raise ValueError(f"unknown cause tag {cause_tag!r}")
    failed = await repository.transition(
        session,
        payment_session_id,
        from_status="confirmed",
        to_status="failed_pairing",
        where=(PaymentSession.is_extension.is_(False),),
    )
    if failed is None:
        return None
    return await failures.record_failure(session, failed, cause_tag)


async def fail_payment_sessions(session: AsyncSession, causes: dict[uuid.UUID, CauseTag]) -> set[uuid.UUID]:
    """``fail_payment_session`` for a set (payment id → cause), in one statement: every one still
    confirmed → failed_pairing, with its failure row. The ids of those that moved."""
    if unknown := [c for c in causes.values() if c not in CAUSE_TAGS]:
        raise ValueError(f"unknown cause tag {unknown[0]!r}")
    return set(await repository.fail_confirmed_with_failure_rows(session, dict(causes)))


async def void_payment_session(session: AsyncSession, payment_session_id: uuid.UUID) -> bool:
    """Extension rejected: confirmed → voided (no charge). False when it was not confirmed."""
    voided = await repository.transition(
        session,
        payment_session_id,
        from_status="confirmed",
        to_status="voided",
        where=(PaymentSession.is_extension.is_(True),),
    )
    return voided is not None


async def revive_for_fallback(
    session: AsyncSession, payment_session_id: uuid.UUID, customer_id: uuid.UUID
) -> PaymentSession:
    """failed_pairing → confirmed after a targeted failure, deleting its failure row (product.md §1).

    Only for targeted causes, before expires_at, and while no operator actioned the row. The
    failure row is deleted with ``… WHERE operator_action IS NULL RETURNING``: an operator
    action racing it either lands first (this answers 409 already_actioned) or finds no row.
    """
    now = _now()
    payment = await get_owned_payment_session(session, payment_session_id, customer_id, for_update=True)
    if payment.status != "failed_pairing":
        raise FallbackNotAvailable()
    if payment.expires_at <= now:
        raise PaymentSessionExpired()
    deleted = await failure_repository.delete_unactioned_targeted(session, payment.id)
    if deleted is None:
        failure = await failure_repository.failure_for_payment(session, payment.id)
        if failure is not None and failure.cause_tag in TARGETED_CAUSES and failure.operator_action:
            raise failures.AlreadyActioned()
        raise FallbackNotAvailable()
    revived = await repository.transition(
        session,
        payment.id,
        from_status="failed_pairing",
        to_status="confirmed",
        where=(repository.not_expired(now),),
    )
    if revived is None:  # we hold the row lock; only a clock edge can get here
        raise PaymentSessionExpired()
    return revived


async def expire_stale_payment_sessions(session: AsyncSession) -> int:
    """The sweeper: pending past expires_at → expired; confirmed past it and unused →
    failed_pairing (payment_session_expired, with a failure row) or, for an extension, expired."""
    now = _now()
    count = len(await repository.expire_pending(session, now))
    ext_ids = await repository.lock_stale_confirmed(session, now, is_extension=True, limit=SWEEP_BATCH)
    count += len(
        await repository.mark_stale_confirmed(session, ext_ids, now, is_extension=True, to_status="expired")
    )
    ids = await repository.lock_stale_confirmed(session, now, is_extension=False, limit=SWEEP_BATCH)
    for payment in await repository.mark_stale_confirmed(
        session, ids, now, is_extension=False, to_status="failed_pairing"
    ):
        await failures.record_failure(session, payment, "payment_session_expired")
        count += 1
    return count


@dataclass(frozen=True)
class PaymentDetail:
    payment: PaymentSession
    pairing_request: PairingRequest | None
    chat_session_id: uuid.UUID | None


async def get_payment_detail(
    session: AsyncSession, payment_session_id: uuid.UUID, customer_id: uuid.UUID
) -> PaymentDetail:
    """The row, its latest pairing request and the chat it paid for (GET …/payment-sessions/{id})."""
    payment = await get_owned_payment_session(session, payment_session_id, customer_id)
    req = await repository.latest_pairing_request(session, payment.id)
    chat_id = await repository.chat_for_payment(session, payment.id)
    return PaymentDetail(payment, req, chat_id)
