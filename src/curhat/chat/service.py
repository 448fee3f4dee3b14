"""Chat sessions and messages: start (from an accept), send, end early, end on time."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from curhat.auth.tokens import Principal
from curhat.chat import repository
from curhat.errors import Conflict, NotFound
from curhat.models import ChatMessage, ChatSession, PaymentSession
from curhat.realtime import protocol
from curhat.realtime.outbox import after_commit, emit

if TYPE_CHECKING:
    from curhat.runtime import Runtime

CHAT_END = "chat_end"
CHAT_WARNING = "chat_warning"


class ChatSessionNotFound(NotFound):
    code = "chat_session_not_found"
    message = "Sesi curhat tidak ditemukan."


class ChatSessionEnded(Conflict):
    code = "chat_session_ended"
    message = "Sesi curhat sudah berakhir."


def _both(chat: ChatSession) -> tuple[protocol.Recipient, protocol.Recipient]:
    return protocol.customer(chat.customer_id), protocol.mitra(chat.mitra_id)


def message_payload(chat_id: uuid.UUID, msg: ChatMessage) -> dict[str, object]:
    return {
        "chat_session_id": chat_id,
        "message": {
            "id": msg.id,
            "sender_role": msg.sender_role,
            "body": msg.body,
            "created_at": msg.created_at,
            "client_msg_id": msg.client_msg_id,
        },
    }


def refresh_active_count_after_commit(session: AsyncSession, runtime: Runtime, mitra_id: uuid.UUID) -> None:
    """The Valkey counter is set from PostgreSQL after commit, so it converges to the truth."""

    async def refresh() -> None:
        async with runtime.db.sessionmaker() as fresh:
            count = await repository.count_active_for_mitra(fresh, mitra_id)
        await runtime.presence.set_active_count(mitra_id, count)

    after_commit(session, refresh)


def schedule_chat_deadlines(
    session: AsyncSession, runtime: Runtime, chat: ChatSession, warning_seconds: int
) -> None:
    runtime.deadlines.schedule_after_commit(session, CHAT_END, chat.id, chat.ends_at)
    if warning_seconds > 0:
        warn_at = chat.ends_at - timedelta(seconds=warning_seconds)
        runtime.deadlines.schedule_after_commit(session, CHAT_WARNING, chat.id, warn_at)


async def start_chat_session(
    session: AsyncSession,
    runtime: Runtime,
    *,
    customer_id: uuid.UUID,
    mitra_id: uuid.UUID,
    payment: PaymentSession,
) -> ChatSession:
    now = datetime.now(UTC)
    chat = await repository.insert_session(
        session,
        customer_id=customer_id,
        mitra_id=mitra_id,
        payment_session_id=payment.id,
        duration_minutes=payment.duration_minutes,
        started_at=now,
        ends_at=now + timedelta(minutes=payment.duration_minutes),
    )
    config = await runtime.config.get()
    schedule_chat_deadlines(session, runtime, chat, config.int("chat_end_warning_seconds"))
    refresh_active_count_after_commit(session, runtime, mitra_id)
    return chat


async def get_for(
    session: AsyncSession, principal: Principal, chat_id: uuid.UUID, *, for_update: bool = False
) -> ChatSession:
    chat = await repository.get(session, chat_id, for_update=for_update)
    owner = chat and (chat.customer_id if principal.role == "customer" else chat.mitra_id)
    if chat is None or owner != principal.id:
        raise ChatSessionNotFound()
    return chat


async def send_message(
    session: AsyncSession, principal: Principal, chat_id: uuid.UUID, body: str, client_msg_id: str | None
) -> ChatMessage:
    chat = await get_for(session, principal, chat_id)
    if chat.status != "active" or chat.ends_at <= datetime.now(UTC):
        raise ChatSessionEnded()
    msg, created = await repository.insert_message(session, chat.id, principal.role, body, client_msg_id)
    recipients = _both(chat) if created else (protocol.Recipient(principal.role, principal.id),)
    emit(session, protocol.event("CHAT_MESSAGE", message_payload(chat.id, msg), *recipients))
    return msg


async def _close(session: AsyncSession, runtime: Runtime, chat: ChatSession) -> None:
    assert chat.end_reason is not None
    emit(
        session,
        protocol.event(
            "CHAT_SESSION_ENDED", {"chat_session_id": chat.id, "end_reason": chat.end_reason}, *_both(chat)
        ),
    )
    refresh_active_count_after_commit(session, runtime, chat.mitra_id)


async def end_chat_session(
    session: AsyncSession, runtime: Runtime, principal: Principal, chat_id: uuid.UUID
) -> ChatSession:
    chat = await get_for(session, principal, chat_id)
    reason = "customer_ended" if principal.role == "customer" else "mitra_ended"
    ended = await repository.end_if_active(session, chat.id, reason)
    if ended is None:
        return chat  # already ended: ending again changes nothing
    await _close(session, runtime, ended)
    return ended


async def fire_chat_end(runtime: Runtime, session: AsyncSession, chat_id: uuid.UUID) -> None:
    ended = await repository.end_if_active(session, chat_id, "time_up", only_if_due=True)
    if ended is not None:
        await _close(session, runtime, ended)


async def fire_chat_warning(runtime: Runtime, session: AsyncSession, chat_id: uuid.UUID) -> None:
    warning = (await runtime.config.get()).int("chat_end_warning_seconds")
    chat = await repository.mark_warned(session, chat_id, warning)
    if chat is None:
        return
    seconds_left = max(0, int((chat.ends_at - datetime.now(UTC)).total_seconds()))
    emit(
        session,
        protocol.event(
            "CHAT_SESSION_ENDING",
            {"chat_session_id": chat.id, "ends_at": chat.ends_at, "seconds_left": seconds_left},
            *_both(chat),
        ),
    )


def register_deadlines(runtime: Runtime) -> None:
    from curhat.deadlines.runner import DeadlineKind

    async def warning_due(session: AsyncSession, limit: int) -> list[uuid.UUID]:
        warning = (await runtime.config.get()).int("chat_end_warning_seconds")
        if warning <= 0:
            return []
        return await repository.due_for_warning(session, warning, limit)

    runtime.deadlines.register(DeadlineKind(CHAT_END, repository.due_to_end, fire_chat_end))
    runtime.deadlines.register(DeadlineKind(CHAT_WARNING, warning_due, fire_chat_warning))


def register_ws_commands(runtime: Runtime) -> None:
    """``{"type": "chat.send", chat_session_id, body, client_msg_id}`` from either side."""
    from typing import Any

    from pydantic import ValidationError

    from curhat.chat.schemas import WsSendIn
    from curhat.errors import ValidationFailed, validation_fields

    async def on_send(principal: Principal, payload: dict[str, Any]) -> None:
        try:
            frame = WsSendIn.model_validate(payload)
        except ValidationError as exc:
            raise ValidationFailed(validation_fields(exc.errors())) from None
        async with runtime.transaction() as session:
            await send_message(session, principal, frame.chat_session_id, frame.body, frame.client_msg_id)

    if "chat.send" not in runtime.ws_commands:
        runtime.ws_commands.register("chat.send", on_send)
