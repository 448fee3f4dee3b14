"""A dropped socket: the app says so, posts {online: true} again, and recovers missed cards."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest
from playwright.async_api import Page, WebSocketRoute, expect

from tests.browser.actors import Backoffice
from tests.browser_mitra.apps import (
    customer_starts_search,
    go_online,
    online_switch,
    open_customer_app,
    open_mitra_app,
    request_card,
)
from tests.browser_mitra.conftest import OpenPage
from tests.fixtures.browser import assert_accessible, screenshot
from tests.fixtures.server import ServerProcess

pytestmark = pytest.mark.browser


@dataclass
class SocketTap:
    """Between the page and /ws: passes frames through, drops chosen event types, or answers
    the page itself without any server behind it ("no_server": the page sees an open socket
    the server never heard of)."""

    no_server: bool = False
    dropped: set[str] = field(default_factory=set)
    current: WebSocketRoute | None = None
    server: WebSocketRoute | None = None

    async def attach(self, page: Page) -> None:
        await page.route_web_socket("**/ws", self.route)

    def route(self, ws: WebSocketRoute) -> None:
        self.current, self.server = ws, None
        if self.no_server:
            ws.on_message(lambda frame: ws.send('{"type":"pong"}') if '"ping"' in str(frame) else None)
            return
        server = self.server = ws.connect_to_server()

        def to_page(frame: str | bytes) -> None:
            if json.loads(frame).get("type") not in self.dropped:
                ws.send(frame)

        server.on_message(to_page)

    async def drop_connection(self) -> None:
        assert self.current is not None
        if self.server is not None:
            await self.server.close(code=1000, reason="test")
        await self.current.close(code=1012, reason="test")


async def test_after_a_drop_the_app_goes_online_again_or_says_it_could_not(
    web_server: ServerProcess, office: Backoffice, open_page: OpenPage
) -> None:
    mitra = await office.mitra("Bestie Intan")
    tap = SocketTap()
    page = await open_page()
    await tap.attach(page)
    bestie = await open_mitra_app(page, web_server, mitra)
    await go_online(bestie)

    async def server_says_online() -> bool:
        return bool((await office.public.get("/api/mitra/me", headers=mitra.headers)).json()["online"])

    # A reload closes the only socket (the server forgets the wish); the tab remembers it.
    await bestie.reload()
    await expect(online_switch(bestie)).to_have_attribute("aria-checked", "true")
    assert await server_says_online()

    # The socket comes back, but no server hears it: going online fails, and the app says so.
    tap.no_server = True
    await tap.drop_connection()
    error = bestie.get_by_role("alert").filter(has_text="Belum tersambung ke server")
    await expect(error).to_be_visible(timeout=20_000)
    await expect(online_switch(bestie)).to_have_attribute("aria-checked", "false")
    assert not await server_says_online()
    await assert_accessible(bestie, "mitra could not go online")
    await screenshot(bestie, "mitra-09-could-not-go-online")

    # A real socket again: the app posts {online: true} by itself. A request offered while the
    # event is lost on the way still shows: the app reads the open offers after every reconnect.
    tap.no_server = False
    tap.dropped = {"PAIRING_REQUEST"}
    await tap.drop_connection()
    await expect(online_switch(bestie)).to_have_attribute("aria-checked", "true", timeout=20_000)
    await expect(error).to_be_hidden()
    assert await server_says_online()

    customer = await office.customer("Nina")
    nina = await open_customer_app(await open_page(), web_server, customer)
    await customer_starts_search(nina)
    card = request_card(bestie, "Nina ingin curhat")
    await expect(card).to_have_count(0)
    await tap.drop_connection()
    await expect(card).to_be_visible(timeout=20_000)
    await expect(online_switch(bestie)).to_have_attribute("aria-checked", "true")
    await card.get_by_role("button", name="Terima").click()
    await expect(nina.get_by_role("heading", name="Bestie Intan", exact=True)).to_be_visible()
