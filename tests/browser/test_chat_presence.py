"""What people expect of a chat that nobody specified: "sedang mengetik…" and "Dibaca", both ways."""

from __future__ import annotations

import time

import pytest
from playwright.async_api import expect

from tests.browser.actors import Backoffice, open_app
from tests.fixtures.browser import NewPage, screenshot
from tests.fixtures.server import ServerProcess

pytestmark = pytest.mark.browser


async def test_typing_indicator_and_read_receipts_both_ways(
    web_server: ServerProcess, office: Backoffice, new_page: NewPage
) -> None:
    mitra = await office.online_mitra("Bestie Kirana")
    customer = await office.customer("Salsa")
    page = await open_app(await new_page(), web_server, customer)
    await page.get_by_role("button", name="Mulai Curhat").click()
    await page.get_by_role("button", name="Mulai", exact=True).click()
    chat_id = await mitra.accept_next(customer)
    await expect(page.get_by_role("heading", name="Bestie Kirana")).to_be_visible()
    assert mitra.ws is not None

    # The customer types: the bestie is told (throttled by the app, so once for a burst of keys).
    started = time.monotonic()
    await page.get_by_role("textbox", name="Tulis pesan").press_sequentially("lagi sedih, capek banget")
    typed_for = time.monotonic() - started
    typing = await mitra.ws.expect("CHAT_TYPING", chat_session_id=chat_id)
    assert typing["sender_role"] == "customer"
    sent = 1 + len(mitra.ws.seen("CHAT_TYPING"))
    assert sent <= 1 + int(typed_for // 2), f"{sent} typing frames in {typed_for:.1f}s: at most one every 2 s"

    # The bestie types and writes; the customer sees both, and the bestie learns it was read.
    await mitra.ws.send({"type": "chat.typing", "chat_session_id": chat_id})
    await expect(page.get_by_text("Bestie Kirana sedang mengetik…")).to_be_visible()
    await screenshot(page, "13-chat-typing")
    await mitra.say(chat_id, "aku di sini, cerita aja")
    said = await mitra.ws.expect("CHAT_MESSAGE", chat_session_id=chat_id)
    await expect(page.get_by_text("Bestie Kirana sedang mengetik…")).to_be_hidden()
    read = await mitra.ws.expect("CHAT_READ", chat_session_id=chat_id)
    assert read["reader_role"] == "customer"
    assert read["up_to_message_id"] == said["message"]["id"]

    # The customer's message is "Terkirim", then "Dibaca" once the bestie reads it — after a reload too.
    await page.get_by_role("button", name="Kirim").click()
    mine = await mitra.ws.expect("CHAT_MESSAGE", chat_session_id=chat_id)
    bubble = (
        page.get_by_role("log", name="Pesan")
        .get_by_role("listitem")
        .filter(has_text="lagi sedih, capek banget")
    )
    await expect(bubble).to_contain_text("Terkirim")
    await mitra.ws.send(
        {"type": "chat.read", "chat_session_id": chat_id, "up_to_message_id": mine["message"]["id"]}
    )
    await expect(bubble).to_contain_text("Dibaca")
    await screenshot(page, "14-chat-read")
    await page.reload()
    await expect(bubble).to_contain_text("Dibaca")
