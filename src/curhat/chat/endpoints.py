"""Chat sessions and messages, for customers (/api/client) and mitras (/api/mitra).

No `from __future__ import annotations` here: the per-role routes use a local
`Annotated` alias, which FastAPI must see as an object, not a string.
"""

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from curhat.auth.deps import customer_principal, mitra_principal
from curhat.auth.tokens import Principal
from curhat.chat import repository, service
from curhat.chat.schemas import (
    ChatSessionDetailOut,
    ChatSessionListOut,
    ChatSessionOut,
    CustomerParty,
    EndOut,
    MessageIn,
    MessageListOut,
    MessageOut,
    Party,
    PendingExtensionOut,
)
from curhat.deps import PresenceDep
from curhat.models import ChatSession, Mitra, User
from curhat.postgres import SessionDep

router = APIRouter()

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "unauthorized"},
    404: {"description": "chat_session_not_found"},
}


def _out(chat: ChatSession, customer: User, mitra: Mitra, role: str) -> ChatSessionOut:
    return ChatSessionOut(
        id=chat.id,
        mitra=Party(id=mitra.id, display_name=mitra.display_name) if role == "customer" else None,
        customer=CustomerParty(display_name=customer.display_name) if role == "mitra" else None,
        status=chat.status,
        started_at=chat.started_at,
        ends_at=chat.ends_at,
        ended_at=chat.ended_at,
        end_reason=chat.end_reason,
        duration_minutes=chat.duration_minutes,
    )


def _routes(prefix: str, principal_dep: Any, tag: str) -> APIRouter:
    r = APIRouter(prefix=prefix, tags=[tag], responses=_ERRORS)
    Current = Annotated[Principal, Depends(principal_dep)]

    @r.get("/chat-sessions")
    async def list_sessions(
        principal: Current,
        session: SessionDep,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
        status: Annotated[Literal["active", "ended"] | None, Query(description="only this status")] = None,
    ) -> ChatSessionListOut:
        """This side's chat sessions, newest first, with the other party's name."""
        key = {"customer_id": principal.id} if principal.role == "customer" else {"mitra_id": principal.id}
        rows, total = await repository.list_for(session, limit=limit, offset=offset, status=status, **key)
        return ChatSessionListOut(rows=[_out(c, u, m, principal.role) for c, u, m in rows], total=total)

    @r.get("/chat-sessions/{chat_session_id}")
    async def get_session(
        chat_session_id: uuid.UUID, principal: Current, session: SessionDep
    ) -> ChatSessionDetailOut:
        """One chat session: its times, any pending extension, and both sides' read markers."""
        chat = await service.get_for(session, principal, chat_session_id)
        customer = await session.get(User, chat.customer_id)
        mitra = await session.get(Mitra, chat.mitra_id)
        assert customer is not None and mitra is not None
        pending = await repository.pending_extension(session, chat.id)
        return ChatSessionDetailOut(
            **_out(chat, customer, mitra, principal.role).model_dump(),
            pending_extension=PendingExtensionOut(
                extension_request_id=pending.id,
                duration_minutes=pending.duration_minutes,
                expires_at=pending.expires_at,
            )
            if pending
            else None,
            customer_read_up_to=chat.customer_read_up_to,
            mitra_read_up_to=chat.mitra_read_up_to,
        )

    @r.get("/chat-sessions/{chat_session_id}/messages")
    async def list_messages(
        chat_session_id: uuid.UUID,
        principal: Current,
        session: SessionDep,
        before: datetime | None = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
    ) -> MessageListOut:
        """Messages of a chat, newest first; page back with `before`."""
        chat = await service.get_for(session, principal, chat_session_id)
        rows = await repository.list_messages(session, chat.id, before=before, limit=limit)
        return MessageListOut(rows=[MessageOut.model_validate(m, from_attributes=True) for m in rows])

    @r.post(
        "/chat-sessions/{chat_session_id}/messages",
        status_code=201,
        responses={409: {"description": "chat_session_ended"}},
    )
    async def post_message(
        chat_session_id: uuid.UUID, body: MessageIn, principal: Current, session: SessionDep
    ) -> MessageOut:
        """Send a message (the socket's `chat.send` does the same); a resend with the same `client_msg_id` is stored once."""
        msg = await service.send_message(session, principal, chat_session_id, body.body, body.client_msg_id)
        return MessageOut.model_validate(msg, from_attributes=True)

    @r.post("/chat-sessions/{chat_session_id}/end")
    async def end_session(
        chat_session_id: uuid.UUID, principal: Current, session: SessionDep, presence: PresenceDep
    ) -> EndOut:
        """End the chat early; ending an ended chat changes nothing."""
        chat = await service.end_chat_session(session, presence, principal, chat_session_id)
        return EndOut(id=chat.id, status=chat.status, end_reason=chat.end_reason)

    return r


router.include_router(_routes("/api/client", customer_principal, "customer chat"))
router.include_router(_routes("/api/mitra", mitra_principal, "mitra chat"))
