"""Timers seen by the customer: the targeted timeout and the extension answers (approve, reject,
auto-approve). This module shortens the settings through the internal API, so it has its own server."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from tests.browser.actors import Backoffice, Customer, Mitra, open_app
from tests.fixtures.browser import NewPage, assert_accessible, screenshot
from tests.fixtures.server import ServerProcess

pytestmark = pytest.mark.browser


async def start_chat(page: Page, mitra: Mitra, customer: Customer) -> str:
    await page.get_by_role("button", name="Mulai Curhat").click()
    await page.get_by_role("button", name=re.compile("^(Mulai|Bayar)$")).click()
    chat_id = await mitra.accept_next(customer)
    await expect(page.get_by_role("heading", name=mitra.display_name)).to_be_visible()
    return chat_id


async def ask_extension(page: Page) -> None:
    await page.get_by_role("button", name="Perpanjang").click()
    dialog = page.get_by_role("dialog", name="Perpanjang sesi")
    await expect(dialog.get_by_role("radio", name="+15 menit Rp 15.000")).to_be_checked()
    await expect(dialog.locator(".total")).to_have_text("Total Rp 15.000")
    await dialog.get_by_role("button", name="Bayar").click()
    await expect(dialog.get_by_text("Menunggu persetujuan bestie…")).to_be_visible()


async def test_targeted_timeout_shows_the_dialog(
    web_server: ServerProcess, office: Backoffice, new_page: NewPage
) -> None:
    await office.set_config("returning_chat_confirmation_timeout_seconds", 5)
    rani = await office.online_mitra("Bestie Ayu")
    customer = await office.customer("Putri")
    await office.past_chat(customer, rani)
    page = await open_app(await new_page(), web_server, customer)
    await page.get_by_role("button", name="Riwayat").click()
    await page.get_by_role("button", name="Curhat lagi").first.click()
    await page.get_by_role("button", name="Bayar").click()
    waiting = page.get_by_role("dialog", name="Menunggu Bestie Ayu…")
    await expect(waiting.get_by_role("timer")).to_have_text(re.compile(r"^[0-5]$"))
    await rani.next_offer(customer)  # and lets it run out
    unavailable = page.get_by_role("dialog", name="Bestie sedang tidak online")
    await expect(unavailable).to_be_visible(timeout=15_000)
    await expect(waiting).to_be_hidden()
    await expect(unavailable.get_by_role("button", name="Chat dengan bestie lain")).to_be_visible()
    assert [f["cause_tag"] for f in await office.failures_for(customer)] == ["targeted_mitra_timeout"]
    await unavailable.get_by_role("button", name="Kembali").click()


async def test_extension_approved_then_rejected(
    web_server: ServerProcess, office: Backoffice, new_page: NewPage
) -> None:
    mitra = await office.online_mitra("Bestie Mega")
    customer = await office.customer("Rina")
    page = await open_app(await new_page(), web_server, customer)
    await start_chat(page, mitra, customer)
    timer = page.get_by_role("timer")
    await expect(timer).to_have_text(re.compile(r"^1[45]:"))

    await ask_extension(page)
    await assert_accessible(page, "extension picker")
    await screenshot(page, "11-extension-waiting")
    await mitra.answer_extension("approve")
    await expect(page.get_by_role("alert")).to_have_text("Perpanjangan disetujui. Waktu ditambah 15 menit.")
    await expect(timer).to_have_text(re.compile(r"^(29|30):"))
    await expect(page.get_by_role("dialog", name="Perpanjang sesi")).to_be_hidden()

    await ask_extension(page)
    await mitra.answer_extension("reject")
    await expect(page.get_by_role("alert")).to_have_text("Perpanjangan ditolak. Kamu tidak dikenai biaya.")
    await expect(timer).to_have_text(re.compile(r"^(29|30):"))


async def test_extension_auto_approved_when_the_bestie_does_not_answer(
    web_server: ServerProcess, office: Backoffice, new_page: NewPage
) -> None:
    await office.set_config("extension_timeout_seconds", 5)
    await office.set_config("extension_default_action_on_timeout", "auto_approve")
    mitra = await office.online_mitra("Bestie Lala")
    customer = await office.customer("Tia")
    page = await open_app(await new_page(), web_server, customer)
    await start_chat(page, mitra, customer)
    await ask_extension(page)
    assert mitra.ws is not None
    request = await mitra.ws.expect("EXTENSION_REQUEST", 10)
    assert request["default_action"] == "auto_approve"
    await expect(page.get_by_role("alert")).to_have_text(
        "Perpanjangan disetujui. Waktu ditambah 15 menit.", timeout=15_000
    )
    await expect(page.get_by_role("timer")).to_have_text(re.compile(r"^(29|30):"))


async def test_the_ending_warning_shows_above_the_chat(
    web_server: ServerProcess, office: Backoffice, new_page: NewPage
) -> None:
    # A 5-minute tier with a 10-minute warning: the warning is due as soon as the chat starts.
    r = await office.internal.post(
        "/internal/price-tiers",
        json={"duration_minutes": 5, "amount": 5000, "sort_order": 99},
        headers=office.op,
    )
    assert r.status_code in (200, 201), r.text
    await office.set_config("chat_end_warning_seconds", 600)
    mitra = await office.online_mitra("Bestie Dinda")
    customer = await office.customer("Wati")
    page = await open_app(await new_page(), web_server, customer)
    await page.get_by_role("button", name="Mulai Curhat").click()
    await page.get_by_role("radio", name="5 menit Gratis", exact=True).check()
    await page.get_by_role("button", name="Mulai", exact=True).click()
    await mitra.accept_next(customer)
    await expect(page.get_by_role("timer")).to_have_text(re.compile(r"^0[45]:"))
    await expect(page.get_by_role("alert")).to_have_text(
        re.compile(r"^Sesi akan berakhir dalam [45] menit\.$")
    )
    await screenshot(page, "15-chat-ending-warning")
