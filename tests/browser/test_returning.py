""" "Curhat lagi" in the browser: history, the targeted overlay, the offline dialog and the fallback."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from tests.browser.actors import Backoffice, Customer, Mitra, open_app
from tests.fixtures.browser import NewPage, assert_accessible, screenshot
from tests.fixtures.server import ServerProcess

pytestmark = pytest.mark.browser


async def curhat_lagi(page: Page, mitra: Mitra) -> None:
    """History → "Curhat lagi" on this bestie's row → pay."""
    await page.get_by_role("button", name="Riwayat").click()
    row = page.get_by_role("listitem").filter(has_text=mitra.display_name)
    await row.first.get_by_role("button", name="Curhat lagi").click()
    await expect(page.get_by_role("heading", name="Pembayaran")).to_be_visible()
    await expect(page.get_by_text(f"Curhat lagi dengan {mitra.display_name}")).to_be_visible()
    await page.get_by_role("button", name="Bayar").click()


async def pid_of(page: Page) -> str:
    return str(
        await page.evaluate(
            "() => JSON.parse(sessionStorage.getItem('curhat.customer.flow')).paymentSessionId"
        )
    )


async def test_declined_then_fallback_to_another_bestie(
    web_server: ServerProcess, office: Backoffice, new_page: NewPage
) -> None:
    rani = await office.online_mitra("Bestie Rani")
    customer = await office.customer("Maya")
    await office.past_chat(customer, rani)
    page = await open_app(await new_page(), web_server, customer)

    await page.get_by_role("button", name="Riwayat").click()
    row = page.get_by_role("listitem").filter(has_text="Bestie Rani")
    await expect(row.get_by_role("button", name="Curhat lagi")).to_be_visible()
    await assert_accessible(page, "history")
    await screenshot(page, "08-history")
    await page.get_by_role("button", name="Kembali").click()

    tari = await office.online_mitra("Bestie Tari")
    await curhat_lagi(page, rani)
    waiting = page.get_by_role("dialog", name="Menunggu Bestie Rani…")
    await expect(waiting).to_be_visible()
    await expect(waiting.get_by_role("timer")).to_have_text(re.compile(r"^(20|1\d)$"))
    await assert_accessible(page, "targeted waiting")
    await screenshot(page, "09-targeted-waiting")
    pid = await pid_of(page)

    offer = await rani.next_offer(customer)
    assert offer["request_type"] == "returning"
    assert (await rani.respond(str(offer["pairing_request_id"]), "reject")).status_code == 200
    unavailable = page.get_by_role("dialog", name="Bestie sedang tidak online")
    await expect(unavailable).to_be_visible()
    fallback = unavailable.get_by_role("button", name="Chat dengan bestie lain")
    await expect(fallback).to_be_visible()
    await assert_accessible(page, "bestie unavailable")
    await screenshot(page, "10-bestie-unavailable")

    await fallback.click()
    await expect(page.get_by_role("heading", name="Mencari bestie…")).to_be_visible()
    await tari.accept_next(customer)
    await expect(page.get_by_role("heading", name="Bestie Tari")).to_be_visible()
    payment = await office.payment(customer, pid)
    assert payment["status"] == "consumed" and payment["amount"] == 15000  # no new charge


async def test_bestie_offline_and_nobody_else_means_no_fallback(
    web_server: ServerProcess, office: Backoffice, new_page: NewPage
) -> None:
    rani = await office.online_mitra("Bestie Sinta")
    customer = await office.customer("Nadia")
    await office.past_chat(customer, rani)
    await rani.go_offline()
    page = await open_app(await new_page(), web_server, customer)

    await curhat_lagi(page, rani)
    unavailable = page.get_by_role("dialog", name="Bestie sedang tidak online")
    await expect(unavailable).to_be_visible()
    await expect(unavailable.get_by_role("button", name="Chat dengan bestie lain")).to_be_hidden()
    pid = await pid_of(page)
    await unavailable.get_by_role("button", name="Kembali").click()
    await expect(unavailable).to_be_hidden()
    await expect(page.get_by_role("heading", name="Riwayat curhat")).to_be_visible()
    assert (await office.payment(customer, pid))["status"] == "failed_pairing"
    assert [f["cause_tag"] for f in await office.failures_for(customer)] == ["targeted_mitra_offline"]


async def test_cancel_while_the_bestie_decides(
    web_server: ServerProcess, office: Backoffice, new_page: NewPage
) -> None:
    rani = await office.online_mitra("Bestie Wulan")
    customer: Customer = await office.customer("Intan")
    await office.past_chat(customer, rani)
    page = await open_app(await new_page(), web_server, customer)
    await curhat_lagi(page, rani)
    waiting = page.get_by_role("dialog", name="Menunggu Bestie Wulan…")
    await expect(waiting).to_be_visible()
    await rani.next_offer(customer)
    await waiting.get_by_role("button", name="Batalkan").click()
    await expect(waiting).to_be_hidden()
    await expect(page.get_by_role("button", name="Mulai Curhat")).to_be_visible()
    assert [f["cause_tag"] for f in await office.failures_for(customer)] == ["customer_cancelled"]
