"""The mitra app with the customer app beside it: sign-in, online, a blast, chat; a dropped socket."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests.browser.actors import PASSWORD, Backoffice
from tests.browser_mitra.apps import (
    SocketTap,
    customer_in_chat,
    customer_starts_search,
    go_online,
    messages,
    online_switch,
    open_customer_app,
    open_mitra_app,
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
    # The customer has the chat on screen: the bestie's message is read.
    await expect(messages(bestie).get_by_role("listitem").filter(has_text="Halo Sari")).to_contain_text(
        "Dibaca"
    )
    await sari.get_by_role("textbox", name="Tulis pesan").press_sequentially("Makasih")
    await expect(bestie.get_by_text("Sari sedang mengetik…")).to_be_visible()
    await send(sari, "Makasih Rani, aku lagi capek banget.")
    await expect(messages(bestie)).to_contain_text("Makasih Rani, aku lagi capek banget.")
    await expect(bestie.get_by_text("Sari sedang mengetik…")).to_be_hidden()
    await expect(messages(sari).get_by_role("listitem").filter(has_text="Makasih Rani")).to_contain_text(
        "Dibaca"
    )
    await bestie.get_by_role("textbox", name="Tulis pesan").press_sequentially("Iya")
    await expect(sari.get_by_text("Bestie Rani sedang mengetik…")).to_be_visible()
    await bestie.get_by_role("textbox", name="Tulis pesan").fill("")
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
