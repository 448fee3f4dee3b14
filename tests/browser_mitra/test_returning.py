""" "Curhat lagi" as the mitra sees it: the returning card, its countdown, "Tolak"."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests.browser.actors import Backoffice
from tests.browser_mitra.apps import (
    customer_asks_again,
    customer_ends_chat,
    customer_in_chat,
    customer_sees_mitra_unavailable,
    customer_starts_search,
    go_online,
    open_customer_app,
    open_mitra_app,
    request_card,
)
from tests.browser_mitra.conftest import OpenPage
from tests.fixtures.browser import assert_accessible, screenshot
from tests.fixtures.server import ServerProcess

pytestmark = pytest.mark.browser

RETURNING_SECONDS = 6


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
