"""Chat sessions and messages: start (from an accept), send, typing, read, end early, end on time."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from curhat.app_config.service import ConfigService, ConfigSnapshot
from curhat.auth.tokens import Principal
from curhat.chat import repository
from curhat.deadlines.runner import DeadlineKind, DeadlineRunner
from curhat.errors import Conflict, NotFound
from curhat.models import ChatMessage, ChatSession, PaymentSession
from curhat.models.enums import ChatStatus, EndReason, SenderRole
from curhat.observability import note_deadline
from curhat.postgres import Transactions
from curhat.presence.service import Presence
from curhat.realtime import events, protocol
from curhat.realtime.commands import CommandRegistry
from curhat.realtime.outbox import after_commit, emit, schedule

CHAT_END = "chat_end"
CHAT_WARNING = "chat_warning"


class ChatSessionNotFound(NotFound):
    code = "chat_session_not_found"
    message = "Sesi curhat tidak ditemukan."


class ChatSessionEnded(Conflict):
    code = "chat_session_ended"
    message = "Sesi curhat sudah berakhir."


class MessageNotFound(NotFound):
    code = "message_not_found"
    message = "Pesan tidak ditemukan di sesi ini."


def _both(chat: ChatSession) -> tuple[protocol.Recipient, protocol.Recipient]:
    return protocol.customer(chat.customer_id), protocol.mitra(chat.mitra_id)


def _other_side(chat: ChatSession, role: str) -> protocol.Recipient:
    return protocol.mitra(chat.mitra_id) if role == "customer" else protocol.customer(chat.customer_id)


def message_event(chat_id: uuid.UUID, msg: ChatMessage | repository.StoredMessage) -> events.ChatMessageEvent:
    return events.ChatMessageEvent(
        chat_session_id=chat_id,
        message=events.MessageBody(
            id=msg.id,
            sender_role=msg.sender_role,
            body=msg.body,
            created_at=msg.created_at,
            client_msg_id=msg.client_msg_id,
        ),
    )


def resync_active_count_after_commit(session: AsyncSession, presence: Presence, mitra_id: uuid.UUID) -> None:
    """The Valkey counter is set from PostgreSQL after commit, so it converges to the truth."""

    async def resync() -> None:
        await presence.resync_active_count(mitra_id)

    after_commit(session, resync)


def schedule_chat_deadlines(session: AsyncSession, chat: ChatSession, warning_seconds: int) -> None:
    schedule(session, CHAT_END, chat.id, chat.ends_at)
    if warning_seconds > 0:
        schedule(session, CHAT_WARNING, chat.id, chat.ends_at - timedelta(seconds=warning_seconds))


async def start_chat_session(
    session: AsyncSession,
    config: ConfigSnapshot,
    presence: Presence,
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
    schedule_chat_deadlines(session, chat, config.chat_end_warning_seconds)
    resync_active_count_after_commit(session, presence, mitra_id)
    return chat


async def get_for(
    session: AsyncSession, principal: Principal, chat_id: uuid.UUID, *, for_update: bool = False
) -> ChatSession:
    chat = await repository.get(session, chat_id, for_update=for_update)
    owner = chat and (chat.customer_id if principal.role == "customer" else chat.mitra_id)
    if chat is None or owner != principal.id:
        raise ChatSessionNotFound()
    return chat


def _is_live(chat: ChatSession) -> bool:
    return chat.status == ChatStatus.ACTIVE and chat.ends_at > datetime.now(UTC)


def _relayed(
    outcome: repository.SendOutcome, principal: Principal
) -> tuple[repository.StoredMessage | None, tuple[protocol.Recipient, ...]]:
    """Every rule of a send, decided from the one statement's answer: (message, recipients);
    message None is a resend, whose stored message the caller reads back for the sender."""
    if not outcome.chat_found:
        raise ChatSessionNotFound()
    if not outcome.live:
        raise ChatSessionEnded()
    assert outcome.customer_id is not None and outcome.mitra_id is not None
    if outcome.message is None:
        # A resend: the sender gets the stored message back; the other side was told already.
        return None, (protocol.Recipient(principal.role, principal.id),)
    return outcome.message, (protocol.customer(outcome.customer_id), protocol.mitra(outcome.mitra_id))


async def send_message(
    session: AsyncSession, principal: Principal, chat_id: uuid.UUID, body: str, client_msg_id: str | None
) -> repository.StoredMessage:
    role = SenderRole(principal.role)
    outcome = await repository.store_message_if_live(
        session, chat_id, role, principal.id, body, client_msg_id
    )
    msg, recipients = _relayed(outcome, principal)
    if msg is None:
        assert client_msg_id is not None
        msg = await repository.stored_message(session, chat_id, role, client_msg_id)
    emit(session, message_event(chat_id, msg), to=recipients)
    return msg


async def relay_message(
    transactions: Transactions, principal: Principal, chat_id: uuid.UUID, body: str, client_msg_id: str | None
) -> None:
    """``chat.send``: ``send_message`` as one autocommitted statement, without an ORM session
    (the hottest path: P5/P9). Stored before the event leaves, as every send."""
    role = SenderRole(principal.role)
    async with transactions.autocommit() as (conn, box):
        outcome = await repository.store_message_autocommit(
            conn, chat_id, role, principal.id, body, client_msg_id
        )
        msg, recipients = _relayed(outcome, principal)
        if msg is None:
            assert client_msg_id is not None
            msg = await repository.stored_message_autocommit(conn, chat_id, role, client_msg_id)
        box.events.append(protocol.Envelope(message_event(chat_id, msg), list(recipients)))


async def send_typing(session: AsyncSession, principal: Principal, chat_id: uuid.UUID) -> None:
    """Not stored: the other side sees "sedang mengetik…" for a few seconds."""
    chat = await get_for(session, principal, chat_id)
    if not _is_live(chat):
        raise ChatSessionEnded()
    emit(
        session,
        events.ChatTyping(chat_session_id=chat.id, sender_role=SenderRole(principal.role)),
        to=[_other_side(chat, principal.role)],
    )


async def mark_read(
    session: AsyncSession, principal: Principal, chat_id: uuid.UUID, up_to_message_id: uuid.UUID
) -> None:
    """Store how far this side has read (never backwards) and tell the other side ("Dibaca")."""
    chat = await get_for(session, principal, chat_id, for_update=True)
    msg = await repository.get_message(session, chat.id, up_to_message_id)
    if msg is None:
        raise MessageNotFound()
    role = SenderRole(principal.role)
    read_at = await repository.advance_read_marker(session, chat, role, msg)
    if read_at is None:
        return  # already read that far
    emit(
        session,
        events.ChatRead(chat_session_id=chat.id, reader_role=role, up_to_message_id=msg.id, read_at=read_at),
        to=[_other_side(chat, principal.role)],
    )


async def _close(session: AsyncSession, presence: Presence, chat: ChatSession) -> None:
    assert chat.end_reason is not None
    emit(
        session,
        events.ChatSessionEnded(chat_session_id=chat.id, end_reason=chat.end_reason),
        to=_both(chat),
    )
    resync_active_count_after_commit(session, presence, chat.mitra_id)


async def end_chat_session(
    session: AsyncSession, presence: Presence, principal: Principal, chat_id: uuid.UUID
) -> ChatSession:
    chat = await get_for(session, principal, chat_id)
    reason = EndReason.CUSTOMER_ENDED if principal.role == "customer" else EndReason.MITRA_ENDED
    ended = await repository.end_if_active(session, chat.id, reason)
    if ended is None:
        # Already ended: ending again changes nothing, and the answer tells the stored end.
        # Re-read: the UPDATE that matched no row still wrote its own values onto the object
        # this request had loaded (the ORM's default session synchronisation).
        await session.refresh(chat)
        return chat
    await _close(session, presence, ended)
    return ended


async def fire_chat_ends(session: AsyncSession, presence: Presence, ids: list[uuid.UUID]) -> int:
    """Every chat of ``ids`` still active and past ends_at ends (time_up) in one statement; both
    sides are told, and each mitra's counter is resynced once after commit."""
    ended = await repository.end_due(session, ids, EndReason.TIME_UP)
    if ended:
        note_deadline(CHAT_END, min(e for _, _, _, e in ended))
    for chat_id, customer_id, mitra_id, _ in ended:
        emit(
            session,
            events.ChatSessionEnded(chat_session_id=chat_id, end_reason=EndReason.TIME_UP),
            to=(protocol.customer(customer_id), protocol.mitra(mitra_id)),
        )
    mitras = list(dict.fromkeys(m for _, _, m, _ in ended))
    if mitras:

        async def resync() -> None:
            await presence.resync_active_counts(mitras)

        after_commit(session, resync)
    return len(ended)


async def fire_chat_warnings(session: AsyncSession, warning_seconds: int, ids: list[uuid.UUID]) -> int:
    now = datetime.now(UTC)
    warned = await repository.warn_due(session, ids, warning_seconds)
    for chat_id, customer_id, mitra_id, ends_at in warned:
        emit(
            session,
            events.ChatSessionEnding(
                chat_session_id=chat_id,
                ends_at=ends_at,
                seconds_left=max(0, int((ends_at - now).total_seconds())),
            ),
            to=(protocol.customer(customer_id), protocol.mitra(mitra_id)),
        )
    return len(warned)


def register(
    deadlines: DeadlineRunner,
    ws_commands: CommandRegistry,
    config: ConfigService,
    presence: Presence,
    transactions: Transactions,
) -> None:
    """Wire the chat deadlines and the ``chat.*`` socket commands into this process."""

    async def warning_due(
        session: AsyncSession, horizon: datetime, limit: int
    ) -> list[tuple[uuid.UUID, datetime]]:
        warning = (await config.get()).chat_end_warning_seconds
        if warning <= 0:
            return []
        return await repository.due_warnings(session, warning, horizon, limit)

    async def end(session: AsyncSession, ids: list[uuid.UUID]) -> int:
        return await fire_chat_ends(session, presence, ids)

    async def warn(session: AsyncSession, ids: list[uuid.UUID]) -> int:
        return await fire_chat_warnings(session, (await config.get()).chat_end_warning_seconds, ids)

    deadlines.register(DeadlineKind(CHAT_END, repository.due_ends, end))
    deadlines.register(DeadlineKind(CHAT_WARNING, warning_due, warn))

    async def on_send(principal: Principal, frame: events.ChatSend) -> None:
        await relay_message(transactions, principal, frame.chat_session_id, frame.body, frame.client_msg_id)

    async def on_typing(principal: Principal, frame: events.ChatTypingCommand) -> None:
        async with transactions() as session:
            await send_typing(session, principal, frame.chat_session_id)

    async def on_read(principal: Principal, frame: events.ChatReadCommand) -> None:
        async with transactions() as session:
            await mark_read(session, principal, frame.chat_session_id, frame.up_to_message_id)

    ws_commands.register(events.ChatSend, on_send)
    ws_commands.register(events.ChatTypingCommand, on_typing)
    ws_commands.register(events.ChatReadCommand, on_read)
