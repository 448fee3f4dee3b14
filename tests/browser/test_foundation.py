"""The web foundation: headers, static caching, manifest, sign-in pages, Trusted Types, axe."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import expect

from tests.browser.actors import PASSWORD, Backoffice, new_phone, open_app
from tests.fixtures.browser import NewPage, assert_accessible, screenshot
from tests.fixtures.server import ServerProcess

pytestmark = pytest.mark.browser


async def test_pages_carry_the_strict_headers_and_assets_revalidate(web_server: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=web_server.public_url) as http:
        page = await http.get("/")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        csp = page.headers["content-security-policy"]
        assert "require-trusted-types-for 'script'" in csp and "frame-ancestors 'none'" in csp
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["referrer-policy"] == "no-referrer"

        versioned = re.search(r'src="(/static/customer/app\.js\?v=[0-9a-f]+)"', page.text)
        assert versioned, "the page links its module with a content hash"
        first = await http.get(versioned.group(1))
        assert first.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert first.headers["content-type"].startswith("text/javascript")
        again = await http.get("/static/js/api.js")
        assert again.headers["cache-control"] == "no-cache"
        unchanged = await http.get("/static/js/api.js", headers={"If-None-Match": again.headers["etag"]})
        assert unchanged.status_code == 304 and unchanged.content == b""
        assert (await http.get("/static/js/nope.js")).status_code == 404

        manifest = await http.get("/manifest.webmanifest")
        assert manifest.headers["content-type"].startswith("application/manifest+json")
        body = manifest.json()
        assert body["start_url"] == "/" and body["display"] == "standalone" and body["icons"]
        icon = await http.get(body["icons"][0]["src"])
        assert icon.status_code == 200 and icon.headers["content-type"] == "image/svg+xml"


async def test_register_then_sign_in_again(web_server: ServerProcess, new_page: NewPage) -> None:
    page = await new_page()
    await page.goto(f"{web_server.public_url}/")
    await expect(page).to_have_url(f"{web_server.public_url}/login")
    await expect(page.get_by_role("button", name="Masuk")).to_be_visible()
    await assert_accessible(page, "login")
    await screenshot(page, "01-login")

    await page.get_by_role("link", name="Daftar di sini").click()
    phone = new_phone()
    await page.get_by_label("Nama panggilan").fill("Sari")
    await page.get_by_label("Nomor HP").fill(phone)
    await page.get_by_label("Kata sandi").fill("pendek")
    await page.get_by_role("button", name="Daftar").click()
    await expect(page.get_by_role("alert")).to_contain_text("Kata sandi")
    await assert_accessible(page, "register with an error")

    await page.get_by_label("Kata sandi").fill(PASSWORD)
    await page.get_by_role("button", name="Daftar").click()
    await expect(page.get_by_role("heading", name="Hai, Sari")).to_be_visible()

    await page.get_by_role("button", name="Keluar").click()
    await expect(page).to_have_url(f"{web_server.public_url}/login")
    await page.get_by_label("Nomor HP").fill(phone)
    await page.get_by_label("Kata sandi").fill("salah-sekali")
    await page.get_by_role("button", name="Masuk").click()
    await expect(page.get_by_role("alert")).to_have_text("Nomor HP atau kata sandi salah.")
    await page.get_by_label("Kata sandi").fill(PASSWORD)
    await page.get_by_role("button", name="Masuk").click()
    await expect(page.get_by_role("heading", name="Hai, Sari")).to_be_visible()


async def test_markup_can_never_run(web_server: ServerProcess, office: Backoffice, new_page: NewPage) -> None:
    customer = await office.customer("<img src=x onerror=alert(1)>")
    page = await open_app(await new_page(), web_server, customer)
    heading = page.get_by_role("heading", level=1)
    await expect(heading).to_have_text("Hai, <img src=x onerror=alert(1)>")
    assert await page.locator("img").count() == 0
    blocked = await page.evaluate(
        "() => { try { document.body.innerHTML = '<b>x</b>'; return 'assigned'; }"
        " catch (e) { return e.name; } }"
    )
    assert blocked == "TypeError", "Trusted Types must refuse any HTML sink"


async def test_an_expired_token_goes_back_to_sign_in(web_server: ServerProcess, new_page: NewPage) -> None:
    page = await new_page()
    await page.goto(f"{web_server.public_url}/login")
    await page.evaluate("() => localStorage.setItem('curhat.customer.token', 'not-a-token')")
    await page.goto(f"{web_server.public_url}/")
    await expect(page).to_have_url(f"{web_server.public_url}/login")
    assert await page.evaluate("() => localStorage.getItem('curhat.customer.token')") is None


async def test_format_and_clock_modules(web_server: ServerProcess, new_page: NewPage) -> None:
    page = await new_page()
    await page.goto(f"{web_server.public_url}/login")
    values = await page.evaluate(
        """async () => {
          const f = await import('/static/js/format.js');
          const { ServerClock } = await import('/static/js/clock.js');
          const clock = new ServerClock();
          clock.observe(new Date(Date.now() + 60_000).toISOString());  // the server runs a minute ahead
          const inTwoMinutes = new Date(Date.now() + 120_000).toISOString();
          return [f.rupiah(15000), f.rupiah(1250000), f.rupiah(500), f.price(0, true), f.price(25000, false),
                  f.countdown(75), f.countdown(3725), clock.secondsUntil(inTwoMinutes) <= 61];
        }"""
    )
    assert values == ["Rp 15.000", "Rp 1.250.000", "Rp 500", "Gratis", "Rp 25.000", "01:15", "1:02:05", True]
