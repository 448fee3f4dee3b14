"""The mitra app with the customer app beside it: two browser contexts, one real server."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests.browser.actors import PASSWORD, Backoffice
from tests.browser_mitra.apps import (
    customer_in_chat,
    customer_starts_search,
    go_online,
    messages,
    online_switch,
    open_customer_app,
    request_card,
    send,
)
from tests.browser_mitra.conftest import OpenPage
from tests.fixtures.browser import assert_accessible, screenshot
from tests.fixtures.server import ServerProcess

pytestmark = pytest.mark.browser


async def test_sign_in_go_online_accept_a_blast_and_chat_both_ways(
    web_server: ServerProcess, office: Backoffice, open_page: OpenPage
) -> None:
    mitra = await office.mitra("Bestie Rani")
    rows = (await office.internal.get("/internal/mitras?limit=200", headers=office.op)).json()["rows"]
    mitra_phone = next(row["phone"] for row in rows if row["id"] == mitra.id)
    customer = await office.customer("Sari")

    bestie = await open_page()
    await bestie.goto(f"{web_server.public_url}/mitra/")
    await expect(bestie).to_have_url(f"{web_server.public_url}/mitra/login")
    await assert_accessible(bestie, "mitra sign-in")
    await screenshot(bestie, "mitra-01-login")
    await bestie.get_by_label("Nomor HP").fill(mitra_phone)
    await bestie.get_by_label("Kata sandi").fill(PASSWORD)
    await bestie.get_by_role("button", name="Masuk").click()
    await expect(bestie.get_by_role("heading", name="Hai, Bestie Rani")).to_be_visible()
    await expect(online_switch(bestie)).to_have_attribute("aria-checked", "false")
    await assert_accessible(bestie, "mitra home, offline")

    sari = await open_customer_app(await open_page(), web_server, customer)
    await expect(sari.get_by_role("button", name="Mulai Curhat")).to_be_disabled()

    await go_online(bestie)
    await assert_accessible(bestie, "mitra home, online")
    await screenshot(bestie, "mitra-02-online")
    me = (await office.public.get("/api/mitra/me", headers=mitra.headers)).json()
    assert me["online"] is True

    await customer_starts_search(sari)
    card = request_card(bestie, "Sari ingin curhat")
    await expect(card).to_be_visible()
    await expect(card).to_contain_text("detik lagi")
    await assert_accessible(bestie, "mitra request card")
    await screenshot(bestie, "mitra-03-blast-card")
    await card.get_by_role("button", name="Terima").click()
    await expect(card).to_be_hidden()

    await expect(bestie.get_by_role("heading", name="Sari", exact=True)).to_be_visible()
    await customer_in_chat(sari, "Bestie Rani")
    await send(bestie, "Halo Sari, aku Rani. Cerita saja ya.")
    await expect(messages(sari)).to_contain_text("Halo Sari, aku Rani. Cerita saja ya.")
    await send(sari, "Makasih Rani, aku lagi capek banget.")
    await expect(messages(bestie)).to_contain_text("Makasih Rani, aku lagi capek banget.")
    await expect(bestie.get_by_role("timer").first).to_have_text(re.compile(r"^\d\d:\d\d$"))
    await assert_accessible(bestie, "mitra chat")
    await screenshot(bestie, "mitra-04-chat")

    # Back to the list: the chat is there with its time left; today's figures count it.
    await bestie.get_by_role("button", name="Kembali ke daftar chat").click()
    row = bestie.get_by_role("button", name="Sari")
    await expect(row).to_be_visible()
    await expect(bestie.locator("#today-chats")).to_have_text("1")
    await expect(bestie.locator("#capacity")).to_have_text("1 dari 3")
    await assert_accessible(bestie, "mitra chat list")

    # On a desktop the list and the open chat sit side by side.
    await bestie.set_viewport_size({"width": 1280, "height": 800})
    await row.click()
    await expect(bestie.get_by_role("heading", name="Sari", exact=True)).to_be_visible()
    await expect(bestie.get_by_role("heading", name="Hai, Bestie Rani")).to_be_visible()
    await expect(bestie.get_by_role("button", name="Kembali ke daftar chat")).to_be_hidden()
    await assert_accessible(bestie, "mitra desktop")
    await screenshot(bestie, "mitra-10-desktop")
