"""/ws and presence against real ``curhat serve`` processes."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from curhat.config import Settings
from curhat.realtime import protocol
from tests.fixtures.app import RuntimeFactory
from tests.fixtures.factories import make_customer, make_mitra
from tests.fixtures.server import ServerProcess
from tests.fixtures.ws import WsClient, eventually

pytestmark = pytest.mark.e2e

TTL = 3


async def test_mitra_on_a_killed_server_goes_offline_within_the_ttl(
    settings: Settings, start_runtime: RuntimeFactory, server_factory: type[ServerProcess]
) -> None:
    short = settings.model_copy(update={"presence_ttl_seconds": TTL})
    server = server_factory(CURHAT_PRESENCE_TTL_SECONDS=str(TTL)).start()
    async with start_runtime(short) as observer:
        mitra = await make_mitra(observer)
        ws = await WsClient.open(server.ws_url, mitra.token)
        async with httpx.AsyncClient(base_url=server.public_url) as http:
            r = await http.post("/api/mitra/status", json={"online": True}, headers=mitra.headers)
            assert r.status_code == 200, r.text
        assert await observer.presence.is_online(mitra.id)
        server.kill()  # SIGKILL: no goodbye from the process holding the socket
        killed_at = time.monotonic()

        async def offline() -> bool:
            return not await observer.presence.is_online(mitra.id)

        await eventually(offline, timeout=TTL + 3)
        assert time.monotonic() - killed_at <= TTL + 0.5
        assert observer.presence.availability() == (False, 0)
        ws.abort()


async def test_client_dropping_without_close_frame_goes_offline(
    settings: Settings, start_runtime: RuntimeFactory, server: ServerProcess
) -> None:
    async with start_runtime(settings) as observer:
        mitra = await make_mitra(observer)
        ws = await WsClient.open(server.ws_url, mitra.token)
        async with httpx.AsyncClient(base_url=server.public_url) as http:
            r = await http.post("/api/mitra/status", json={"online": True}, headers=mitra.headers)
            assert r.status_code == 200
            assert (await http.get("/api/mitra/me", headers=mitra.headers)).json()["online"] is True
        ws.abort()

        async def offline() -> bool:
            return not await observer.presence.is_online(mitra.id)

        await eventually(offline, timeout=10)


async def test_abuse_on_the_real_server(
    settings: Settings, start_runtime: RuntimeFactory, server: ServerProcess
) -> None:
    async with start_runtime(settings) as rt:
        customer = await make_customer(rt)
        calm = await WsClient.open(server.ws_url, customer.token)
        bad = await WsClient.open(server.ws_url, "nope", read=False)
        assert await bad.closed() == protocol.CLOSE_BAD_TOKEN
        foreign = await WsClient.open(server.ws_url, customer.token, origin="http://evil.example", read=False)
        assert await foreign.closed() == protocol.CLOSE_FORBIDDEN_ORIGIN
        big = await WsClient.open(server.ws_url, customer.token, read=False)
        await big.conn.send(json.dumps({"type": "ping", "pad": "x" * 9000}))
        assert await big.closed() == protocol.CLOSE_FRAME_TOO_BIG
        await calm.ping()
        await calm.close()


async def test_two_servers_share_presence_and_availability(
    settings: Settings, start_runtime: RuntimeFactory, server_factory: type[ServerProcess]
) -> None:
    a, b = server_factory().start(), server_factory().start()
    async with start_runtime(settings) as rt:
        mitra = await make_mitra(rt)
        customer = await make_customer(rt)
        customer_ws = await WsClient.open(b.ws_url, customer.token)
        mitra_ws = await WsClient.open(a.ws_url, mitra.token)
        async with httpx.AsyncClient(base_url=b.public_url) as on_b:
            r = await on_b.post("/api/mitra/status", json={"online": True}, headers=mitra.headers)
            assert r.status_code == 200, r.text  # the socket is on A, the request on B
            pushed = await customer_ws.expect("MITRA_AVAILABILITY")
            assert pushed["data"] == {"available": True, "count": 1}
            r = await on_b.get("/api/client/mitra-availability", headers=customer.headers)
            assert r.json() == {"available": True, "count": 1}
        await mitra_ws.close()
        assert (await customer_ws.expect("MITRA_AVAILABILITY"))["data"] == {"available": False, "count": 0}
        await customer_ws.close()
