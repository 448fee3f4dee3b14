"""Dates and times at the edge of what Python and PostgreSQL hold → 400 validation_error, never 500."""

from __future__ import annotations

import httpx
import pytest

from curhat.runtime import Runtime
from tests.fixtures.factories import make_chat, make_customer, make_mitra, make_operator

EXTREMES = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"]


@pytest.mark.parametrize("before", EXTREMES)
async def test_messages_before_an_out_of_range_instant_is_a_validation_error(
    public: httpx.AsyncClient, runtime: Runtime, before: str
) -> None:
    customer, mitra = await make_customer(runtime), await make_mitra(runtime)
    chat = await make_chat(runtime, customer.id, mitra.id)
    for who, prefix in ((customer, "/api/client"), (mitra, "/api/mitra")):
        r = await public.get(
            f"{prefix}/chat-sessions/{chat}/messages", params={"before": before}, headers=who.headers
        )
        assert r.status_code == 400, r.text
        assert r.json()["error"] == "validation_error"
        assert [f["field"] for f in r.json()["fields"]] == ["before"]
    # The edges that do fit still work.
    r = await public.get(
        f"/api/client/chat-sessions/{chat}/messages",
        params={"before": "9999-12-31T23:59:59+00:00"},
        headers=customer.headers,
    )
    assert r.status_code == 200, r.text


async def test_stats_for_dates_at_the_calendar_edges_is_a_validation_error_or_an_answer(
    internal: httpx.AsyncClient, runtime: Runtime
) -> None:
    operator = await make_operator(runtime)
    for params in (
        {"date_from": "9999-12-31", "date_to": "9999-12-31"},
        {"date_from": "0001-01-01", "date_to": "0001-01-01"},
    ):
        r = await internal.get("/internal/stats", params=params, headers=operator.headers)
        assert r.status_code in (200, 400), r.text
        if r.status_code == 400:
            assert r.json()["error"] == "validation_error"
