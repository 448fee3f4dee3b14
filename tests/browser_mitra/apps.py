"""The two apps as people use them: the mitra app at /mitra/ and the customer app at /."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from playwright.async_api import Locator, Page, WebSocketRoute, expect

from tests.browser.actors import Customer, Mitra, open_app
from tests.fixtures.server import ServerProcess

MITRA_TOKEN_KEY = "curhat.mitra.token"


async def open_mitra_app(page: Page, server: ServerProcess, mitra: Mitra) -> Page:
    """The mitra app, signed in as this mitra (the token the sign-in form would store)."""
    await page.goto(f"{server.public_url}/mitra/login")
    await page.evaluate("([k, v]) => localStorage.setItem(k, v)", [MITRA_TOKEN_KEY, mitra.token])
    await page.goto(f"{server.public_url}/mitra/")
    await expect(page.get_by_role("heading", name=f"Hai, {mitra.display_name}")).to_be_visible()
    return page


def online_switch(page: Page) -> Locator:
    return page.get_by_role("switch", name="Online")


async def go_online(page: Page) -> None:
    await expect(online_switch(page)).to_be_enabled()
    await online_switch(page).click()
    await expect(online_switch(page)).to_have_attribute("aria-checked", "true")
    await expect(page.get_by_role("status").filter(has_text="Kamu online")).to_be_visible()


def request_card(page: Page, title: str) -> Locator:
    return page.get_by_role("article", name=title)


async def open_customer_app(page: Page, server: ServerProcess, customer: Customer) -> Page:
    await open_app(page, server, customer)
    await expect(page.get_by_role("heading", name=f"Hai, {customer.display_name}")).to_be_visible()
    return page


async def customer_starts_search(page: Page) -> None:
    """Home → "Mulai Curhat" → the payment screen → "Mulai"/"Bayar" → searching."""
    start = page.get_by_role("button", name="Mulai Curhat")
    await expect(start).to_be_enabled()
    await start.click()
    pay = page.get_by_role("button", name=re.compile(r"^(Mulai|Bayar)$"))
    await expect(pay).to_be_enabled()
    await pay.click()
    await expect(page.get_by_role("heading", name="Mencari bestie…")).to_be_visible()


async def customer_in_chat(page: Page, mitra_name: str) -> None:
    await expect(page.get_by_role("heading", name=mitra_name, exact=True)).to_be_visible()
    await expect(page.get_by_role("textbox", name="Tulis pesan")).to_be_visible()


async def send(page: Page, text: str) -> None:
    await page.get_by_role("textbox", name="Tulis pesan").fill(text)
    await page.get_by_role("button", name="Kirim").click()


def messages(page: Page) -> Locator:
    return page.get_by_role("log", name="Pesan")


async def customer_ends_chat(page: Page) -> None:
    await page.get_by_role("button", name="Akhiri").click()
    await page.get_by_role("button", name="Ya, akhiri").click()
    await expect(page.get_by_text("Sesi chat telah berakhir.")).to_be_visible()
    await page.locator("#chat-ended").get_by_role("button", name="Kembali ke beranda").click()


async def customer_asks_again(page: Page, mitra_name: str) -> None:
    """(Home → "Riwayat" →) "Curhat lagi" → pay → the targeted-waiting overlay."""
    history = page.get_by_role("heading", name="Riwayat curhat")
    if not await history.is_visible():
        await page.get_by_role("button", name="Riwayat").click()
    await page.get_by_role("button", name=f"Curhat lagi dengan {mitra_name}").first.click()
    pay = page.get_by_role("button", name=re.compile(r"^(Mulai|Bayar)$"))
    await expect(pay).to_be_enabled()
    await pay.click()
    await expect(page.get_by_role("dialog", name=re.compile(f"Menunggu {mitra_name}"))).to_be_visible()


async def customer_sees_mitra_unavailable(page: Page) -> None:
    dialog = page.get_by_role("dialog", name="Bestie sedang tidak online")
    await expect(dialog).to_be_visible()
    await dialog.get_by_role("button", name="Kembali").click()
    await expect(dialog).to_be_hidden()


async def customer_requests_extension(page: Page) -> str:
    """ "Perpanjang" → the first tier → "Bayar": the request goes to the mitra. The payment's id."""
    await page.get_by_role("button", name="Perpanjang").click()
    dialog = page.get_by_role("dialog", name="Perpanjang sesi")
    pay = dialog.get_by_role("button", name="Bayar")
    await expect(pay).to_be_enabled()
    async with page.expect_response(
        lambda r: r.request.method == "POST" and r.url.endswith("/api/client/payment-sessions")
    ) as created:
        await pay.click()
    await expect(dialog.get_by_text("Menunggu persetujuan bestie")).to_be_visible()
    return str((await (await created.value).json())["id"])


async def customer_extension_answer(page: Page, timeout: float = 15_000) -> str:
    """Wait for the mitra's answer (the waiting dialog closes); the banner the customer reads."""
    await expect(page.get_by_role("dialog", name="Perpanjang sesi")).to_be_hidden(timeout=timeout)
    return await page.locator("#chat-banner").inner_text()


def extension_card(page: Page) -> Locator:
    return page.get_by_role("region", name=re.compile("^Minta perpanjangan"))


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
