"""Two instances behind a real reverse proxy (Debian's nginx): HTTP and WebSocket both balanced,
a customer's socket on one instance and the mitra's on the other; they pair and chat."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from curhat.runtime import Runtime
from tests.e2e.flows import Api, Socket
from tests.fixtures.factories import make_customer, make_mitra
from tests.fixtures.server import ServerProcess, free_port

NGINX = "/usr/sbin/nginx"  # `make system-deps` installs it (Debian's nginx-light)

CONFIG = """
worker_processes 1;
daemon off;
user root;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 512; }}
http {{
  access_log off;
  client_body_temp_path {dir}/body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
  map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
  upstream curhat {{ server 127.0.0.1:{a}; server 127.0.0.1:{b}; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://curhat;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_read_timeout 120s;
    }}
  }}
}}
"""


@pytest.fixture
def proxied(server_factory: type[ServerProcess], tmp_path: Path) -> Iterator[tuple[str, list[ServerProcess]]]:
    instances = [server_factory().start(), server_factory().start()]
    port = free_port()
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        CONFIG.format(dir=tmp_path, a=instances[0].public_port, b=instances[1].public_port, port=port)
    )
    proc = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(tmp_path)], stderr=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):  # nginx binds within milliseconds; bounded wait for the first answer
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                if proc.poll() is not None:
                    raise RuntimeError(f"nginx exited: {proc.stderr.read() if proc.stderr else ''}") from None
        yield base, instances
    finally:
        proc.terminate()
        proc.wait(10)


async def _sockets_held(instance: ServerProcess) -> float:
    async with httpx.AsyncClient() as http:
        text = (await http.get(f"{instance.public_url}/metrics")).text
    match = re.search(r"^curhat_ws_connections_total (\S+)$", text, re.M)
    return float(match.group(1)) if match else 0.0


async def test_customer_and_mitra_on_different_instances_pair_and_chat(
    seed: Runtime, proxied: tuple[str, list[ServerProcess]], sockets: list[Socket]
) -> None:
    base, (a, b) = proxied
    ws_url = base.replace("http://", "ws://") + "/ws"
    api = Api(base)
    try:
        customer = await make_customer(seed)
        mitra = await make_mitra(seed)
        customer_ws = await Socket.open(ws_url, customer.token)
        sockets.append(customer_ws)
        customer_on_a = await _sockets_held(a) == 1
        # Round robin: open the mitra's socket until it lands on the other instance (bounded).
        for _ in range(6):
            mitra_ws = await Socket.open(ws_url, mitra.token)
            sockets.append(mitra_ws)
            if await _sockets_held(b if customer_on_a else a) >= 1:
                break
        else:
            pytest.fail("the proxy never sent the mitra to the other instance")
        await api.go_online(mitra)
        pid = await api.paid_session(customer)
        rid = (await api.search(customer, pid))["pairing_request_id"]
        await mitra_ws.expect("PAIRING_REQUEST", pairing_request_id=rid)
        r = await api.respond(mitra, rid, "accept")
        assert r.status_code == 200, r.text
        chat_id = r.json()["chat_session_id"]
        matched = await customer_ws.expect("PAIRING_MATCHED")
        assert matched["chat_session_id"] == chat_id
        await customer_ws.send(
            {"type": "chat.send", "chat_session_id": chat_id, "body": "halo dari A", "client_msg_id": "c1"}
        )
        got = await mitra_ws.expect("CHAT_MESSAGE")
        assert got["message"]["body"] == "halo dari A"
        await mitra_ws.send(
            {"type": "chat.send", "chat_session_id": chat_id, "body": "halo dari B", "client_msg_id": "m1"}
        )
        back = await customer_ws.expect("CHAT_MESSAGE", chat_session_id=chat_id)
        while back["message"]["body"] != "halo dari B":  # the customer's own echo comes first
            back = await customer_ws.expect("CHAT_MESSAGE", chat_session_id=chat_id)
        assert {await _sockets_held(a) >= 1, await _sockets_held(b) >= 1} == {True}
    finally:
        await api.aclose()
