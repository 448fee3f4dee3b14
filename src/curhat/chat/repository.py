from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, and_, func, select, update
from sqlalchemy.dialects.postgresql import insert
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


async def insert_message(
    session: AsyncSession,
    chat_id: uuid.UUID,
    sender_role: SenderRole,
    body: str,
    client_msg_id: str | None,
) -> tuple[ChatMessage, bool]:
    """(message, created): a resend with the same client_msg_id returns the stored one."""
    stmt = (
        insert(ChatMessage)
        .values(
            id=uuid.uuid4(),
            chat_session_id=chat_id,
            sender_role=sender_role,
            body=body,
            client_msg_id=client_msg_id,
        )
        .on_conflict_do_nothing(
            index_elements=[ChatMessage.chat_session_id, ChatMessage.sender_role, ChatMessage.client_msg_id],
            index_where=ChatMessage.client_msg_id.is_not(None),
        )
        .returning(ChatMessage)
    )
    created = (await session.scalars(stmt)).one_or_none()
    if created is not None:
        return created, True
    existing = (
        await session.scalars(
            select(ChatMessage).where(
                ChatMessage.chat_session_id == chat_id,
                ChatMessage.sender_role == sender_role,
                ChatMessage.client_msg_id == client_msg_id,
            )
        )
    ).one()
    return existing, False


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
