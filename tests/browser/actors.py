"""The people around the customer in a browser test, acting through the real APIs.

The mitra side is an HTTP client plus a real WebSocket (the mitra app is a separate issue);
the operator sets up accounts and settings through the internal API.
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from playwright.async_api import Page

from tests.e2e.flows import Socket
from tests.fixtures.browser import OPERATOR_EMAIL, OPERATOR_PASSWORD
from tests.fixtures.server import ServerProcess

CUSTOMER_TOKEN_KEY = "curhat.customer.token"
PASSWORD = "rahasia-123"


def new_phone() -> str:
    return f"0813{uuid.uuid4().int % 10**8:08d}"


@dataclass
class Customer:
    id: str
    phone: str
    display_name: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Mitra:
    id: str
    display_name: str
    token: str
    http: httpx.AsyncClient
    ws: Socket | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def go_online(self, ws_url: str) -> None:
        if self.ws is None:
            self.ws = await Socket.open(ws_url, self.token)
        r = await self.http.post("/api/mitra/status", json={"online": True}, headers=self.headers)
        assert r.status_code == 200, r.text

    async def go_offline(self) -> None:
        r = await self.http.post("/api/mitra/status", json={"online": False}, headers=self.headers)
        assert r.status_code == 200, r.text

    async def disconnect(self) -> None:
        if self.ws is not None:
            await self.ws.close()
            self.ws = None

    async def next_offer(self, customer: Customer | None = None, timeout: float = 15) -> dict[str, Any]:
        """The next offer (from this customer: the server is shared with other tests)."""
        assert self.ws is not None
        while True:
            offer = await self.ws.expect("PAIRING_REQUEST", timeout)
            if customer is None or offer["customer"]["display_name"] == customer.display_name:
                return offer

    async def respond(self, request_id: str, action: str) -> httpx.Response:
        return await self.http.post(
            f"/api/mitra/pairing-requests/{request_id}/respond", json={"action": action}, headers=self.headers
        )

    async def accept_next(self, customer: Customer | None = None) -> str:
        """Accept the next offer; the chat session id."""
        offer = await self.next_offer(customer)
        r = await self.respond(str(offer["pairing_request_id"]), "accept")
        assert r.status_code == 200, r.text
        return str(r.json()["chat_session_id"])

    async def say(self, chat_id: str, body: str) -> None:
        assert self.ws is not None
        await self.ws.send(
            {"type": "chat.send", "chat_session_id": chat_id, "body": body, "client_msg_id": uuid.uuid4().hex}
        )

    async def answer_extension(self, action: str) -> dict[str, Any]:
        assert self.ws is not None
        request = await self.ws.expect("EXTENSION_REQUEST", 15)
        r = await self.http.post(
            f"/api/mitra/extension-requests/{request['extension_request_id']}/respond",
            json={"action": action},
            headers=self.headers,
        )
        assert r.status_code == 200, r.text
        return request


@dataclass
class Backoffice:
    """The operator (internal API) and account creation, for one test."""

    server: ServerProcess
    public: httpx.AsyncClient
    internal: httpx.AsyncClient
    operator_token: str = ""
    mitras: list[Mitra] = field(default_factory=list)

    @classmethod
    async def start(cls, server: ServerProcess) -> Backoffice:
        public = httpx.AsyncClient(base_url=server.public_url, timeout=20)
        internal = httpx.AsyncClient(base_url=server.internal_url, timeout=20)
        r = await internal.post(
            "/internal/auth/login", json={"email": OPERATOR_EMAIL, "password": OPERATOR_PASSWORD}
        )
        assert r.status_code == 200, r.text
        return cls(server, public, internal, r.json()["access_token"])

    @property
    def op(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.operator_token}"}

    async def close(self) -> None:
        for mitra in self.mitras:
            if mitra.ws is not None:
                with contextlib.suppress(httpx.HTTPError):
                    await self.public.post("/api/mitra/status", json={"online": False}, headers=mitra.headers)
                await mitra.disconnect()
        await self.public.aclose()
        await self.internal.aclose()

    async def customer(self, display_name: str = "Sari") -> Customer:
        phone = new_phone()
        r = await self.public.post(
            "/api/client/auth/register",
            json={"phone": phone, "password": PASSWORD, "display_name": display_name},
        )
        assert r.status_code == 201, r.text
        body = r.json()
        return Customer(body["user"]["id"], phone, display_name, body["access_token"])

    async def mitra(self, display_name: str = "Bestie Rani") -> Mitra:
        phone = new_phone()
        r = await self.internal.post(
            "/internal/mitras",
            json={"phone": phone, "password": PASSWORD, "display_name": display_name},
            headers=self.op,
        )
        assert r.status_code in (200, 201), r.text
        r = await self.public.post("/api/mitra/auth/login", json={"phone": phone, "password": PASSWORD})
        assert r.status_code == 200, r.text
        body = r.json()
        mitra = Mitra(body["mitra"]["id"], display_name, body["access_token"], self.public)
        self.mitras.append(mitra)
        return mitra

    async def online_mitra(self, display_name: str = "Bestie Rani") -> Mitra:
        mitra = await self.mitra(display_name)
        await mitra.go_online(self.server.ws_url)
        return mitra

    async def past_chat(self, customer: Customer, mitra: Mitra, minutes: int = 15) -> str:
        """A chat between them, through the API, already ended; its id."""
        r = await self.public.post(
            "/api/client/payment-sessions", json={"duration_minutes": minutes}, headers=customer.headers
        )
        assert r.status_code == 201, r.text
        pid = r.json()["id"]
        r = await self.public.post(f"/api/client/payment-sessions/{pid}/confirm", headers=customer.headers)
        assert r.status_code == 200, r.text
        r = await self.public.post(
            "/api/client/chat-requests", json={"payment_session_id": pid}, headers=customer.headers
        )
        assert r.status_code == 202, r.text
        chat_id = await mitra.accept_next(customer)
        r = await self.public.post(f"/api/client/chat-sessions/{chat_id}/end", headers=customer.headers)
        assert r.status_code == 200, r.text
        return chat_id

    async def set_config(self, key: str, value: int | str) -> None:
        r = await self.internal.patch(f"/internal/config/{key}", json={"value": value}, headers=self.op)
        assert r.status_code == 200, r.text

    async def payment(self, customer: Customer, payment_id: str) -> dict[str, Any]:
        r = await self.public.get(f"/api/client/payment-sessions/{payment_id}", headers=customer.headers)
        assert r.status_code == 200, r.text
        return dict(r.json())

    async def failures_for(self, customer: Customer) -> list[dict[str, Any]]:
        r = await self.internal.get("/internal/failed-pairings?limit=200", headers=self.op)
        assert r.status_code == 200, r.text
        return [row for row in r.json()["rows"] if row["customer"]["id"] == customer.id]


async def open_app(page: Page, server: ServerProcess, customer: Customer) -> Page:
    """The customer app, signed in as this customer (the token the sign-in form would store)."""
    await page.goto(f"{server.public_url}/login")
    await page.evaluate("([k, v]) => localStorage.setItem(k, v)", [CUSTOMER_TOKEN_KEY, customer.token])
    await page.goto(f"{server.public_url}/")
    return page
