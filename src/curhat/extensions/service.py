"""Extensions: charged at approval; an unanswered one follows the configured default,
and auto-approves only while the mitra is still connected and online.

Lock order as everywhere: payment row → extension request row → chat row.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import assert_never

from sqlalchemy.ext.asyncio import AsyncSession

from curhat.app_config.service import ConfigService, ConfigSnapshot
from curhat.auth.tokens import Principal
from curhat.chat import repository as chat_repository
from curhat.chat import service as chat_service
from curhat.deadlines.runner import DeadlineKind, DeadlineRunner
from curhat.errors import BadRequest, Conflict, CurhatError, NotFound
from curhat.extensions import repository
from curhat.models import ExtensionRequest
from curhat.models.enums import (
    ChatStatus,
    DefaultAction,
    ExtensionAction,
    ExtensionStatus,
    PaymentStatus,
    Resolution,
)
from curhat.observability import note_deadline
from curhat.payments import service as payments
from curhat.payments.errors import PaymentSessionExpired, PaymentSessionNotConfirmed
from curhat.presence.service import Presence
from curhat.realtime import events, protocol
from curhat.realtime.outbox import emit, schedule

EXTENSION_ANSWER = "extension_answer"


class InvalidExtensionPayment(BadRequest):
    code = "invalid_extension_payment"
    message = "Perpanjangan butuh sesi pembayaran perpanjangan (bukan uji coba gratis) untuk sesi ini."


class ExtensionPending(Conflict):
    code = "extension_pending"
    message = "Masih ada permintaan perpanjangan yang menunggu jawaban."


class ExtensionResolved(Conflict):
    code = "extension_resolved"
    message = "Permintaan perpanjangan ini sudah dijawab."


class ExtensionNotFound(NotFound):
    code = "extension_request_not_found"
    message = "Permintaan perpanjangan tidak ditemukan."


async def request_extension(
    session: AsyncSession,
    config: ConfigSnapshot,
    customer_id: uuid.UUID,
    chat_id: uuid.UUID,
    payment_id: uuid.UUID,
) -> ExtensionRequest:
    payment = await payments.get_owned_payment_session(session, payment_id, customer_id, for_update=True)
    chat = await chat_service.get_for(session, Principal(customer_id, "customer"), chat_id, for_update=True)
    if chat.status != ChatStatus.ACTIVE or chat.ends_at <= datetime.now(UTC):
        raise chat_service.ChatSessionEnded()
    if not payment.is_extension or payment.is_free_trial or payment.chat_session_id != chat.id:
        raise InvalidExtensionPayment()
    if payment.status != PaymentStatus.CONFIRMED:
        raise PaymentSessionNotConfirmed()
    if payment.expires_at <= datetime.now(UTC):
        raise PaymentSessionExpired()
    if await chat_repository.pending_extension(session, chat.id) is not None:
        raise ExtensionPending()
    ext = await repository.insert(
        session,
        chat_id=chat.id,
        payment_id=payment.id,
        minutes=payment.duration_minutes,
        expires_at=datetime.now(UTC) + timedelta(seconds=config.extension_timeout_seconds),
    )
    emit(
        session,
        events.ExtensionRequestEvent(
            extension_request_id=ext.id,
            chat_session_id=chat.id,
            duration_minutes=ext.duration_minutes,
            expires_at=ext.expires_at,
            default_action=config.extension_default_action_on_timeout,
        ),
        to=[protocol.mitra(chat.mitra_id)],
    )
    schedule(session, EXTENSION_ANSWER, ext.id, ext.expires_at)
    return ext


async def _approve(
    session: AsyncSession, config: ConfigSnapshot, ext: ExtensionRequest, resolution: Resolution
) -> None:
    chat = await chat_repository.get(session, ext.chat_session_id, for_update=True)
    assert chat is not None
    if chat.status != ChatStatus.ACTIVE:
        await _reject(session, ext, resolution)
        return
    try:
        await payments.consume_payment_session(session, ext.payment_session_id)
    except CurhatError:
        await _reject(session, ext, resolution)
        return
    chat.ends_at = chat.ends_at + timedelta(minutes=ext.duration_minutes)
    await session.flush()
    await repository.resolve(session, ext, ExtensionStatus.APPROVED, resolution)
    chat_service.schedule_chat_deadlines(session, chat, config.chat_end_warning_seconds)
    emit(
        session,
        events.ExtensionApproved(
            extension_request_id=ext.id, chat_session_id=chat.id, ends_at=chat.ends_at, resolution=resolution
        ),
        to=[protocol.customer(chat.customer_id), protocol.mitra(chat.mitra_id)],
    )


async def _reject(session: AsyncSession, ext: ExtensionRequest, resolution: Resolution) -> None:
    chat = await chat_repository.get(session, ext.chat_session_id)
    assert chat is not None
    await payments.void_payment_session(session, ext.payment_session_id)
    await repository.resolve(session, ext, ExtensionStatus.REJECTED, resolution)
    emit(
        session,
        events.ExtensionRejected(extension_request_id=ext.id, chat_session_id=chat.id, resolution=resolution),
        to=[protocol.customer(chat.customer_id), protocol.mitra(chat.mitra_id)],
    )


async def _lock_extension(
    session: AsyncSession, ext_id: uuid.UUID, *, skip_locked: bool = False
) -> ExtensionRequest | None:
    """The extension request locked after its payment (the lock order); None if absent or skipped."""
    ext = await repository.get(session, ext_id)
    if (
        ext is None
        or await payments.lock_payment_session(session, ext.payment_session_id, skip_locked=skip_locked)
        is None
    ):
        return None
    return await repository.get(session, ext_id, for_update=True, skip_locked=skip_locked)


async def respond_to_extension(
    session: AsyncSession,
    config: ConfigSnapshot,
    mitra_id: uuid.UUID,
    ext_id: uuid.UUID,
    action: ExtensionAction,
) -> ExtensionRequest:
    ext = await _lock_extension(session, ext_id)
    chat = await chat_repository.get(session, ext.chat_session_id) if ext else None
    if ext is None or chat is None or chat.mitra_id != mitra_id:
        raise ExtensionNotFound()
    if ext.status != ExtensionStatus.PENDING or ext.expires_at <= datetime.now(UTC):
        raise ExtensionResolved()
    match action:
        case ExtensionAction.APPROVE:
            await _approve(session, config, ext, Resolution.MITRA)
        case ExtensionAction.REJECT:
            await _reject(session, ext, Resolution.MITRA)
        case _:
            assert_never(action)
    return ext


async def fire_extension_deadlines(
    session: AsyncSession, config: ConfigSnapshot, presence: Presence, ids: list[uuid.UUID]
) -> int:
    """The configured default for every request of ``ids`` still pending and due: all locked in
    one pass (payments, then requests; busy ones skipped), then each approved or rejected."""
    exts = await repository.lock_due(session, ids, datetime.now(UTC))
    if exts:
        note_deadline(EXTENSION_ANSWER, min(e.expires_at for e in exts))
    for ext in exts:
        if config.extension_default_action_on_timeout == DefaultAction.AUTO_REJECT:
            await _reject(session, ext, Resolution.AUTO_REJECT)
            continue
        chat = await chat_repository.get(session, ext.chat_session_id)
        assert chat is not None
        connected = await presence.has_live_socket(chat.mitra_id) and await presence.is_online(chat.mitra_id)
        if connected:
            await _approve(session, config, ext, Resolution.AUTO_APPROVE)
        else:
            await _reject(session, ext, Resolution.MITRA_OFFLINE)
    return len(exts)


def register(deadlines: DeadlineRunner, config: ConfigService, presence: Presence) -> None:
    """Wire the extension-answer deadline; the default action is read when it fires."""

    async def fire(session: AsyncSession, ids: list[uuid.UUID]) -> int:
        return await fire_extension_deadlines(session, await config.get(), presence, ids)

    deadlines.register(DeadlineKind(EXTENSION_ANSWER, repository.due_answers, fire))
