"""GET /ws against a real uvicorn listener: auth, origin, frames, commands, fan-out, abuse."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any, Literal

import websockets

from curhat.auth.tokens import Principal
from curhat.errors import Conflict
from curhat.models.enums import SenderRole
from curhat.realtime import events, protocol
from curhat.realtime.events import ClientCommand
from curhat.runtime import Runtime
from tests.fixtures.app import RuntimeFactory
from tests.fixtures.factories import make_customer, make_mitra, make_operator
from tests.fixtures.ws import LiveServer, ServeFactory, WsClient, eventually, refused_with


async def test_ping_pong_with_query_token_and_with_subprotocol(live: LiveServer, runtime: Runtime) -> None:
    customer = await make_customer(runtime)
    a = await WsClient.open(live.ws_url, customer.token)
    await a.ping()
    b = await WsClient.open(live.ws_url, subprotocol_token=customer.token)
    assert b.conn.subprotocol == f"bearer.{customer.token}"
    await b.ping()
    await a.close()
    await b.close()


async def test_bad_tokens_close_4401(live: LiveServer, runtime: Runtime) -> None:
    operator = await make_operator(runtime)
    assert await refused_with(live.ws_url) == protocol.CLOSE_BAD_TOKEN
    assert await refused_with(live.ws_url, "not-a-jwt") == protocol.CLOSE_BAD_TOKEN
    assert await refused_with(live.ws_url, subprotocol_token="garbage") == protocol.CLOSE_BAD_TOKEN
    # Operators have no socket on the public listener.
    assert await refused_with(live.ws_url, operator.token) == protocol.CLOSE_BAD_TOKEN


async def test_foreign_origin_closes_4403(live: LiveServer, runtime: Runtime) -> None:
    customer = await make_customer(runtime)
    s = runtime.settings
    code = await refused_with(live.ws_url, customer.token, origin="http://evil.example")
    assert code == protocol.CLOSE_FORBIDDEN_ORIGIN
    for origin in (f"http://{s.public_host}:{s.public_port}", f"http://localhost:{s.public_port}"):
        ok = await WsClient.open(live.ws_url, customer.token, origin=origin)
        await ok.ping()
        await ok.close()


async def test_configured_origins_are_allowed(
    runtime: Runtime, start_runtime: RuntimeFactory, serve: ServeFactory
) -> None:
    settings = runtime.settings.model_copy(update={"ws_origins": "https://app.curhat.example"})
    async with start_runtime(settings) as other, serve(other) as server:
        customer = await make_customer(other)
        ok = await WsClient.open(server.ws_url, customer.token, origin="https://app.curhat.example")
        await ok.ping()
        await ok.close()
        code = await refused_with(server.ws_url, customer.token, origin="https://other.example")
        assert code == protocol.CLOSE_FORBIDDEN_ORIGIN


async def test_oversized_frame_closes_4400(live: LiveServer, runtime: Runtime) -> None:
    customer = await make_customer(runtime)
    ws = await WsClient.open(live.ws_url, customer.token)
    await ws.ping()
    # Exactly 8 KiB is allowed (an unknown type, so an ERROR comes back).
    at_limit = json.dumps({"type": "x", "pad": ""})
    at_limit = at_limit[:-2] + "a" * (protocol.MAX_FRAME_BYTES - len(at_limit)) + '"}'
    assert len(at_limit.encode()) == protocol.MAX_FRAME_BYTES
    await ws.conn.send(at_limit)
    assert (await ws.expect("ERROR"))["data"]["code"] == "unknown_type"
    await ws.conn.send(json.dumps({"type": "ping", "pad": "é" * 4100}, ensure_ascii=False))  # > 8 KiB
    assert await ws.closed() == protocol.CLOSE_FRAME_TOO_BIG


async def test_bad_frames_get_error_events_and_socket_stays(live: LiveServer, runtime: Runtime) -> None:
    customer = await make_customer(runtime)
    ws = await WsClient.open(live.ws_url, customer.token)
    await ws.conn.send("{not json")
    assert (await ws.expect("ERROR"))["data"]["code"] == "bad_json"
    await ws.conn.send("[1, 2]")
    assert (await ws.expect("ERROR"))["data"]["code"] == "bad_frame"
    await ws.send({"type": "no.such.command"})
    error = await ws.expect("ERROR")
    assert error["data"] == {"code": "unknown_type", "message": error["data"]["message"]}
    assert error["id"] and error["ts"]
    await ws.conn.send(b'{"type":"ping"}')
    assert (await ws.expect("ERROR"))["data"]["code"] == "bad_frame"
    await ws.ping()
    await ws.close()


class Echo(ClientCommand):
    type: Literal["test.echo"] = "test.echo"
    chat_session_id: uuid.UUID
    refuse: bool = False


def _marker() -> events.ChatTyping:
    """A real event type nobody else sends in these tests, to follow one delivery."""
    return events.ChatTyping(chat_session_id=uuid.uuid4(), sender_role=SenderRole.MITRA)


async def test_command_registry_routes_frames_and_errors(live: LiveServer, runtime: Runtime) -> None:
    calls: list[tuple[Principal, Echo]] = []

    class Refused(Conflict):
        code = "echo_refused"
        message = "No."

    async def echo(principal: Principal, frame: Echo) -> None:
        if frame.refuse:
            raise Refused()
        calls.append((principal, frame))
        typing = events.ChatTyping(chat_session_id=frame.chat_session_id, sender_role=SenderRole.MITRA)
        await runtime.publish([protocol.envelope(typing, [protocol.customer(principal.id)])])

    runtime.ws_commands.register(Echo, echo, roles=("customer",))
    customer = await make_customer(runtime)
    mitra = await make_mitra(runtime)
    ws = await WsClient.open(live.ws_url, customer.token)
    chat_id = uuid.uuid4()
    await ws.send({"type": "test.echo", "chat_session_id": str(chat_id)})
    assert (await ws.expect("CHAT_TYPING"))["data"]["chat_session_id"] == str(chat_id)
    assert calls == [(Principal(customer.id, "customer"), Echo(chat_session_id=chat_id))]
    await ws.send({"type": "test.echo", "chat_session_id": str(chat_id), "refuse": True})
    assert (await ws.expect("ERROR"))["data"] == {"code": "echo_refused", "message": "No."}
    await ws.send({"type": "test.echo", "chat_session_id": "not-a-uuid"})
    assert (await ws.expect("ERROR"))["data"]["code"] == "validation_error"
    # A role the command is not registered for sees an unknown type.
    mws = await WsClient.open(live.ws_url, mitra.token)
    await mws.send({"type": "test.echo", "n": 2})
    assert (await mws.expect("ERROR"))["data"]["code"] == "unknown_type"
    await ws.ping()
    await ws.close()
    await mws.close()


async def test_every_socket_of_a_user_receives(live: LiveServer, runtime: Runtime) -> None:
    customer = await make_customer(runtime)
    other = await make_customer(runtime)
    sockets = [await WsClient.open(live.ws_url, customer.token) for _ in range(3)]
    bystander = await WsClient.open(live.ws_url, other.token)
    hello = _marker()
    await runtime.publish([protocol.envelope(hello, [protocol.customer(customer.id)])])
    for ws in sockets:
        assert (await ws.expect("CHAT_TYPING"))["data"]["chat_session_id"] == str(hello.chat_session_id)
    await bystander.ping()
    assert bystander.seen("CHAT_TYPING") == []
    for ws in [*sockets, bystander]:
        await ws.close()


async def test_event_crosses_to_a_socket_on_another_instance(
    runtime: Runtime, settings: Any, start_runtime: RuntimeFactory, serve: ServeFactory
) -> None:
    """Two runtimes over the same PostgreSQL + Valkey: published on A, delivered by B."""
    customer = await make_customer(runtime)
    mitra = await make_mitra(runtime)
    async with start_runtime(settings) as b, serve(b) as on_b:
        cws = await WsClient.open(on_b.ws_url, customer.token)
        mws = await WsClient.open(on_b.ws_url, mitra.token)
        assert len(runtime.hub) == 0  # nothing on A
        envelope = protocol.envelope(_marker(), [protocol.customer(customer.id), protocol.mitra(mitra.id)])
        await runtime.publish([envelope])
        assert (await cws.expect("CHAT_TYPING"))["id"] == envelope.id
        assert (await mws.expect("CHAT_TYPING"))["id"] == envelope.id
        await cws.close()
        await mws.close()


async def test_an_instance_hears_only_events_for_its_own_sockets(
    runtime: Runtime, settings: Any, start_runtime: RuntimeFactory, serve: ServeFactory
) -> None:
    """Per-recipient shard channels: adding an instance adds capacity, not work for every instance."""
    customer = await make_customer(runtime)
    async with start_runtime(settings) as b, serve(b) as on_b:
        ws = await WsClient.open(on_b.ws_url, customer.token)
        markers = [_marker() for _ in range(10)]
        await runtime.publish([protocol.envelope(m, [protocol.customer(customer.id)]) for m in markers])
        for m in markers:
            await ws.expect("CHAT_TYPING", chat_session_id=str(m.chat_session_id))
        assert b.bus.received == 10
        assert runtime.bus.received == 0  # A holds no socket of that customer: it heard nothing
        await ws.close()


async def test_a_socket_reopened_at_once_still_receives(live: LiveServer, runtime: Runtime) -> None:
    """A reload closes and opens a socket of the same person together; the subscription must survive."""
    customer = await make_customer(runtime)
    for _ in range(5):
        first = await WsClient.open(live.ws_url, customer.token)
        closing = asyncio.create_task(first.close())
        second = await WsClient.open(live.ws_url, customer.token)
        await closing
        hello = _marker()
        await runtime.publish([protocol.envelope(hello, [protocol.customer(customer.id)])])
        await second.expect("CHAT_TYPING", chat_session_id=str(hello.chat_session_id))
        await second.close()


async def test_flood_closes_the_flooder_only(live: LiveServer, runtime: Runtime) -> None:
    flooder_account = await make_customer(runtime)
    calm_account = await make_customer(runtime)
    calm = await WsClient.open(live.ws_url, calm_account.token)
    flooder = await WsClient.open(live.ws_url, flooder_account.token, read=False)
    frame = json.dumps({"type": "ping"})
    try:
        for _ in range(2000):
            await flooder.conn.send(frame)
    except websockets.ConnectionClosed:
        pass
    assert await flooder.closed() == protocol.CLOSE_FLOOD
    await calm.ping()
    await runtime.publish([protocol.envelope(_marker(), [protocol.customer(calm_account.id)])])
    await calm.expect("CHAT_TYPING")
    await calm.close()


async def test_idle_socket_is_closed_after_the_ttl(
    runtime: Runtime, start_runtime: RuntimeFactory, serve: ServeFactory
) -> None:
    settings = runtime.settings.model_copy(update={"presence_ttl_seconds": 1})
    async with start_runtime(settings) as rt, serve(rt) as server:
        customer = await make_customer(rt)
        silent = await WsClient.open(server.ws_url, customer.token)
        chatty = await WsClient.open(server.ws_url, customer.token)

        async def keep_pinging() -> None:
            while True:
                await chatty.ping()
                await asyncio.sleep(0.2)

        pinger = asyncio.create_task(keep_pinging())
        assert await silent.closed(timeout=5) == protocol.CLOSE_IDLE
        assert not pinger.done()
        pinger.cancel()
        await chatty.close()


async def test_mitra_socket_drives_presence(live: LiveServer, runtime: Runtime, public: Any) -> None:
    mitra = await make_mitra(runtime)
    customer = await make_customer(runtime)
    cws = await WsClient.open(live.ws_url, customer.token)
    r = await public.post("/api/mitra/status", json={"online": True}, headers=mitra.headers)
    assert r.status_code == 409 and r.json()["error"] == "not_connected"

    mws = await WsClient.open(live.ws_url, mitra.token)
    assert await runtime.presence.has_live_socket(mitra.id)
    r = await public.post("/api/mitra/status", json={"online": True}, headers=mitra.headers)
    assert r.status_code == 200 and r.json() == {"online": True}
    assert await runtime.presence.is_online(mitra.id)
    pushed = await cws.expect("MITRA_AVAILABILITY")
    assert pushed["data"] == {"available": True, "count": 1}

    await mws.close()
    await eventually(lambda: _offline(runtime, mitra.id))
    assert (await cws.expect("MITRA_AVAILABILITY"))["data"] == {"available": False, "count": 0}
    # The wish to be online went with the last socket: reconnecting does not bring them back.
    mws = await WsClient.open(live.ws_url, mitra.token)
    await mws.ping()
    assert not await runtime.presence.is_online(mitra.id)
    await mws.close()
    await cws.close()


async def _offline(runtime: Runtime, mitra_id: Any) -> bool:
    return not await runtime.presence.is_online(mitra_id)
