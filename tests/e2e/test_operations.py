"""Running the real process: the SIGTERM drain, its log lines, a quiet start-up."""

from __future__ import annotations

import asyncio
import json
import re
import signal
from typing import Any

import httpx
import pytest
import websockets

from curhat.cli.demo import OPERATOR, create_demo_data
from curhat.runtime import Runtime
from tests.e2e.flows import Api, Socket, open_chat
from tests.fixtures.factories import make_customer, make_operator
from tests.fixtures.server import ServerProcess

pytestmark = pytest.mark.e2e

TS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def json_log(server: ServerProcess) -> list[dict[str, Any]]:
    return [json.loads(line) for line in server.output if line.startswith("{")]


def events_named(server: ServerProcess, name: str) -> list[dict[str, Any]]:
    return [entry for entry in json_log(server) if entry.get("event") == name]


async def wait_exit(server: ServerProcess, timeout: float = 60) -> int:
    assert server.proc is not None
    return await asyncio.to_thread(server.proc.wait, timeout)


async def test_sigterm_drains_readiness_first_then_closes_sockets_with_1012_then_exits_0(
    seed: Runtime, server_factory: type[ServerProcess]
) -> None:
    # Long enough that the checks below happen inside the drain even on a loaded machine.
    server = server_factory(CURHAT_SHUTDOWN_DRAIN_SECONDS="8", CURHAT_LOG_LEVEL="INFO").start()
    customer, late = await make_customer(seed), await make_customer(seed)
    sock = await Socket.open(server.ws_url, customer.token)
    await sock.send({"type": "ping"})
    await sock.expect("pong")
    async with httpx.AsyncClient(base_url=server.public_url, timeout=20) as http:
        assert (await http.get("/readyz")).status_code == 200
        assert server.proc is not None
        server.proc.send_signal(signal.SIGTERM)

        while (ready := await http.get("/readyz")).status_code == 200:
            pass
        # Out of rotation while the socket is still served.
        assert ready.status_code == 503 and ready.headers["retry-after"] == "5"
        assert sock.conn.close_code is None
        assert (await http.get("/healthz")).status_code == 200  # alive, just leaving

        # New sockets are turned away with "service restart", so the app retries elsewhere.
        async with websockets.connect(f"{server.ws_url}?token={late.token}") as refused:
            with pytest.raises(websockets.ConnectionClosed):
                await asyncio.wait_for(refused.recv(), 30)
        assert refused.close_code == 1012
        assert sock.conn.close_code is None

    # Then the open socket is closed with 1012, and the process exits cleanly.
    assert sock._reader is not None
    await asyncio.wait_for(sock._reader, 60)
    assert sock.conn.close_code == 1012
    assert await wait_exit(server) == 0

    (closed,) = [e for e in events_named(server, "ws.closed") if e["user_id"] == str(customer.id)]
    assert closed["code"] == 1012 and closed["by"] == "server" and closed["role"] == "customer"
    assert [e["code"] for e in events_named(server, "ws.refused")] == [1012]
    order = [e["event"] for e in json_log(server) if str(e.get("event", "")).startswith("shutdown.")]
    assert order == ["shutdown.draining", "shutdown.sockets_closed", "shutdown.done"]


async def test_business_events_and_socket_closes_are_json_lines(
    seed: Runtime, server_factory: type[ServerProcess]
) -> None:
    server = server_factory(CURHAT_LOG_LEVEL="INFO").start()
    api = Api(server.public_url)
    sockets: list[Socket] = []
    try:
        chat = await open_chat(seed, server.ws_url, api, sockets)
        r = await api.http.post(f"/api/client/chat-sessions/{chat.id}/end", headers=chat.customer.headers)
        assert r.status_code == 200, r.text
        await chat.customer_ws.expect("CHAT_SESSION_ENDED")
        await chat.customer_ws.close()

        operator = await make_operator(seed)
        async with httpx.AsyncClient(base_url=server.internal_url, timeout=20) as internal:
            r = await internal.patch(
                "/internal/config/pairing_blast_timeout_seconds",
                json={"value": 90},
                headers={"Authorization": f"Bearer {operator.token}", "X-Request-Id": 'bad id {"x": 1}'},
            )
            assert r.status_code == 200, r.text
            assert re.fullmatch(r"[0-9a-f]{32}", r.headers["x-request-id"])  # replaced, not echoed
    finally:
        for sock in sockets:
            await sock.close()
        await api.aclose()
    assert server.stop() == 0

    entries = json_log(server)
    assert entries and all(TS.fullmatch(e["ts"]) for e in entries)
    (matched,) = events_named(server, "pairing.matched")
    assert matched["level"] == "info" and matched["logger"] == "curhat.events"
    assert matched["chat_session_id"] == chat.id
    assert matched["mitra_id"] == str(chat.mitra.id) and matched["customer_id"] == str(chat.customer.id)
    (ended,) = events_named(server, "chat.ended")
    assert ended["reason"] == "customer_ended" and ended["chat_session_id"] == chat.id
    (changed,) = events_named(server, "config.changed")
    assert changed["key"] == "pairing_blast_timeout_seconds" and changed["value"] == "90"
    assert changed["operator_id"] == str(operator.id) and changed["request_id"] == r.headers["x-request-id"]
    closes = {e["user_id"]: e for e in events_named(server, "ws.closed")}
    assert closes[str(chat.customer.id)]["code"] == 1000 and closes[str(chat.customer.id)]["by"] == "client"
    assert closes[str(chat.customer.id)]["role"] == "customer"
    # One line per socket, at close; none when it opens.
    assert not [
        e for e in entries if "WebSocket" in e.get("msg", "") or "connection open" in e.get("msg", "")
    ]


async def test_quiet_start_up_ends_with_a_ready_block_listing_urls_and_demo_accounts(
    seed: Runtime, server_factory: type[ServerProcess]
) -> None:
    async with seed.transaction() as session:
        await create_demo_data(session, seed.passwords)
    server = server_factory(CURHAT_LOG_FORMAT="text", CURHAT_LOG_LEVEL="INFO").start()
    assert server.stop() == 0
    output = "".join(server.output)
    start, _, after = output.partition("Curhat is ready.")
    # Nothing from uvicorn, alembic or the embedded servers first (only our own warnings, if any).
    for line in start.strip().splitlines():
        assert re.match(r"\S+ \S+Z (WARN|ERROR) curhat\.", line), line
    block = after.split("\n\n")[0]
    assert f"customer app    {server.public_url}/" in block
    assert f"mitra app       {server.public_url}/mitra/" in block
    assert f"control center  {server.internal_url}/cc/" in block
    assert f"{server.public_url}/docs" in block
    assert f"{OPERATOR[0]} / {OPERATOR[1]}" in block
    assert "+6281100000001 / bestie-demo-1" in block
    # What follows are one-line text logs, UTC to the millisecond.
    for line in after.split("\n\n", 1)[1].splitlines():
        if line.strip():
            assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z (INFO |WARN)", line), line
    assert "curhat.cli.serve shutdown.done" in output
