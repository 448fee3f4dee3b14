"""The customer app in a phone-sized chromium: home, payment, search, chat (seed Stage 3)."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from playwright.async_api import Page, WebSocketRoute, expect

from tests.browser.actors import Backoffice, Customer, open_app
from tests.fixtures.browser import NewPage, assert_accessible, screenshot
from tests.fixtures.server import ServerProcess

pytestmark = pytest.mark.browser


async def flow_in_progress(page: Page) -> dict[str, Any]:
    """The payment session the app is working on (what it keeps across a reload)."""
    value = await page.evaluate("() => JSON.parse(sessionStorage.getItem('curhat.customer.flow'))")
    assert value, "the app keeps the payment session it is working on"
    return dict(value)


async def payment_status(office: Backoffice, customer: Customer, pid: str, want: str) -> None:
    for _ in range(100):
        if (await office.payment(customer, pid))["status"] == want:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"payment {pid} never became {want}: {await office.payment(customer, pid)}")


async def test_cta_follows_availability(
    web_server: ServerProcess, office: Backoffice, new_page: NewPage
) -> None:
    customer = await office.customer()
    page = await open_app(await new_page(), web_server, customer)
    start = page.get_by_role("button", name="Mulai Curhat")
    await expect(page.get_by_text("Belum ada bestie tersedia")).to_be_visible()
    await expect(start).to_be_disabled()
    await assert_accessible(page, "home, nobody available")
    await screenshot(page, "02-home-unavailable")

    mitra = await office.online_mitra()
    await expect(start).to_be_enabled()
    await expect(page.get_by_text("1 bestie siap mendengarkan")).to_be_visible()
    await assert_accessible(page, "home, available")
    await screenshot(page, "03-home-available")

    await mitra.go_offline()  # the last one
    await expect(start).to_be_disabled()
    await expect(page.get_by_text("Belum ada bestie tersedia")).to_be_visible()
    await mitra.go_online(web_server.ws_url)
    await page.get_by_role("button", name="Muat ulang").click()
    await expect(start).to_be_enabled()


async def test_payment_screen_totals_free_trial_and_paid(
    web_server: ServerProcess, office: Backoffice, new_page: NewPage
) -> None:
    mitra = await office.online_mitra()
    customer = await office.customer()
    page = await open_app(await new_page(), web_server, customer)
    await page.get_by_role("button", name="Mulai Curhat").click()
    await expect(page.get_by_role("heading", name="Pembayaran")).to_be_visible()
    tiers = page.get_by_role("group", name="Pilih durasi")
    await expect(tiers.get_by_role("radio", name="15 menit Gratis")).to_be_checked()
    await expect(page.locator("#payment-form .total")).to_have_text("Total Gratis")
    await expect(page.get_by_role("button", name="Mulai", exact=True)).to_be_enabled()
    await assert_accessible(page, "payment, free trial")
    await screenshot(page, "04-payment-free-trial")
    first = (await flow_in_progress(page))["paymentSessionId"]
    assert (await office.payment(customer, first))["status"] == "pending"

    await tiers.get_by_role("radio", name="30 menit").check()
    await expect(page.locator("#payment-form .total")).to_have_text("Total Rp 25.000")
    await expect(page.get_by_role("button", name="Bayar")).to_be_enabled()
    second = (await flow_in_progress(page))["paymentSessionId"]
    assert second != first
    await payment_status(office, customer, first, "abandoned")
    assert (await office.payment(customer, second))["amount"] == 25000

    await page.get_by_role("button", name="Kembali").click()  # leaving before paying cancels
    await expect(page.get_by_role("button", name="Mulai Curhat")).to_be_visible()
    await payment_status(office, customer, second, "abandoned")

    # Once a free trial has been used, the same tier costs money.
    await office.past_chat(customer, mitra)
    await page.get_by_role("button", name="Mulai Curhat").click()
    await expect(tiers.get_by_role("radio", name="15 menit Rp 15.000")).to_be_checked()
    await expect(page.locator("#payment-form .total")).to_have_text("Total Rp 15.000")
    await expect(page.get_by_role("button", name="Bayar")).to_be_enabled()
    await screenshot(page, "05-payment-paid")
    third = (await flow_in_progress(page))["paymentSessionId"]
    await page.reload()  # leaving the page cancels too (keepalive request on unload)
    await payment_status(office, customer, third, "abandoned")


async def test_happy_path_chat_both_ways_markup_as_text(
    web_server: ServerProcess, office: Backoffice, new_page: NewPage
) -> None:
    mitra = await office.online_mitra("Bestie <i>Rani</i>")
    customer = await office.customer("Sari")
    page = await open_app(await new_page(), web_server, customer)
    await page.get_by_role("button", name="Mulai Curhat").click()
    await page.get_by_role("button", name="Mulai", exact=True).click()
    await expect(page.get_by_role("heading", name="Mencari bestie…")).to_be_visible()
    await assert_accessible(page, "searching")
    await screenshot(page, "06-searching")

    chat_id = await mitra.accept_next(customer)
    await expect(page.get_by_role("heading", name="Bestie <i>Rani</i>")).to_be_visible()
    await expect(page.get_by_role("timer")).to_have_text(re.compile(r"^1[45]:[0-5]\d$"))  # of 15 minutes

    composer = page.get_by_role("textbox", name="Tulis pesan")
    await composer.fill("<b>halo</b> bestie")
    await page.get_by_role("button", name="Kirim").click()
    received = await mitra.ws.expect("CHAT_MESSAGE", chat_session_id=chat_id) if mitra.ws else {}
    assert received["message"]["body"] == "<b>halo</b> bestie"
    assert received["message"]["sender_role"] == "customer"
    log = page.get_by_role("log", name="Pesan")
    await expect(log.get_by_text("<b>halo</b> bestie")).to_be_visible()
    await expect(log.get_by_text("Terkirim")).to_be_visible()

    await mitra.say(chat_id, "<script>alert('x')</script> cerita dong")
    await expect(log.get_by_text("<script>alert('x')</script> cerita dong")).to_be_visible()
    assert await page.locator("#messages script, #messages b").count() == 0
    await assert_accessible(page, "chat")
    await screenshot(page, "07-chat")

    await page.get_by_role("button", name="Akhiri").click()
    dialog = page.get_by_role("dialog", name="Akhiri sesi sekarang?")
    await expect(dialog).to_be_visible()
    await assert_accessible(page, "end dialog")
    await dialog.get_by_role("button", name="Ya, akhiri").click()
    await expect(page.get_by_text("Sesi chat telah berakhir.")).to_be_visible()
    assert mitra.ws is not None
    ended = await mitra.ws.expect("CHAT_SESSION_ENDED", chat_session_id=chat_id)
    assert ended["end_reason"] == "customer_ended"
    await expect(page.get_by_role("textbox", name="Tulis pesan")).to_be_hidden()


async def test_cancel_mid_search_records_a_failed_pairing(
    web_server: ServerProcess, office: Backoffice, new_page: NewPage
) -> None:
    mitra = await office.online_mitra()
    customer = await office.customer("Dewi")
    page = await open_app(await new_page(), web_server, customer)
    await page.get_by_role("button", name="Mulai Curhat").click()
    await page.get_by_role("button", name="Mulai", exact=True).click()
    await expect(page.get_by_role("heading", name="Mencari bestie…")).to_be_visible()
    pid = (await flow_in_progress(page))["paymentSessionId"]
    await mitra.next_offer(customer)
    await page.get_by_role("button", name="Batalkan").click()
    await expect(page.get_by_role("button", name="Mulai Curhat")).to_be_visible()
    assert (await office.payment(customer, pid))["status"] == "failed_pairing"
    failures = await office.failures_for(customer)
    assert [f["cause_tag"] for f in failures] == ["customer_cancelled"]
    assert failures[0]["payment_session_id"] == pid


async def test_reload_during_search_and_during_chat_resumes(
    web_server: ServerProcess, office: Backoffice, new_page: NewPage
) -> None:
    mitra = await office.online_mitra("Bestie Tari")
    customer = await office.customer("Lina")
    page = await open_app(await new_page(), web_server, customer)
    await page.get_by_role("button", name="Mulai Curhat").click()
    await page.get_by_role("button", name="Mulai", exact=True).click()
    await expect(page.get_by_role("heading", name="Mencari bestie…")).to_be_visible()
    offer = await mitra.next_offer(customer)

    await page.reload()
    await expect(page.get_by_role("heading", name="Mencari bestie…")).to_be_visible()
    r = await mitra.respond(str(offer["pairing_request_id"]), "accept")
    chat_id = r.json()["chat_session_id"]
    await expect(page.get_by_role("heading", name="Bestie Tari")).to_be_visible()
    await page.get_by_role("textbox", name="Tulis pesan").fill("sebelum reload")
    await page.get_by_role("button", name="Kirim").click()
    await mitra.say(chat_id, "halo juga")
    log = page.get_by_role("log", name="Pesan")
    await expect(log.get_by_text("halo juga")).to_be_visible()

    await page.reload()
    await expect(page.get_by_role("heading", name="Bestie Tari")).to_be_visible()
    await expect(log.get_by_text("sebelum reload")).to_be_visible()
    await expect(log.get_by_text("halo juga")).to_be_visible()
    await page.get_by_role("button", name="Kembali ke beranda").click()  # the chat goes on
    await page.get_by_role("button", name="Lanjutkan chat").click()
    await expect(log.get_by_text("halo juga")).to_be_visible()
    await page.get_by_role("textbox", name="Tulis pesan").fill("setelah reload")
    await page.get_by_role("button", name="Kirim").click()
    assert mitra.ws is not None
    await mitra.ws.expect("CHAT_MESSAGE", chat_session_id=chat_id)  # the customer's first
    await mitra.ws.expect("CHAT_MESSAGE", chat_session_id=chat_id)  # the mitra's own
    last = await mitra.ws.expect("CHAT_MESSAGE", chat_session_id=chat_id)
    assert last["message"]["body"] == "setelah reload"


async def test_every_bestie_rejects_shows_the_failed_pairing_screen(
    web_server: ServerProcess, office: Backoffice, new_page: NewPage
) -> None:
    mitra = await office.online_mitra()
    customer = await office.customer("Yuni")
    page = await open_app(await new_page(), web_server, customer)
    await page.get_by_role("button", name="Mulai Curhat").click()
    await page.get_by_role("button", name="Mulai", exact=True).click()
    offer = await mitra.next_offer(customer)
    assert (await mitra.respond(str(offer["pairing_request_id"]), "reject")).status_code == 200
    await expect(
        page.get_by_role("heading", name="Maaf, kami tidak bisa menemukan bestie untuk kamu saat ini.")
    ).to_be_visible()
    await assert_accessible(page, "failed pairing")
    await screenshot(page, "12-failed-pairing")
    assert [f["cause_tag"] for f in await office.failures_for(customer)] == ["all_mitras_rejected"]
    await page.get_by_role("button", name="Kembali ke beranda").click()
    await expect(page.get_by_role("button", name="Mulai Curhat")).to_be_enabled()


async def test_a_message_typed_while_offline_is_sent_once_on_reconnect(
    web_server: ServerProcess, office: Backoffice, new_page: NewPage
) -> None:
    mitra = await office.online_mitra("Bestie Nur")
    customer = await office.customer("Ratna")
    page = await new_page()
    network = {"up": True}
    sockets: list[WebSocketRoute] = []

    async def relay(ws: WebSocketRoute) -> None:
        if not network["up"]:
            await ws.close(code=4000)
            return
        ws.connect_to_server()
        sockets.append(ws)

    await page.route_web_socket(re.compile(r"/ws$"), relay)
    await open_app(page, web_server, customer)
    await page.get_by_role("button", name="Mulai Curhat").click()
    await page.get_by_role("button", name="Mulai", exact=True).click()
    chat_id = await mitra.accept_next(customer)
    await expect(page.get_by_role("heading", name="Bestie Nur")).to_be_visible()

    network["up"] = False
    await page.context.set_offline(True)
    for ws in sockets:
        await ws.close(code=4000)
    await expect(page.get_by_text("Menghubungkan ulang…")).to_be_visible()
    await page.get_by_role("textbox", name="Tulis pesan").fill("ditulis waktu offline")
    await page.get_by_role("button", name="Kirim").click()
    log = page.get_by_role("log", name="Pesan")
    mine = log.get_by_role("listitem").filter(has_text="ditulis waktu offline")
    await expect(mine).to_contain_text("Mengirim…")

    network["up"] = True
    await page.context.set_offline(False)
    await expect(mine).to_contain_text("Terkirim")
    await expect(page.get_by_text("Menghubungkan ulang…")).to_be_hidden()
    assert mitra.ws is not None
    got = await mitra.ws.expect("CHAT_MESSAGE", chat_session_id=chat_id)
    assert got["message"]["body"] == "ditulis waktu offline"
    r = await office.public.get(f"/api/client/chat-sessions/{chat_id}/messages", headers=customer.headers)
    assert [m["body"] for m in r.json()["rows"]] == ["ditulis waktu offline"]
