"""Sign-in, Settings, Mitras, Price tiers and the Dashboard in a real browser, checked through the API."""

from __future__ import annotations

import re
import time

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from curhat.runtime import Runtime
from tests.browser_cc import produce
from tests.browser_cc.conftest import check_axe
from tests.e2e.flows import Api, Socket
from tests.fixtures.factories import Account, make_chat, make_customer, make_mitra, new_phone
from tests.fixtures.server import ServerProcess

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

RETURNING_LABEL = "Batas waktu konfirmasi Curhat lagi (detik)"


async def test_login_inputs_are_found_by_their_labels(
    browser: Browser, cc_server: ServerProcess, operator: Account
) -> None:
    context = await browser.new_context(base_url=cc_server.internal_url)
    page = await context.new_page()
    await page.goto("/cc/settings")
    email = page.get_by_label("Email")
    password = page.get_by_label("Kata sandi")
    await expect(email).to_have_attribute("type", "email")
    await expect(password).to_have_attribute("type", "password")
    await email.fill(operator.phone)
    await password.fill(operator.password)
    await page.get_by_role("button", name="Masuk").click()
    # Back where the operator was going, with the sidebar.
    await expect(page.get_by_role("heading", name="Settings", level=1)).to_be_visible()
    nav = page.get_by_role("navigation", name="Main")
    for name in ("Dashboard", "Failed Pairings", "Mitras", "Price tiers", "Settings"):
        await expect(nav.get_by_role("link", name=name, exact=True)).to_be_visible()
    await expect(nav.get_by_role("link", name="Settings")).to_have_attribute("aria-current", "page")
    await page.get_by_role("button", name="Log out").click()
    await expect(page.get_by_role("button", name="Masuk")).to_be_visible()
    await page.goto("/cc/dashboard")
    await expect(page.get_by_role("button", name="Masuk")).to_be_visible()
    await context.close()


async def test_returning_timeout_set_in_the_ui_drives_the_next_request(
    page: Page, seed: Runtime, api: Api, cc_server: ServerProcess, sockets: list[Socket]
) -> None:
    mitra, mitra_ws = await produce.online_mitra(seed, api, cc_server.ws_url, sockets, "Bestie Setia")
    customer = await make_customer(seed, "Pelanggan Setia")
    await make_chat(seed, customer.id, mitra.id, ended=True, paid=True)
    customer_ws = await Socket.open(cc_server.ws_url, customer.token)
    sockets.append(customer_ws)

    await page.goto("/cc/settings")
    row = page.locator("div.setting", has=page.get_by_label(RETURNING_LABEL))
    await expect(row).to_contain_text("Berapa lama bestie yang dituju punya waktu")
    field = page.get_by_label(RETURNING_LABEL)
    await expect(field).to_have_attribute("min", "5")
    await expect(field).to_have_attribute("max", "120")
    # The server's own error, shown on the row.
    await field.fill("3")
    await page.get_by_role("button", name=f"Save {RETURNING_LABEL}").click()
    await expect(row.get_by_role("alert")).to_have_text("Tidak disimpan: nilai harus antara 5 dan 120.")
    await expect(page.get_by_label(RETURNING_LABEL)).to_have_attribute("aria-invalid", "true")
    await check_axe(page, "settings-error")

    await page.get_by_label(RETURNING_LABEL).fill("5")
    await page.get_by_role("button", name=f"Save {RETURNING_LABEL}").click()
    await expect(row.get_by_role("status")).to_have_text(f"Disimpan: {RETURNING_LABEL}.")
    await expect(page.get_by_label(RETURNING_LABEL)).to_have_value("5")
    await expect(row).to_contain_text("Changed by Operator")

    pid = await api.paid_session(customer, targeted_mitra_id=mitra.id)
    r = await api.http.post(
        "/api/client/chat-requests/returning",
        json={"payment_session_id": pid, "mitra_id": str(mitra.id)},
        headers=customer.headers,
    )
    started = time.monotonic()
    assert r.status_code == 202, r.text
    offer = await mitra_ws.expect("PAIRING_REQUEST", pairing_request_id=r.json()["pairing_request_id"])
    assert offer["request_type"] == "returning" and offer["seconds_remaining"] <= 5
    timeout = await customer_ws.expect("RETURNING_CHAT_TIMEOUT", timeout=15, payment_session_id=pid)
    elapsed = time.monotonic() - started
    assert timeout["mitra_id"] == str(mitra.id)
    assert 4.0 <= elapsed < 7.5, elapsed


async def test_extension_default_is_a_choice_between_two_labels(
    page: Page, cc_server: ServerProcess, operator: Account
) -> None:
    await page.goto("/cc/settings")
    choice = page.get_by_label("Tindakan otomatis perpanjangan")
    await expect(choice.locator("option")).to_have_text(["Auto-approve", "Auto-reject"])
    await choice.select_option(label="Auto-reject")
    await page.get_by_role("button", name="Save Tindakan otomatis perpanjangan").click()
    await expect(page.get_by_role("status")).to_have_text("Disimpan: Tindakan otomatis perpanjangan.")
    async with httpx.AsyncClient(base_url=cc_server.internal_url) as cc:
        r = await cc.get("/internal/config", headers=operator.headers)
    [row] = [x for x in r.json()["rows"] if x["key"] == "extension_default_action_on_timeout"]
    assert row["value"] == "auto_reject"


async def test_a_mitra_created_in_the_ui_can_sign_in(page: Page, api: Api) -> None:
    phone = new_phone()
    local = "0" + phone.removeprefix("+62")
    await page.goto("/cc/mitras")
    await page.get_by_label("Nomor HP").fill(local)
    await page.get_by_label("Nama panggilan").fill("Bestie Baru")
    await page.get_by_label("Kata sandi").fill("rahasia-baru-1")
    await page.get_by_role("button", name="Create mitra").click()
    await expect(page.get_by_role("status")).to_have_text(
        f"Mitra “Bestie Baru” created; they can sign in with {phone}."
    )
    row = page.locator("tbody tr", has_text="Bestie Baru")
    await expect(row.locator("td").first).to_have_text(phone)

    login = await api.http.post("/api/mitra/auth/login", json={"phone": local, "password": "rahasia-baru-1"})
    assert login.status_code == 200, login.text
    assert login.json()["mitra"]["display_name"] == "Bestie Baru"

    # The same phone again: the form comes back with the server's reason, values kept.
    await page.get_by_label("Nomor HP").fill(local)
    await page.get_by_label("Nama panggilan").fill("Bestie Kembar")
    await page.get_by_label("Kata sandi").fill("rahasia-baru-2")
    await page.get_by_role("button", name="Create mitra").click()
    await expect(page.get_by_text("Nomor HP ini sudah dipakai bestie lain.")).to_be_visible()
    await expect(page.get_by_label("Nomor HP")).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_label("Nama panggilan")).to_have_value("Bestie Kembar")
    await check_axe(page, "mitras-error")

    await page.goto("/cc/mitras")
    await page.get_by_role("link", name="Reset password for Bestie Baru").click()
    await page.get_by_label("Kata sandi baru").fill("sandi-kedua-22")
    await page.get_by_role("button", name="Set new password").click()
    await expect(page.get_by_role("status")).to_contain_text("New password set for “Bestie Baru”")
    old = await api.http.post("/api/mitra/auth/login", json={"phone": local, "password": "rahasia-baru-1"})
    new = await api.http.post("/api/mitra/auth/login", json={"phone": local, "password": "sandi-kedua-22"})
    assert (old.status_code, new.status_code) == (401, 200)

    await page.get_by_role("link", name="Deactivate Bestie Baru").click()
    await expect(page.get_by_role("heading", name="Deactivate “Bestie Baru”?")).to_be_visible()
    await page.get_by_role("button", name="Confirm: deactivate").click()
    await expect(page.get_by_role("status")).to_have_text("“Bestie Baru” deactivated and taken offline.")
    await expect(page.locator("tbody tr", has_text="Bestie Baru").locator("td").nth(1)).to_have_text(
        "Deactivated"
    )
    refused = await api.http.post(
        "/api/mitra/auth/login", json={"phone": local, "password": "sandi-kedua-22"}
    )
    assert refused.status_code == 401


async def test_online_state_and_sessions_refresh_live(
    page: Page, seed: Runtime, api: Api, cc_server: ServerProcess, sockets: list[Socket]
) -> None:
    mitra = await make_mitra(seed, "Bestie Langsung")
    await page.goto("/cc/mitras")
    row = page.locator("tbody tr", has_text="Bestie Langsung")
    online = row.locator('[data-field="online"]')
    await expect(online).to_have_text("Offline")
    await expect(row.locator("td").nth(3)).to_have_text("0 / 3")

    mitra_ws = await Socket.open(cc_server.ws_url, mitra.token)
    sockets.append(mitra_ws)
    await api.go_online(mitra)
    # No reload: the page's own module refreshes every 5 s.
    await expect(online).to_have_text("Online", timeout=12_000)

    customer = await make_customer(seed)
    pid = await api.paid_session(customer)
    rid = (await api.search(customer, pid))["pairing_request_id"]
    await mitra_ws.expect("PAIRING_REQUEST", pairing_request_id=rid)
    assert (await api.respond(mitra, rid, "accept")).status_code == 200
    await expect(row.locator("td").nth(3)).to_have_text("1 / 3", timeout=12_000)
    await check_axe(page, "mitras-live")


async def _tiers(api: Api, seed: Runtime) -> dict[int, int]:
    customer = await make_customer(seed)
    r = await api.http.get("/api/client/pricing/extension", headers=customer.headers)
    return {t["duration_minutes"]: t["amount"] for t in r.json()["tiers"]}


async def test_price_tiers_add_edit_deactivate(page: Page, api: Api, seed: Runtime) -> None:
    await page.goto("/cc/price-tiers")
    await page.get_by_label("Duration (minutes)").fill("45")
    await page.get_by_label("Price (Rp)", exact=True).fill("35000")
    await page.get_by_role("button", name="Add tier").click()
    await expect(page.get_by_role("status")).to_have_text("Tier added: 45 min for Rp 35.000.")
    assert (await _tiers(api, seed)).get(45) == 35000

    await page.get_by_label("Price (Rp), 45 min").fill("40000")
    await page.get_by_role("button", name="Save 45 min").click()
    await expect(page.get_by_role("status")).to_have_text("Saved: 45 min now Rp 40.000.")
    assert (await _tiers(api, seed)).get(45) == 40000

    await page.get_by_role("button", name="Deactivate 45 min").click()
    await expect(page.get_by_role("status")).to_contain_text("The 45 min tier is deactivated")
    await expect(page.locator("tbody tr", has_text="45 min").locator("td").first).to_have_text("Inactive")
    assert 45 not in await _tiers(api, seed)

    # A duration an active tier already has: the server's reason next to the field.
    await page.get_by_label("Duration (minutes)").fill("15")
    await page.get_by_label("Price (Rp)", exact=True).fill("9000")
    await page.get_by_role("button", name="Add tier").click()
    await expect(page.get_by_text("Sudah ada paket aktif dengan durasi ini.")).to_be_visible()
    await check_axe(page, "price-tiers-error")


async def test_dashboard_counts_offers_per_mitra_and_follows_the_range(
    page: Page, seed: Runtime, api: Api, cc_server: ServerProcess, sockets: list[Socket]
) -> None:
    mitra, mitra_ws = await produce.online_mitra(seed, api, cc_server.ws_url, sockets, "Bestie Dasbor")
    customer = await make_customer(seed)
    await produce.matched_chat(api, customer, mitra, mitra_ws)
    pid = await api.paid_session(customer)
    rid = (await api.search(customer, pid))["pairing_request_id"]
    await mitra_ws.expect("PAIRING_REQUEST", pairing_request_id=rid)
    assert (await api.respond(mitra, rid, "reject")).status_code == 200
    r = await api.http.post(
        "/api/client/chat-requests/cancel", json={"payment_session_id": pid}, headers=customer.headers
    )
    assert r.status_code in (200, 409), r.text  # 409: the reject already failed it (no one else online)

    await page.goto("/cc/dashboard")
    await expect(page.get_by_role("heading", level=2, name="(today)")).to_be_visible()
    row = page.get_by_role("row", name="Bestie Dasbor")
    await expect(row.get_by_role("cell")).to_have_text(["2", "1", "1", "0", "50 %"])
    await expect(page.get_by_role("img", name="Time to pair")).to_be_visible()
    await expect(page.get_by_role("link", name="Customer cancelled:")).to_have_attribute(
        "href", re.compile(r"cause_tags=customer_cancelled")
    )

    await page.get_by_label("From (UTC)").fill("2025-03-01")
    await page.get_by_label("To (UTC)").fill("2025-03-02")
    await page.get_by_role("button", name="Show").click()
    await expect(page.get_by_role("heading", level=2, name="2025-03-01 to 2025-03-02")).to_be_visible()
    assert "date_from=2025-03-01" in page.url and "date_to=2025-03-02" in page.url
    await expect(page.get_by_text("No offers in this range.")).to_be_visible()
    await page.get_by_role("link", name="Last 7 days").click()
    await expect(page.get_by_role("row", name="Bestie Dasbor")).to_be_visible()
