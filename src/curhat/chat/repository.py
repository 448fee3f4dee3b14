from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
from sqlalchemy import ColumnElement, and_, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from curhat.kit.sql import any_of
from curhat.models import ChatMessage, ChatSession, ExtensionRequest, Mitra, User
from curhat.models.enums import SenderRole


async def insert_session(
    session: AsyncSession,
    *,
    customer_id: uuid.UUID,
    mitra_id: uuid.UUID,
    payment_session_id: uuid.UUID,
    duration_minutes: int,
    started_at: datetime,
    ends_at: datetime,
) -> ChatSession:
    chat = ChatSession(
        id=uuid.uuid4(),
        customer_id=customer_id,
        mitra_id=mitra_id,
        payment_session_id=payment_session_id,
        duration_minutes=duration_minutes,
        started_at=started_at,
        ends_at=ends_at,
        status="active",
    )
    session.add(chat)
    await session.flush()
    return chat


async def count_active_for_mitra(session: AsyncSession, mitra_id: uuid.UUID) -> int:
    stmt = select(func.count()).where(ChatSession.mitra_id == mitra_id, ChatSession.status == "active")
    return int(await session.scalar(stmt) or 0)


async def has_active_with(session: AsyncSession, mitra_id: uuid.UUID, customer_id: uuid.UUID) -> bool:
    stmt = select(func.count()).where(
        ChatSession.mitra_id == mitra_id,
        ChatSession.customer_id == customer_id,
        ChatSession.status == "active",
    )
    return bool(await session.scalar(stmt))


async def has_past_session(session: AsyncSession, customer_id: uuid.UUID, mitra_id: uuid.UUID) -> bool:
    stmt = select(func.count()).where(
        ChatSession.customer_id == customer_id, ChatSession.mitra_id == mitra_id
    )
    return bool(await session.scalar(stmt))


async def get(session: AsyncSession, chat_id: uuid.UUID, *, for_update: bool = False) -> ChatSession | None:
    stmt = select(ChatSession).where(ChatSession.id == chat_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.scalars(stmt)).one_or_none()


async def list_for(
    session: AsyncSession,
    *,
    customer_id: uuid.UUID | None = None,
    mitra_id: uuid.UUID | None = None,
    limit: int,
    offset: int,
    status: str | None = None,
) -> tuple[list[tuple[ChatSession, User, Mitra]], int]:
    cond = ChatSession.customer_id == customer_id if customer_id else ChatSession.mitra_id == mitra_id
    if status is not None:
        cond = and_(cond, ChatSession.status == status)
    total = int(await session.scalar(select(func.count()).select_from(ChatSession).where(cond)) or 0)
    stmt = (
        select(ChatSession, User, Mitra)
        .join(User, User.id == ChatSession.customer_id)
        .join(Mitra, Mitra.id == ChatSession.mitra_id)
        .where(cond)
        .order_by(ChatSession.started_at.desc(), ChatSession.id.desc())
        .limit(limit)
        .offset(offset)
    )
    rows = [(c, u, m) for c, u, m in (await session.execute(stmt)).all()]
    return rows, total


async def end_if_active(
    session: AsyncSession, chat_id: uuid.UUID, reason: str, *, only_if_due: bool = False
) -> ChatSession | None:
    stmt = (
        update(ChatSession)
        .where(ChatSession.id == chat_id, ChatSession.status == "active")
        .values(status="ended", ended_at=func.now(), end_reason=reason)
        .returning(ChatSession)
    )
    if only_if_due:
        stmt = stmt.where(ChatSession.ends_at <= func.now())
    return (await session.scalars(stmt)).one_or_none()


@dataclass(frozen=True)
class StoredMessage:
    id: uuid.UUID
    sender_role: SenderRole
    body: str
    created_at: datetime
    client_msg_id: str | None


@dataclass(frozen=True)
class SendOutcome:
    """``chat_found`` False: no such chat of this sender. ``live`` False: the chat has ended.
    ``message`` None with a live chat: a resend (the client_msg_id is stored already)."""

    chat_found: bool
    customer_id: uuid.UUID | None = None
    mitra_id: uuid.UUID | None = None
    live: bool = False
    message: StoredMessage | None = None


# A message is one statement: the chat is checked (the sender is its customer or its mitra
# by role, it is active and not past its end) and the message stored only if it is, and the
# answer says which. Compiled once (a constant text), no ORM object on either side.
_SEND_SQL = """
    WITH chat AS (
        SELECT id, customer_id, mitra_id, status = 'active' AND ends_at > now() AS live
        FROM chat_sessions
        WHERE id = :chat_id
          AND CASE WHEN :role = 'customer' THEN customer_id ELSE mitra_id END = :sender_id
    ), stored AS (
        INSERT INTO chat_messages (id, chat_session_id, sender_role, body, client_msg_id)
        SELECT :message_id, chat.id, :role, :body, :client_msg_id FROM chat WHERE chat.live
        ON CONFLICT (chat_session_id, sender_role, client_msg_id) WHERE client_msg_id IS NOT NULL
        DO NOTHING
        RETURNING id, created_at
    )
    SELECT chat.customer_id, chat.mitra_id, chat.live, stored.id, stored.created_at
    FROM chat LEFT JOIN stored ON true
    """
_SEND = text(_SEND_SQL)
# The same statement for the asyncpg driver ($1, $2, … in the order the names first appear).
_SEND_NAMES: list[str] = list(dict.fromkeys(re.findall(r"(?<![:\w]):(\w+)", _SEND_SQL)))
_SEND_POSITIONAL = re.sub(r"(?<![:\w]):(\w+)", lambda m: f"${_SEND_NAMES.index(m.group(1)) + 1}", _SEND_SQL)


def _send_params(
    chat_id: uuid.UUID, sender_role: SenderRole, sender_id: uuid.UUID, body: str, client_msg_id: str | None
) -> dict[str, object]:
    return {
        "chat_id": chat_id,
        "role": str(sender_role),
        "sender_id": sender_id,
        "message_id": uuid.uuid4(),
        "body": body,
        "client_msg_id": client_msg_id,
    }


def _send_outcome(
    row: Sequence[Any] | None, sender_role: SenderRole, body: str, client_msg_id: str | None
) -> SendOutcome:
    if row is None:
        return SendOutcome(chat_found=False)
    customer_id, mitra_id, live, message_id, created_at = row
    message = None
    if message_id is not None:
        message = StoredMessage(message_id, sender_role, body, created_at, client_msg_id)
    return SendOutcome(True, customer_id, mitra_id, live, message)


async def store_message_autocommit(
    conn: asyncpg.Connection,
    chat_id: uuid.UUID,
    sender_role: SenderRole,
    sender_id: uuid.UUID,
    body: str,
    client_msg_id: str | None,
) -> SendOutcome:
    """``store_message_if_live`` as one autocommitted statement on the driver (``chat.send``)."""
    params = _send_params(chat_id, sender_role, sender_id, body, client_msg_id)
    row = await conn.fetchrow(_SEND_POSITIONAL, *(params[n] for n in _SEND_NAMES))
    return _send_outcome(row, sender_role, body, client_msg_id)


_STORED = """
    SELECT id, body, created_at FROM chat_messages
    WHERE chat_session_id = $1 AND sender_role = $2 AND client_msg_id = $3
"""


async def stored_message_autocommit(
    conn: asyncpg.Connection, chat_id: uuid.UUID, sender_role: SenderRole, client_msg_id: str
) -> StoredMessage:
    row = await conn.fetchrow(_STORED, chat_id, str(sender_role), client_msg_id)
    assert row is not None
    return StoredMessage(row["id"], sender_role, row["body"], row["created_at"], client_msg_id)


async def store_message_if_live(
    session: AsyncSession,
    chat_id: uuid.UUID,
    sender_role: SenderRole,
    sender_id: uuid.UUID,
    body: str,
    client_msg_id: str | None,
) -> SendOutcome:
    """Store a message in a chat the sender belongs to and that is live, in one statement."""
    params = _send_params(chat_id, sender_role, sender_id, body, client_msg_id)
    row = (await session.execute(_SEND, params)).one_or_none()
    return _send_outcome(row, sender_role, body, client_msg_id)


async def stored_message(
    session: AsyncSession, chat_id: uuid.UUID, sender_role: SenderRole, client_msg_id: str
) -> StoredMessage:
    """The message a resend with this client_msg_id refers to."""
    m = (
        await session.scalars(
            select(ChatMessage).where(
                ChatMessage.chat_session_id == chat_id,
                ChatMessage.sender_role == sender_role,
                ChatMessage.client_msg_id == client_msg_id,
            )
        )
    ).one()
    return StoredMessage(m.id, m.sender_role, m.body, m.created_at, m.client_msg_id)


async def list_messages(
    session: AsyncSession, chat_id: uuid.UUID, *, before: datetime | None, limit: int
) -> list[ChatMessage]:
    stmt = select(ChatMessage).where(ChatMessage.chat_session_id == chat_id)
    if before is not None:
        stmt = stmt.where(ChatMessage.created_at < before)
    stmt = stmt.order_by(ChatMessage.created_at.desc(), ChatMessage.id.desc()).limit(limit)
    rows = list((await session.scalars(stmt)).all())
    rows.reverse()
    return rows


async def pending_extension(session: AsyncSession, chat_id: uuid.UUID) -> ExtensionRequest | None:
    stmt = select(ExtensionRequest).where(
        ExtensionRequest.chat_session_id == chat_id, ExtensionRequest.status == "pending"
    )
    return (await session.scalars(stmt)).one_or_none()


async def names(session: AsyncSession, customer_id: uuid.UUID, mitra_id: uuid.UUID) -> tuple[str, str]:
    customer = await session.get(User, customer_id)
    mitra = await session.get(Mitra, mitra_id)
    assert customer is not None and mitra is not None
    return customer.display_name, mitra.display_name


async def get_message(session: AsyncSession, chat_id: uuid.UUID, message_id: uuid.UUID) -> ChatMessage | None:
    stmt = select(ChatMessage).where(ChatMessage.id == message_id, ChatMessage.chat_session_id == chat_id)
    return (await session.scalars(stmt)).one_or_none()


async def advance_read_marker(
    session: AsyncSession, chat: ChatSession, role: SenderRole, msg: ChatMessage
) -> datetime | None:
    """Move ``role``'s read marker to ``msg`` unless it already points at it or later; when moved."""
    current_id = chat.customer_read_up_to if role == SenderRole.CUSTOMER else chat.mitra_read_up_to
    if current_id is not None:
        current = await session.get(ChatMessage, current_id)
        if current is not None and (current.id == msg.id or current.created_at >= msg.created_at):
            return None
    now = datetime.now(UTC)
    if role == SenderRole.CUSTOMER:
        chat.customer_read_up_to, chat.customer_read_at = msg.id, now
    else:
        chat.mitra_read_up_to, chat.mitra_read_at = msg.id, now
    await session.flush()
    return now


# -- the chat deadlines, set-based (the deadline runner fires due rows in batches) -----------


async def due_ends(session: AsyncSession, horizon: datetime, limit: int) -> list[tuple[uuid.UUID, datetime]]:
    stmt = (
        select(ChatSession.id, ChatSession.ends_at)
        .where(ChatSession.status == "active", ChatSession.ends_at <= horizon)
        .order_by(ChatSession.ends_at)
        .limit(limit)
    )
    return [(row_id, when) for row_id, when in (await session.execute(stmt)).all()]


def _warning_at(warning_seconds: int) -> ColumnElement[datetime]:
    return ChatSession.ends_at - func.make_interval(0, 0, 0, 0, 0, 0, warning_seconds)


async def due_warnings(
    session: AsyncSession, warning_seconds: int, horizon: datetime, limit: int
) -> list[tuple[uuid.UUID, datetime]]:
    warn_at = _warning_at(warning_seconds)
    stmt = (
        select(ChatSession.id, warn_at)
        .where(
            ChatSession.status == "active",
            ChatSession.warned_for.is_distinct_from(ChatSession.ends_at),
            warn_at <= horizon,
            ChatSession.ends_at > func.now(),
        )
        .order_by(ChatSession.ends_at)
        .limit(limit)
    )
    return [(row_id, when) for row_id, when in (await session.execute(stmt)).all()]


async def end_due(
    session: AsyncSession, ids: list[uuid.UUID], reason: str
) -> list[tuple[uuid.UUID, uuid.UUID, uuid.UUID, datetime]]:
    """active → ended for each chat of ``ids`` still active and past ends_at; a chat someone
    holds (an extension being approved, a read marker) is skipped, not waited for.
    (id, customer, mitra, ends_at) of those ended."""
    due = (
        select(ChatSession.id)
        .where(any_of(ChatSession.id, ids), ChatSession.status == "active", ChatSession.ends_at <= func.now())
        .with_for_update(skip_locked=True)
        .cte("due")
    )
    stmt = (
        update(ChatSession)
        .where(ChatSession.id == due.c.id)
        .values(status="ended", ended_at=func.now(), end_reason=reason)
        .returning(ChatSession.id, ChatSession.customer_id, ChatSession.mitra_id, ChatSession.ends_at)
        .execution_options(synchronize_session=False)
    )
    return [(c, cu, m, e) for c, cu, m, e in (await session.execute(stmt)).all()]


async def warn_due(
    session: AsyncSession, ids: list[uuid.UUID], warning_seconds: int
) -> list[tuple[uuid.UUID, uuid.UUID, uuid.UUID, datetime]]:
    """Mark the warning sent for each chat of ``ids`` whose warning is due and not yet sent
    for its current ends_at (busy rows skipped). (id, customer, mitra, ends_at) of those marked."""
    due = (
        select(ChatSession.id)
        .where(
            any_of(ChatSession.id, ids),
            ChatSession.status == "active",
            ChatSession.warned_for.is_distinct_from(ChatSession.ends_at),
            _warning_at(warning_seconds) <= func.now(),
        )
        .with_for_update(skip_locked=True)
        .cte("due")
    )
    stmt = (
        update(ChatSession)
        .where(ChatSession.id == due.c.id)
        .values(warned_for=ChatSession.ends_at)
        .returning(ChatSession.id, ChatSession.customer_id, ChatSession.mitra_id, ChatSession.ends_at)
        .execution_options(synchronize_session=False)
    )
    return [(c, cu, m, e) for c, cu, m, e in (await session.execute(stmt)).all()]
