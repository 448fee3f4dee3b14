"""What the server writes to its logs, read from the real process's output."""

from __future__ import annotations

import httpx
import pytest
import websockets

from curhat.runtime import Runtime
from tests.e2e.flows import Socket
from tests.fixtures.factories import make_customer
from tests.fixtures.server import ServerProcess

pytestmark = pytest.mark.e2e


async def test_login_tokens_never_reach_the_logs(seed: Runtime, server_factory: type[ServerProcess]) -> None:
    server = server_factory(CURHAT_LOG_LEVEL="DEBUG", CURHAT_LOG_JSON="true").start()
    customer = await make_customer(seed)
    sock = await Socket.open(server.ws_url, customer.token)
    await sock.send({"type": "ping"})
    await sock.close()
    forged = customer.token[:-4] + "AAAA"
    with pytest.raises(websockets.ConnectionClosed):
        bad = await websockets.connect(f"{server.ws_url}?token={forged}")
        await bad.recv()
    async with httpx.AsyncClient(base_url=server.public_url) as http:
        await http.get(f"/api/client/me?token={customer.token}&access_token={forged}")
    assert server.stop() == 0
    output = "".join(server.output)
    assert "/ws" in output  # the handshake is logged …
    assert customer.token not in output and forged not in output  # … without the secret
    assert customer.token.split(".")[1] not in output
    assert "token=[redacted]" in output
