"""Failed Pairings in a real browser over rows a run produced through the public API (seed Stage 4)."""

from __future__ import annotations

import csv
import io
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect
from sqlalchemy import text

from curhat.runtime import Runtime
from tests.browser_cc import produce
from tests.browser_cc.conftest import check_axe, module_fixture
from tests.e2e.flows import Api, Socket
from tests.fixtures.factories import Account, make_customer, make_mitra
from tests.fixtures.server import ServerProcess

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

CANCELLED = 52
# Rows moved into an old month, so the date filter has a fixed answer whatever day the run is.
OLD_DAYS = [date(2025, 3, 10), date(2025, 3, 11), date(2025, 3, 12)]


@dataclass
class Dataset:
    cancelled: list[str]
    old_cancelled: list[str]  # the three moved to March 2025; the first one actioned "credited"
    old_rejected: str  # moved to March 2025, unactioned
    rejected_today: str  # customer "Pelanggan Tolak 2"
    offline: str  # customer "Pelanggan Kangen", targeted mitra "Bestie Luring"
    amount: int

    @property
    def total(self) -> int:
        return CANCELLED + 3


async def _move(seed: Runtime, payment_id: str, day: date) -> str:
    async with seed.transaction() as session:
        found = await session.execute(
            text("UPDATE pairing_failures SET created_at = :at WHERE payment_session_id = :pid RETURNING id"),
            {"at": datetime.combine(day, time(9, 30), tzinfo=UTC), "pid": uuid.UUID(payment_id)},
        )
        return str(found.scalar_one())


@module_fixture
async def data(
    seed: Runtime, api: Api, cc_server: ServerProcess, sockets: list[Socket], operator: Account
) -> Dataset:
    cancelled = await produce.many_cancelled(seed, api, CANCELLED)
    busy, busy_ws = await produce.online_mitra(seed, api, cc_server.ws_url, sockets, "Bestie Sibuk")
    rejected = [
        await produce.rejected_search(api, await make_customer(seed, f"Pelanggan Tolak {i}"), busy, busy_ws)
        for i in (1, 2)
    ]
    happy = await make_customer(seed, "Pelanggan Cocok")
    for _ in range(2):
        await produce.matched_chat(api, happy, busy, busy_ws)
    away = await make_mitra(seed, "Bestie Luring")
    offline = await produce.targeted_offline(seed, api, await make_customer(seed, "Pelanggan Kangen"), away)

    old = cancelled[:3]
    actioned = await _move(seed, old[0], OLD_DAYS[0])
    await _move(seed, old[1], OLD_DAYS[1])
    await _move(seed, old[2], OLD_DAYS[2])
    await _move(seed, rejected[0], OLD_DAYS[2])
    async with httpx.AsyncClient(base_url=cc_server.internal_url) as cc:
        r = await cc.post(
            f"/internal/failed-pairings/{actioned}/action",
            json={"action": "credited"},
            headers=operator.headers,
        )
        assert r.status_code == 200, r.text
    r = await api.http.get("/api/client/pricing", headers=happy.headers)
    [amount] = [t["amount"] for t in r.json()["tiers"] if t["duration_minutes"] == 30]
    return Dataset(cancelled, old, rejected[0], rejected[1], offline, amount)


async def test_lists_the_rows_the_run_produced(page: Page, data: Dataset) -> None:
    await page.goto("/cc/failed-pairings")
    await expect(page.get_by_role("heading", name="Failed Pairings", level=1)).to_be_visible()
    await expect(page.locator("#result-count")).to_have_text(f"{data.total} rows, showing 1–50")
    targeted = page.locator("tbody tr", has_text="Pelanggan Kangen")
    await expect(targeted.locator("td")).to_have_text(
        [
            # Date, customer (with phone), targeted mitra, cause, amount, action, by, when, menu
            _timestamp(),
            _contains("Pelanggan Kangen"),
            "Bestie Luring",
            "Chosen mitra offline",
            "Rp " + f"{data.amount:,}".replace(",", "."),
            "Open",
            "",
            "",
            _contains("Action"),
        ]
    )
    await expect(page.locator("tbody tr", has_text="Pelanggan Tolak 2").locator("td").nth(3)).to_have_text(
        "All mitras rejected"
    )


def _timestamp() -> re.Pattern[str]:
    return re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$")


def _contains(part: str) -> re.Pattern[str]:
    return re.compile(re.escape(part))


async def test_paging_is_in_the_url_and_survives_a_reload(
    page: Page, context: BrowserContext, data: Dataset
) -> None:
    await page.goto("/cc/failed-pairings")
    await page.get_by_label("Customer cancelled").check()
    await page.get_by_role("button", name="Apply filters").click()
    await expect(page.locator("#result-count")).to_have_text(f"{CANCELLED} rows, showing 1–50")
    await expect(page.locator("tbody tr")).to_have_count(50)
    await page.get_by_role("link", name="Next page").click()
    await expect(page.locator("#result-count")).to_have_text(f"{CANCELLED} rows, showing 51–52")
    await expect(page.locator("tbody tr")).to_have_count(2)
    assert "cause_tags=customer_cancelled" in page.url and "page=2" in page.url

    await page.reload()
    await expect(page.locator("#result-count")).to_have_text(f"{CANCELLED} rows, showing 51–52")
    await expect(page.get_by_label("Customer cancelled")).to_be_checked()
    shared = await context.new_page()
    await shared.goto(page.url)
    await expect(shared.locator("#result-count")).to_have_text(f"{CANCELLED} rows, showing 51–52")
    await expect(shared.get_by_text("Page 2 of 2")).to_be_visible()


async def _old_filter(page: Page, *, unactioned: bool) -> None:
    await page.goto("/cc/failed-pairings")
    await page.get_by_label("Customer cancelled").check()
    await page.get_by_label("All mitras rejected").check()
    await page.get_by_label("From", exact=True).fill("2025-03-01")
    await page.get_by_label("To", exact=True).fill("2025-03-31")
    if unactioned:
        await page.get_by_label("Unactioned only").check()
    await page.get_by_role("button", name="Apply filters").click()


async def test_filters_give_the_right_rows_and_survive_a_reload(page: Page, data: Dataset) -> None:
    await _old_filter(page, unactioned=False)
    await expect(page.locator("#result-count")).to_have_text("4 rows, showing 1–4")
    await expect(page.locator("tbody tr td:first-child")).to_have_text(
        ["2025-03-12 09:30 UTC", "2025-03-12 09:30 UTC", "2025-03-11 09:30 UTC", "2025-03-10 09:30 UTC"]
    )
    action_cells = page.locator("tbody tr td:nth-child(6)")
    await expect(action_cells).to_have_text(["Open", "Open", "Open", "Credited"])
    done = page.locator("tbody tr").nth(3)
    await expect(done.locator("summary")).to_have_count(0)
    # Open rows stand out by more than colour: a badge, a background and an edge.
    open_row = page.locator("tbody tr").first
    assert await open_row.evaluate("el => getComputedStyle(el).backgroundColor") != await done.evaluate(
        "el => getComputedStyle(el).backgroundColor"
    )

    await page.get_by_label("Unactioned only").check()
    await page.get_by_role("button", name="Apply filters").click()
    await expect(page.locator("#result-count")).to_have_text("3 rows, showing 1–3")
    await expect(page.locator("tbody tr td:nth-child(6)")).to_have_text(["Open", "Open", "Open"])
    for part in (
        "cause_tags=customer_cancelled",
        "cause_tags=all_mitras_rejected",
        "date_from=2025-03-01",
        "unactioned=1",
    ):
        assert part in page.url

    await page.reload()
    await expect(page.locator("#result-count")).to_have_text("3 rows, showing 1–3")
    await expect(page.get_by_label("All mitras rejected")).to_be_checked()
    await expect(page.get_by_label("No mitra available")).not_to_be_checked()
    await expect(page.get_by_label("From", exact=True)).to_have_value("2025-03-01")
    await expect(page.get_by_label("To", exact=True)).to_have_value("2025-03-31")
    await expect(page.get_by_label("Unactioned only")).to_be_checked()


async def test_csv_export_matches_the_filter(page: Page, data: Dataset, tmp_path: Path) -> None:
    await _old_filter(page, unactioned=False)
    await page.get_by_label("All mitras rejected").uncheck()
    await page.get_by_role("button", name="Apply filters").click()
    await expect(page.locator("#result-count")).to_have_text("3 rows, showing 1–3")
    shown = [await tr.get_attribute("id") for tr in await page.locator("tbody tr").all()]

    async with page.expect_download() as info:
        await page.get_by_role("link", name="Export CSV").click()
    download = await info.value
    assert download.suggested_filename.startswith(
        "failed-pairings-"
    ) and download.suggested_filename.endswith(".csv")
    target = tmp_path / "export.csv"
    await download.save_as(target)
    exported = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert [f"row-{r['id']}" for r in exported] == shown
    assert {r["cause_tag"] for r in exported} == {"customer_cancelled"}
    assert {r["cause"] for r in exported} == {"Customer cancelled"}
    assert sorted(r["created_at"][:10] for r in exported) == [d.isoformat() for d in OLD_DAYS]
    assert [r["operator_action"] for r in exported].count("credited") == 1
    assert {r["amount"] for r in exported} == {str(data.amount)}
    assert set(data.old_cancelled) == {r["payment_session_id"] for r in exported}


async def test_operator_actions_a_row_once(
    context: BrowserContext, page: Page, data: Dataset, cc_server: ServerProcess, operator: Account
) -> None:
    listing = "/cc/failed-pairings?cause_tags=all_mitras_rejected&unactioned=1"
    # A second tab that opened the confirmation for another action before the first one lands.
    stale = await context.new_page()
    await stale.goto(listing)
    stale_row = stale.locator("tbody tr", has_text="Pelanggan Tolak 2")
    await stale_row.locator("summary").click()
    await stale_row.get_by_role("button", name="Mark as credited").click()
    await expect(stale.get_by_role("heading", name="Mark as credited?")).to_be_visible()

    await page.goto(listing)
    row = page.locator("tbody tr", has_text="Pelanggan Tolak 2")
    await row.locator("summary").click()
    await row.get_by_role("button", name="Mark as refunded").click()
    await expect(page.get_by_role("heading", name="Mark as refunded?")).to_be_visible()
    await page.get_by_role("button", name="Confirm: Mark as refunded").click()
    await expect(page.get_by_role("status")).to_contain_text("Marked “Refunded”: Pelanggan Tolak 2")
    # Back on the same filtered view: the row is no longer unactioned.
    await expect(page.locator("tbody tr", has_text="Pelanggan Tolak 2")).to_have_count(0)

    await stale.get_by_role("button", name="Confirm: Mark as credited").click()
    await expect(stale.get_by_role("alert")).to_have_text(
        "Not changed: this row was already marked “Refunded” by Operator."
    )
    await stale.goto("/cc/failed-pairings?cause_tags=all_mitras_rejected")
    done = stale.locator("tbody tr", has_text="Pelanggan Tolak 2")
    await expect(done.locator("td").nth(5)).to_have_text("Refunded")
    await expect(done.locator("td").nth(6)).to_have_text("Operator")
    await expect(done.locator("summary")).to_have_count(0)

    async with httpx.AsyncClient(base_url=cc_server.internal_url) as cc:
        r = await cc.get(
            "/internal/failed-pairings",
            params={"cause_tags": "all_mitras_rejected"},
            headers=operator.headers,
        )
    [row_json] = [x for x in r.json()["rows"] if x["payment_session_id"] == data.rejected_today]
    assert row_json["operator_action"] == "refunded" and row_json["actioned_by"]["id"] == str(operator.id)


async def test_every_page_passes_axe(
    browser: Browser, cc_server: ServerProcess, page: Page, data: Dataset
) -> None:
    """Every page with real rows in it: 0 serious/critical violations; screenshots kept."""
    anonymous = await browser.new_context(base_url=cc_server.internal_url)
    login = await anonymous.new_page()
    await login.goto("/cc/dashboard")
    await expect(login.get_by_role("heading", name="Masuk ke Control Center")).to_be_visible()
    await check_axe(login, "login")
    await login.get_by_label("Email").fill("nobody@curhat.test")
    await login.get_by_label("Kata sandi").fill("salah-sekali")
    await login.get_by_role("button", name="Masuk").click()
    await expect(login.get_by_role("alert")).to_have_text("Email atau kata sandi salah.")
    await check_axe(login, "login-error")
    await anonymous.close()
    pages = [
        ("dashboard", "/cc/dashboard"),
        ("failed-pairings", "/cc/failed-pairings"),
        ("mitras", "/cc/mitras"),
        ("price-tiers", "/cc/price-tiers"),
        ("settings", "/cc/settings"),
    ]
    for name, path in pages:
        await page.goto(path)
        # 50 rows make a very tall picture; the first screenful shows the page.
        await check_axe(page, name, full_page=name != "failed-pairings")
    await page.goto("/cc/failed-pairings")
    first = page.locator("tbody tr.is-open").first
    await first.locator("summary").click()
    await check_axe(page, "failed-pairings-menu", full_page=False)
    await first.get_by_role("button", name="Mark as no-action").click()
    await check_axe(page, "confirm-action")
    await page.goto("/cc/mitras")
    await page.locator("tbody tr", has_text="Bestie Luring").get_by_role("link", name="Deactivate").click()
    await check_axe(page, "mitra-deactivate")
    await page.goto("/cc/mitras")
    await (
        page.locator("tbody tr", has_text="Bestie Luring").get_by_role("link", name="Reset password").click()
    )
    await check_axe(page, "mitra-password")
