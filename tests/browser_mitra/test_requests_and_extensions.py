"""Requests and extensions: the returning card, several chats, a hidden tab, every extension answer."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Locator, Page, expect

from tests.browser.actors import Backoffice
from tests.browser_mitra.apps import (
    customer_asks_again,
    customer_ends_chat,
    customer_extension_answer,
    customer_in_chat,
    customer_requests_extension,
    customer_sees_mitra_unavailable,
    customer_starts_search,
    extension_card,
    go_online,
    messages,
    open_customer_app,
    open_mitra_app,
    request_card,
    send,
)
from tests.browser_mitra.conftest import OpenPage
from tests.fixtures.browser import assert_accessible, screenshot
from tests.fixtures.server import ServerProcess

pytestmark = pytest.mark.browser

EXTENSION_SECONDS = 5
RETURNING_SECONDS = 6


def chat_row(page: Page, name: str) -> Locator:
    return page.get_by_role("list", name="Chat aktif").get_by_role("button", name=re.compile(f"^{name}"))


async def test_two_chats_a_hidden_tab_notified_and_every_extension_answer(
    web_server: ServerProcess, office: Backoffice, open_page: OpenPage
) -> None:
    await office.set_config("extension_timeout_seconds", EXTENSION_SECONDS)
    try:
        await _scenario(web_server, office, open_page)
    finally:
        await office.set_config("extension_timeout_seconds", 10)
        await office.set_config("extension_default_action_on_timeout", "auto_approve")


async def _scenario(web_server: ServerProcess, office: Backoffice, open_page: OpenPage) -> None:
    mitra = await office.mitra("Bestie Ayu")
    bestie = await open_mitra_app(await open_page(), web_server, mitra)
    wulan_account = await office.customer("Wulan")
    wulan = await open_customer_app(await open_page(), web_server, wulan_account)
    budi = await open_customer_app(await open_page(), web_server, await office.customer("Budi"))
    await go_online(bestie)

    await customer_starts_search(wulan)
    await request_card(bestie, "Wulan ingin curhat").get_by_role("button", name="Terima").click()
    await customer_in_chat(wulan, "Bestie Ayu")

    # The tab is hidden when the next request comes: a system notification and a flashing title.
    await bestie.evaluate("() => window.__setHidden(true)")
    await customer_starts_search(budi)
    card = request_card(bestie, "Budi ingin curhat")
    await expect(card).to_be_attached()
    await expect(bestie).to_have_title("Budi ingin curhat")
    notifications = await bestie.evaluate("() => window.__notifications")
    assert {"title": "Budi ingin curhat", "body": "15 menit · ketuk untuk menjawab"} in [
        {"title": n["title"], "body": n["body"]} for n in notifications
    ]
    heard = await bestie.evaluate("() => ({chimes: window.__oscillators, vibrations: window.__vibrations})")
    assert heard["chimes"] >= 2 and heard["vibrations"], heard
    await bestie.evaluate("() => window.__setHidden(false)")
    await card.get_by_role("button", name="Terima").click()
    await customer_in_chat(budi, "Bestie Ayu")
    await expect(bestie.get_by_role("heading", name="Budi", exact=True)).to_be_visible()
    await expect(bestie).to_have_title("Curhat Bestie")

    # Budi's chat is open with a draft; Wulan writes meanwhile: her row counts it as unread.
    await bestie.get_by_role("textbox", name="Tulis pesan").fill("Draf untuk Budi")
    await send(wulan, "Halo? Masih di sana?")
    await bestie.get_by_role("button", name="Kembali ke daftar chat").click()
    await expect(chat_row(bestie, "Wulan")).to_contain_text("1 pesan baru")
    await expect(chat_row(bestie, "Budi")).not_to_contain_text("pesan baru")
    await expect(bestie.locator("#capacity")).to_have_text("2 dari 3")
    await assert_accessible(bestie, "mitra two chats")
    await screenshot(bestie, "mitra-07-two-chats")
    await chat_row(bestie, "Wulan").click()
    await expect(messages(bestie)).to_contain_text("Halo? Masih di sana?")
    await send(bestie, "Masih, Wulan. Pelan-pelan saja.")
    await expect(messages(wulan)).to_contain_text("Masih, Wulan. Pelan-pelan saja.")
    await bestie.get_by_role("button", name="Kembali ke daftar chat").click()
    await expect(chat_row(bestie, "Wulan")).not_to_contain_text("pesan baru")
    await chat_row(bestie, "Budi").click()
    await expect(bestie.get_by_role("textbox", name="Tulis pesan")).to_have_value("Draf untuk Budi")
    await expect(messages(bestie)).not_to_contain_text("Halo? Masih di sana?")
    await bestie.get_by_role("button", name="Kembali ke daftar chat").click()
    await chat_row(bestie, "Wulan").click()

    # "Setujui": the customer's session is longer at once, and pays now.
    wait = EXTENSION_SECONDS * 1000 + 10_000
    payment = await customer_requests_extension(wulan)
    ext = extension_card(bestie)
    await expect(ext).to_contain_text("Minta perpanjangan 15 menit")
    await expect(ext).to_contain_text(f"Tidak menjawab dalam {EXTENSION_SECONDS} detik = otomatis disetujui")
    await assert_accessible(bestie, "mitra extension card")
    await screenshot(bestie, "mitra-08-extension-card")
    await ext.get_by_role("button", name="Setujui").click()
    await expect(ext).to_be_hidden()
    assert (await customer_extension_answer(wulan)).startswith("Perpanjangan disetujui")
    await expect(bestie.get_by_role("alert").filter(has_text="Sesi diperpanjang 15 menit.")).to_be_visible()
    assert (await office.payment(wulan_account, payment))["status"] == "consumed"

    # "Tolak": no charge for the customer.
    payment = await customer_requests_extension(wulan)
    await extension_card(bestie).get_by_role("button", name="Tolak").click()
    await expect(extension_card(bestie)).to_be_hidden()
    assert await customer_extension_answer(wulan) == "Perpanjangan ditolak. Kamu tidak dikenai biaya."
    assert (await office.payment(wulan_account, payment))["status"] == "voided"

    # No answer, auto-approve (the mitra is connected and online).
    payment = await customer_requests_extension(wulan)
    await expect(extension_card(bestie)).to_be_visible()
    await expect(extension_card(bestie)).to_be_hidden(timeout=wait)
    await expect(
        bestie.get_by_role("alert").filter(has_text="Sesi diperpanjang 15 menit (otomatis).")
    ).to_be_visible()
    assert (await customer_extension_answer(wulan)).startswith("Perpanjangan disetujui")
    assert (await office.payment(wulan_account, payment))["status"] == "consumed"

    # The copy follows the setting: auto-reject says "ditolak", and does so.
    await office.set_config("extension_default_action_on_timeout", "auto_reject")
    payment = await customer_requests_extension(wulan)
    await expect(extension_card(bestie)).to_contain_text("= otomatis ditolak")
    await expect(extension_card(bestie)).to_be_hidden(timeout=wait)
    await expect(
        bestie.get_by_role("alert").filter(has_text="Perpanjangan ditolak otomatis.")
    ).to_be_visible()
    assert (await customer_extension_answer(wulan)).startswith("Perpanjangan ditolak")
    assert (await office.payment(wulan_account, payment))["status"] == "voided"

    # The mitra's tab closes while the card waits: auto-approve needs a live app, so it is rejected.
    await office.set_config("extension_default_action_on_timeout", "auto_approve")
    payment = await customer_requests_extension(wulan)
    await expect(extension_card(bestie)).to_be_visible()
    await bestie.context.close()
    assert (await customer_extension_answer(wulan, wait)).startswith("Perpanjangan ditolak")
    assert (await office.payment(wulan_account, payment))["status"] == "voided"


async def test_a_returning_card_counts_down_and_closes_itself_and_tolak_rejects(
    web_server: ServerProcess, office: Backoffice, open_page: OpenPage
) -> None:
    mitra = await office.mitra("Bestie Dewi")
    customer = await office.customer("Tari")
    bestie = await open_mitra_app(await open_page(), web_server, mitra)
    tari = await open_customer_app(await open_page(), web_server, customer)
    await go_online(bestie)

    # A first chat, ended early by the customer: the mitra's chat shows the end and can be closed.
    await customer_starts_search(tari)
    await request_card(bestie, "Tari ingin curhat").get_by_role("button", name="Terima").click()
    await customer_in_chat(tari, "Bestie Dewi")
    await customer_ends_chat(tari)
    await expect(bestie.get_by_text("Sesi chat telah berakhir.")).to_be_visible()
    await bestie.get_by_role("button", name="Tutup chat").click()
    await expect(bestie.get_by_role("button", name=re.compile("^Tari"))).to_have_count(0)

    await office.set_config("returning_chat_confirmation_timeout_seconds", RETURNING_SECONDS)
    try:
        # Unanswered: the card counts down and closes itself when the server closes the request.
        await customer_asks_again(tari, "Bestie Dewi")
        card = request_card(bestie, "Tari ingin curhat lagi denganmu")
        await expect(card).to_be_visible()
        await expect(card).to_contain_text("Curhat lagi")
        await assert_accessible(bestie, "mitra returning card")
        await screenshot(bestie, "mitra-05-returning-card")
        first = int(re.findall(r"(\d+) detik lagi", await card.inner_text())[0])
        assert first <= RETURNING_SECONDS
        await expect(card).not_to_contain_text(f"{first} detik lagi")  # it counts down
        await expect(card).to_be_hidden(timeout=RETURNING_SECONDS * 1000 + 10_000)
        await customer_sees_mitra_unavailable(tari)
        causes = [row["cause_tag"] for row in await office.failures_for(customer)]
        assert causes == ["targeted_mitra_timeout"]

        # "Tolak": the customer is told at once, with the cause the operator will see.
        await customer_asks_again(tari, "Bestie Dewi")
        card = request_card(bestie, "Tari ingin curhat lagi denganmu")
        await card.get_by_role("button", name="Tolak").click()
        await expect(card).to_be_hidden()
        await customer_sees_mitra_unavailable(tari)
        causes = [row["cause_tag"] for row in await office.failures_for(customer)]
        assert sorted(causes) == ["targeted_mitra_rejected", "targeted_mitra_timeout"]
    finally:
        await office.set_config("returning_chat_confirmation_timeout_seconds", 20)

    await bestie.get_by_role("button", name="Riwayat").click()
    history = bestie.get_by_role("list", name="Riwayat sesi")
    await expect(history.get_by_role("listitem")).to_have_count(1)
    await expect(history).to_contain_text("Tari")
    await expect(history).to_contain_text("Diakhiri pelanggan")
    await assert_accessible(bestie, "mitra history")
    await screenshot(bestie, "mitra-06-history")
