"""Every rule of a chat message on both paths — the socket's one autocommitted statement
(``relay_message``) and the REST transaction (``send_message``): the sender belongs to the
chat, the chat is live, a resend is stored once, and the message is stored before it leaves."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from curhat.auth.tokens import Principal
from curhat.chat import service
from curhat.realtime import events
from curhat.runtime import Runtime
from tests.fixtures.events import capture_events
from tests.fixtures.factories import make_chat, make_customer, make_mitra

Send = Callable[[Runtime, Principal, uuid.UUID, str, str | None], Awaitable[None]]


async def _socket(rt: Runtime, who: Principal, chat_id: uuid.UUID, body: str, cmid: str | None) -> None:
    await service.relay_message(rt.transactions, who, chat_id, body, cmid)


async def _rest(rt: Runtime, who: Principal, chat_id: uuid.UUID, body: str, cmid: str | None) -> None:
    async with rt.transaction() as session:
        await service.send_message(session, who, chat_id, body, cmid)


PATHS = pytest.mark.parametrize("send", [_socket, _rest], ids=["socket", "rest"])


async def _stored(rt: Runtime, chat_id: uuid.UUID) -> list[tuple[str, str, str | None]]:
    async with rt.transaction() as session:
        rows = await session.execute(
            text(
                "SELECT sender_role, body, client_msg_id FROM chat_messages"
                " WHERE chat_session_id = :id ORDER BY created_at"
            ),
            {"id": chat_id},
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


@PATHS
async def test_a_message_is_stored_then_sent_to_both_sides_and_a_resend_only_back(
    runtime: Runtime, send: Send
) -> None:
    customer, mitra = await make_customer(runtime), await make_mitra(runtime)
    chat_id = await make_chat(runtime, customer.id, mitra.id)
    with capture_events(runtime) as captured:
        await send(runtime, Principal(mitra.id, "mitra"), chat_id, "halo", "m-1")
        assert await _stored(runtime, chat_id) == [("mitra", "halo", "m-1")]
        await send(runtime, Principal(mitra.id, "mitra"), chat_id, "halo", "m-1")  # the app re-sends
    first, again = captured.of(events.ChatMessageEvent)
    assert first.message.id == again.message.id and first.message.body == "halo"
    assert await _stored(runtime, chat_id) == [("mitra", "halo", "m-1")]
    assert [[r.channel_key for r in e.recipients] for e in captured.envelopes] == [
        [f"customer:{customer.id}", f"mitra:{mitra.id}"],
        [f"mitra:{mitra.id}"],
    ]


@PATHS
async def test_only_the_chats_own_customer_and_mitra_may_send(runtime: Runtime, send: Send) -> None:
    customer, mitra, stranger = (
        await make_customer(runtime),
        await make_mitra(runtime),
        await make_customer(runtime),
    )
    chat_id = await make_chat(runtime, customer.id, mitra.id)
    for who in (
        Principal(stranger.id, "customer"),
        Principal(customer.id, "mitra"),
        Principal(mitra.id, "customer"),
    ):
        with pytest.raises(service.ChatSessionNotFound):
            await send(runtime, who, chat_id, "halo", None)
    with pytest.raises(service.ChatSessionNotFound):
        await send(runtime, Principal(customer.id, "customer"), uuid.uuid4(), "halo", None)
    assert await _stored(runtime, chat_id) == []


@PATHS
async def test_an_ended_or_timed_out_chat_refuses_messages(runtime: Runtime, send: Send) -> None:
    customer, mitra = await make_customer(runtime), await make_mitra(runtime)
    ended = await make_chat(runtime, customer.id, mitra.id, ended=True)
    # Still 'active' in the row, but past its end: the deadline has not run yet.
    overdue = await make_chat(
        runtime, customer.id, mitra.id, started=datetime.now(UTC) - timedelta(minutes=31)
    )
    with capture_events(runtime) as captured:
        for chat_id in (ended, overdue):
            with pytest.raises(service.ChatSessionEnded):
                await send(runtime, Principal(customer.id, "customer"), chat_id, "halo", "c-1")
            assert await _stored(runtime, chat_id) == []
    assert captured.of(events.ChatMessageEvent) == []  # (the deadline may end the overdue one meanwhile)
