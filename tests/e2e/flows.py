"""Real clients for end-to-end tests: HTTP like the apps, and WebSockets that collect events."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import websockets
from websockets.asyncio.client import ClientConnection

from curhat.runtime import Runtime
from tests.fixtures.contract import contract_errors
from tests.fixtures.factories import Account, make_customer, make_mitra


@dataclass
class Socket:
    """A WebSocket that records every event and lets a test await the next one of a type."""

    conn: ClientConnection
    events: list[dict[str, Any]] = field(default_factory=list)
    # Frames that broke the published /ws contract (/asyncapi.json); expect() fails on the first.
    contract_violations: list[str] = field(default_factory=list)
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)
    _reader: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, ws_url: str, token: str) -> Socket:
        conn = await websockets.connect(f"{ws_url}?token={token}", max_size=2**20, compression=None)
        sock = cls(conn)
        sock._reader = asyncio.create_task(sock._read())
        return sock

    async def _read(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in self.conn:
                frame = json.loads(raw)
                self.contract_violations += contract_errors(frame)
                async with self._arrived:
                    self.events.append(frame)
                    self._arrived.notify_all()

    async def expect(self, type_: str, timeout: float = 10, **match: Any) -> dict[str, Any]:
        """The data of the first event of this type (matching fields) not yet consumed."""

        def find() -> dict[str, Any] | None:
            assert not self.contract_violations, self.contract_violations
            for i, ev in enumerate(self.events):
                data = ev.get("data", {})
                if ev.get("type") == type_ and all(str(data.get(k)) == str(v) for k, v in match.items()):
                    self.events.pop(i)
                    return dict(data)
            return None

        async def wait() -> dict[str, Any]:
            async with self._arrived:
                while (found := find()) is None:
                    await self._arrived.wait()
                return found

        try:
            return await asyncio.wait_for(wait(), timeout)
        except TimeoutError:
            seen = [e.get("type") for e in self.events]
            raise AssertionError(f"no {type_} {match} within {timeout}s; unconsumed: {seen}") from None

    def seen(self, type_: str) -> list[dict[str, Any]]:
        return [e["data"] for e in self.events if e.get("type") == type_]

    async def send(self, frame: dict[str, Any]) -> None:
        await self.conn.send(json.dumps(frame))

    async def close(self) -> None:
        await self.conn.close()
        if self._reader:
            await self._reader


class Api:
    def __init__(self, base_url: str) -> None:
        self.http = httpx.AsyncClient(base_url=base_url, timeout=20)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def paid_session(
        self, customer: Account, duration: int = 30, targeted_mitra_id: uuid.UUID | None = None
    ) -> str:
        body: dict[str, Any] = {"duration_minutes": duration}
        if targeted_mitra_id:
            body["targeted_mitra_id"] = str(targeted_mitra_id)
        r = await self.http.post("/api/client/payment-sessions", json=body, headers=customer.headers)
        assert r.status_code == 201, r.text
        pid = str(r.json()["id"])
        r = await self.http.post(f"/api/client/payment-sessions/{pid}/confirm", headers=customer.headers)
        assert r.status_code == 200, r.text
        return pid

    async def search(self, customer: Account, payment_session_id: str) -> dict[str, Any]:
        r = await self.http.post(
            "/api/client/chat-requests",
            json={"payment_session_id": payment_session_id},
            headers=customer.headers,
        )
        assert r.status_code == 202, r.text
        return dict(r.json())

    async def go_online(self, mitra: Account) -> None:
        r = await self.http.post("/api/mitra/status", json={"online": True}, headers=mitra.headers)
        assert r.status_code == 200, r.text

    async def respond(self, mitra: Account, request_id: str, action: str) -> httpx.Response:
        return await self.http.post(
            f"/api/mitra/pairing-requests/{request_id}/respond",
            json={"action": action},
            headers=mitra.headers,
        )

    async def payment(self, customer: Account, pid: str) -> dict[str, Any]:
        r = await self.http.get(f"/api/client/payment-sessions/{pid}", headers=customer.headers)
        assert r.status_code == 200, r.text
        return dict(r.json())


class Chat:
    """A running chat as both apps see it."""

    def __init__(
        self, api: Api, customer: Account, customer_ws: Socket, mitra: Account, mitra_ws: Socket, chat_id: str
    ):
        self.api, self.customer, self.customer_ws = api, customer, customer_ws
        self.mitra, self.mitra_ws, self.id = mitra, mitra_ws, chat_id

    async def extension_payment(self, minutes: int = 15) -> str:
        r = await self.api.http.post(
            "/api/client/payment-sessions",
            json={"duration_minutes": minutes, "is_extension": True, "chat_session_id": self.id},
            headers=self.customer.headers,
        )
        assert r.status_code == 201, r.text
        assert r.json()["is_free_trial"] is False and r.json()["amount"] > 0
        pid = str(r.json()["id"])
        assert (
            await self.api.http.post(
                f"/api/client/payment-sessions/{pid}/confirm", headers=self.customer.headers
            )
        ).status_code == 200
        return pid

    async def request(self, pid: str) -> dict[str, Any]:
        r = await self.api.http.post(
            f"/api/client/chat-sessions/{self.id}/extensions",
            json={"extension_payment_session_id": pid},
            headers=self.customer.headers,
        )
        assert r.status_code == 202, r.text
        return dict(r.json())

    async def ends_at(self) -> str:
        r = await self.api.http.get(f"/api/client/chat-sessions/{self.id}", headers=self.customer.headers)
        return str(r.json()["ends_at"])


async def open_chat(seed: Runtime, ws_url: str, api: Api, sockets: list[Socket]) -> Chat:
    """An online mitra and a customer, paired through the real flow; both sockets kept open."""
    mitra = await make_mitra(seed)
    mitra_ws = await Socket.open(ws_url, mitra.token)
    sockets.append(mitra_ws)
    await api.go_online(mitra)
    customer = await make_customer(seed)
    customer_ws = await Socket.open(ws_url, customer.token)
    sockets.append(customer_ws)
    rid = (await api.search(customer, await api.paid_session(customer)))["pairing_request_id"]
    await mitra_ws.expect("PAIRING_REQUEST", pairing_request_id=rid)
    chat_id = (await api.respond(mitra, rid, "accept")).json()["chat_session_id"]
    await customer_ws.expect("PAIRING_MATCHED")
    return Chat(api, customer, customer_ws, mitra, mitra_ws, chat_id)
