"""Extensions: charged at approval; an unanswered one follows the configured default,
and auto-approves only while the mitra is still connected and online.

Lock order as everywhere: payment row → extension request row → chat row.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from curhat.auth.tokens import Principal
from curhat.chat import repository as chat_repository
from curhat.chat import service as chat_service
from curhat.errors import BadRequest, Conflict, CurhatError, NotFound
from curhat.extensions import repository
from curhat.models import ExtensionRequest
from curhat.payments import service as payments
from curhat.payments.errors import PaymentSessionExpired, PaymentSessionNotConfirmed
from curhat.realtime import protocol
from curhat.realtime.outbox import emit

if TYPE_CHECKING:
    from curhat.runtime import Runtime

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
    session: AsyncSession, runtime: Runtime, customer_id: uuid.UUID, chat_id: uuid.UUID, payment_id: uuid.UUID
) -> ExtensionRequest:
    payment = await payments.get_owned_payment_session(session, payment_id, customer_id, for_update=True)
    chat = await chat_service.get_for(session, Principal(customer_id, "customer"), chat_id, for_update=True)
    if chat.status != "active" or chat.ends_at <= datetime.now(UTC):
        raise chat_service.ChatSessionEnded()
    if not payment.is_extension or payment.is_free_trial or payment.chat_session_id != chat.id:
        raise InvalidExtensionPayment()
    if payment.status != "confirmed":
        raise PaymentSessionNotConfirmed()
    if payment.expires_at <= datetime.now(UTC):
        raise PaymentSessionExpired()
    if await chat_repository.pending_extension(session, chat.id) is not None:
        raise ExtensionPending()
    config = await runtime.config.get()
    ext = await repository.insert(
        session,
        chat_id=chat.id,
        payment_id=payment.id,
        minutes=payment.duration_minutes,
        expires_at=datetime.now(UTC) + timedelta(seconds=config.int("extension_timeout_seconds")),
    )
    emit(
        session,
        protocol.event(
            "EXTENSION_REQUEST",
            {
                "extension_request_id": ext.id,
                "chat_session_id": chat.id,
                "duration_minutes": ext.duration_minutes,
                "expires_at": ext.expires_at,
                "default_action": config.str("extension_default_action_on_timeout"),
            },
            protocol.mitra(chat.mitra_id),
        ),
    )
    runtime.deadlines.schedule_after_commit(session, EXTENSION_ANSWER, ext.id, ext.expires_at)
    return ext


async def _approve(session: AsyncSession, runtime: Runtime, ext: ExtensionRequest, resolution: str) -> None:
    chat = await chat_repository.get(session, ext.chat_session_id, for_update=True)
    assert chat is not None
    if chat.status != "active":
        await _reject(session, runtime, ext, resolution)
        return
    try:
        await payments.consume_payment_session(session, ext.payment_session_id)
    except CurhatError:
        await _reject(session, runtime, ext, resolution)
        return
    chat.ends_at = chat.ends_at + timedelta(minutes=ext.duration_minutes)
    await session.flush()
    await repository.resolve(session, ext, "approved", resolution)
    warning = (await runtime.config.get()).int("chat_end_warning_seconds")
    chat_service.schedule_chat_deadlines(session, runtime, chat, warning)
    emit(
        session,
        protocol.event(
            "EXTENSION_APPROVED",
            {
                "extension_request_id": ext.id,
                "chat_session_id": chat.id,
                "ends_at": chat.ends_at,
                "resolution": resolution,
            },
            protocol.customer(chat.customer_id),
            protocol.mitra(chat.mitra_id),
        ),
    )


async def _reject(session: AsyncSession, runtime: Runtime, ext: ExtensionRequest, resolution: str) -> None:
    chat = await chat_repository.get(session, ext.chat_session_id)
    assert chat is not None
    await payments.void_payment_session(session, ext.payment_session_id)
    await repository.resolve(session, ext, "rejected", resolution)
    emit(
        session,
        protocol.event(
            "EXTENSION_REJECTED",
            {"extension_request_id": ext.id, "chat_session_id": chat.id, "resolution": resolution},
            protocol.customer(chat.customer_id),
            protocol.mitra(chat.mitra_id),
        ),
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
    session: AsyncSession, runtime: Runtime, mitra_id: uuid.UUID, ext_id: uuid.UUID, action: str
) -> ExtensionRequest:
    ext = await _lock_extension(session, ext_id)
    chat = await chat_repository.get(session, ext.chat_session_id) if ext else None
    if ext is None or chat is None or chat.mitra_id != mitra_id:
        raise ExtensionNotFound()
    if ext.status != "pending" or ext.expires_at <= datetime.now(UTC):
        raise ExtensionResolved()
    if action == "approve":
        await _approve(session, runtime, ext, "mitra")
    else:
        await _reject(session, runtime, ext, "mitra")
    return ext


async def fire_extension_deadline(runtime: Runtime, session: AsyncSession, ext_id: uuid.UUID) -> None:
    ext = await repository.get(session, ext_id)
    if ext is None or ext.status != "pending" or ext.expires_at > datetime.now(UTC):
        return
    ext = await _lock_extension(session, ext_id, skip_locked=True)
    if ext is None or ext.status != "pending" or ext.expires_at > datetime.now(UTC):
        return
    action = (await runtime.config.get()).str("extension_default_action_on_timeout")
    if action == "auto_reject":
        await _reject(session, runtime, ext, "auto_reject")
        return
    chat = await chat_repository.get(session, ext.chat_session_id)
    assert chat is not None
    connected = await runtime.presence.has_live_socket(chat.mitra_id) and await runtime.presence.is_online(
        chat.mitra_id
    )
    if connected:
        await _approve(session, runtime, ext, "auto_approve")
    else:
        await _reject(session, runtime, ext, "mitra_offline")


def register(runtime: Runtime) -> None:
    from curhat.deadlines.runner import DeadlineKind

    runtime.deadlines.register(DeadlineKind(EXTENSION_ANSWER, repository.due, fire_extension_deadline))
