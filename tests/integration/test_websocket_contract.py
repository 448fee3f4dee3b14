"""The /ws contract: typed events, the published AsyncAPI document, and after-commit delivery."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import pytest

from curhat.auth.tokens import Principal
from curhat.chat import service as chat_service
from curhat.realtime import events
from curhat.realtime.asyncapi import document, markdown
from curhat.realtime.events import SERVER_EVENTS, ServerEvent, event_type
from curhat.runtime import Runtime
from tests.fixtures.contract import contract_errors
from tests.fixtures.events import capture_events
from tests.fixtures.factories import make_chat, make_customer, make_mitra
from tests.fixtures.ws import LiveServer, WsClient

DOCS = Path(__file__).resolve().parents[2] / "docs" / "websocket.md"


def _all_subclasses(cls: type[ServerEvent]) -> set[type[ServerEvent]]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub, *_all_subclasses(sub)}
    return found


def test_every_event_the_code_can_emit_is_published() -> None:
    # emit() takes a ServerEvent, so the subclasses are every event the code can send.
    doc = document()
    emittable = {event_type(m) for m in _all_subclasses(ServerEvent)}
    assert emittable == {event_type(m) for m in SERVER_EVENTS}
    assert emittable <= set(doc["components"]["messages"])
    sent = {m["$ref"].rsplit("/", 1)[-1] for m in doc["operations"]["sendEvents"]["messages"]}
    assert emittable <= sent
    for name in emittable:
        assert name in DOCS.read_text(), f"{name} missing from docs/websocket.md"


def test_examples_validate_and_a_wrong_frame_does_not() -> None:
    doc = document()
    for name, message in doc["components"]["messages"].items():
        example = message["examples"][0]["payload"]
        if name in {event_type(m) for m in SERVER_EVENTS}:
            assert contract_errors(example) == [], name
    bad = json.loads(json.dumps(doc["components"]["messages"]["PAIRING_FAILED"]["examples"][0]["payload"]))
    bad["data"]["cause_tag"] = "bored"
    assert contract_errors(bad)
    bad["data"].pop("cause_tag")
    bad["data"]["surprise"] = 1
    assert contract_errors(bad)
    assert contract_errors({"type": "NOT_AN_EVENT", "data": {}})


def test_docs_websocket_md_is_generated_from_the_models() -> None:
    assert DOCS.read_text() == markdown(), (
        "docs/websocket.md is stale: python -m curhat.realtime.asyncapi --markdown > docs/websocket.md"
    )


def test_event_models_refuse_unknown_fields() -> None:
    with pytest.raises(ValueError):
        events.ChatSessionEnded(chat_session_id=uuid.uuid4(), end_reason="time_up", extra=1)  # type: ignore[call-arg]
    with pytest.raises(ValueError):
        events.ChatSessionEnded(chat_session_id=uuid.uuid4(), end_reason="bored")  # type: ignore[arg-type]


async def test_asyncapi_json_is_served_on_the_public_listener(public: httpx.AsyncClient) -> None:
    r = await public.get("/asyncapi.json")
    assert r.status_code == 200
    body = r.json()
    assert body["asyncapi"] == "3.0.0"
    assert body["channels"]["ws"]["address"] == "/ws"
    assert {"PAIRING_REQUEST", "CHAT_MESSAGE", "chat.send", "ping"} <= set(body["components"]["messages"])


async def test_capture_events_sees_what_committed_and_nothing_rolled_back(runtime: Runtime) -> None:
    customer = await make_customer(runtime)
    mitra = await make_mitra(runtime)
    chat_id = await make_chat(runtime, customer.id, mitra.id)
    who = Principal(customer.id, "customer")
    with capture_events(runtime) as captured:
        with pytest.raises(RuntimeError):
            async with runtime.transaction() as session:
                await chat_service.send_message(session, who, chat_id, "tidak jadi", "c-1")
                raise RuntimeError("rolled back")
        assert captured.events == []
        async with runtime.transaction() as session:
            await chat_service.send_message(session, who, chat_id, "halo", "c-2")
            assert captured.events == []  # nothing leaves before the commit
    [sent] = captured.of(events.ChatMessageEvent)
    assert sent.message.body == "halo" and sent.chat_session_id == chat_id
    assert sorted(captured.recipients(events.ChatMessageEvent)) == sorted(
        [f"customer:{customer.id}", f"mitra:{mitra.id}"]
    )


async def test_typing_and_read_receipts_reach_the_other_side(live: LiveServer, runtime: Runtime) -> None:
    customer = await make_customer(runtime)
    mitra = await make_mitra(runtime)
    chat_id = await make_chat(runtime, customer.id, mitra.id)
    cws = await WsClient.open(live.ws_url, customer.token)
    mws = await WsClient.open(live.ws_url, mitra.token)
    await cws.send({"type": "chat.typing", "chat_session_id": str(chat_id)})
    typing = await mws.expect("CHAT_TYPING", chat_session_id=str(chat_id))
    assert typing["data"]["sender_role"] == "customer"
    await cws.send(
        {"type": "chat.send", "chat_session_id": str(chat_id), "body": "halo", "client_msg_id": "m1"}
    )
    msg = (await mws.expect("CHAT_MESSAGE"))["data"]["message"]
    await mws.send({"type": "chat.read", "chat_session_id": str(chat_id), "up_to_message_id": msg["id"]})
    read = await cws.expect("CHAT_READ", chat_session_id=str(chat_id))
    assert read["data"]["reader_role"] == "mitra" and read["data"]["up_to_message_id"] == msg["id"]
    # Stored: a reload shows "Dibaca" again.
    async with httpx.AsyncClient(base_url=live.base_url) as http:
        detail = (await http.get(f"/api/client/chat-sessions/{chat_id}", headers=customer.headers)).json()
    assert detail["mitra_read_up_to"] == msg["id"] and detail["customer_read_up_to"] is None
    # Reading the same message again tells nobody anything new.
    await mws.send({"type": "chat.read", "chat_session_id": str(chat_id), "up_to_message_id": msg["id"]})
    await mws.send(
        {"type": "chat.read", "chat_session_id": str(chat_id), "up_to_message_id": str(uuid.uuid4())}
    )
    assert (await mws.expect("ERROR"))["data"]["code"] == "message_not_found"
    await cws.ping()
    assert cws.seen("CHAT_READ") == []
    # The customer's own typing is not echoed back to them.
    assert cws.seen("CHAT_TYPING") == []
    await cws.close()
    await mws.close()
