"""What the mitra app reads besides the shared chat API: today's figures, settings, active chats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from curhat.mitras import status
from curhat.runtime import Runtime
from tests.fixtures.factories import make_chat, make_customer, make_mitra, make_operator


def _offset_putting_noon_at(now: datetime) -> int:
    """A UTC offset (minutes) under which ``now`` is about midday, so "today" holds the last hours."""
    minutes_into_day = now.hour * 60 + now.minute
    offset = 12 * 60 - minutes_into_day
    return offset if offset >= -720 else offset + 24 * 60


async def test_today_counts_chats_started_today_and_minutes_spent(runtime: Runtime) -> None:
    mitra = await make_mitra(runtime)
    other_mitra = await make_mitra(runtime)
    customer = await make_customer(runtime)
    now = datetime(2026, 3, 10, 5, 0, tzinfo=UTC)  # 12:00 in WIB
    # Ended after 1 minute; running for 20 minutes so far; 06:00 WIB (23:00Z yesterday), ended after
    # 1 minute; 23:00 WIB yesterday; someone else's.
    await make_chat(runtime, customer.id, mitra.id, started=now - timedelta(hours=2), ended=True)
    await make_chat(runtime, customer.id, mitra.id, started=now - timedelta(minutes=20), minutes=30)
    await make_chat(runtime, customer.id, mitra.id, started=now - timedelta(hours=6), ended=True)
    await make_chat(runtime, customer.id, mitra.id, started=now - timedelta(hours=13), ended=True)
    await make_chat(runtime, customer.id, other_mitra.id, started=now - timedelta(minutes=10))
    async with runtime.transaction() as session:
        wib = await status.today_figures(session, mitra.id, 7 * 60, now=now)
        utc = await status.today_figures(session, mitra.id, 0, now=now)
    assert (wib.date.isoformat(), wib.chats, wib.minutes) == ("2026-03-10", 3, 22)
    # The UTC day began at 00:00Z, after the chat at 06:00 WIB.
    assert (utc.date.isoformat(), utc.chats, utc.minutes) == ("2026-03-10", 2, 21)
    async with runtime.transaction() as session:
        later = await status.today_figures(session, mitra.id, 7 * 60, now=now + timedelta(hours=1))
    # The running chat counts up to its ends_at (30 minutes), not past it.
    assert (later.chats, later.minutes) == (3, 32)


async def test_today_endpoint(public: httpx.AsyncClient, runtime: Runtime) -> None:
    mitra = await make_mitra(runtime)
    customer = await make_customer(runtime)
    now = datetime.now(UTC)
    await make_chat(runtime, customer.id, mitra.id, started=now - timedelta(minutes=5), ended=True)
    offset = _offset_putting_noon_at(now)
    r = await public.get(f"/api/mitra/today?utc_offset_minutes={offset}", headers=mitra.headers)
    assert r.status_code == 200, r.text
    assert r.json()["chats"] == 1 and r.json()["minutes"] == 1
    r = await public.get("/api/mitra/today?utc_offset_minutes=2000", headers=mitra.headers)
    assert r.status_code == 400 and r.json()["error"] == "validation_error"
    assert (await public.get("/api/mitra/today", headers=customer.headers)).status_code == 401


async def test_settings_follow_the_config(
    public: httpx.AsyncClient, internal: httpx.AsyncClient, runtime: Runtime
) -> None:
    mitra = await make_mitra(runtime)
    r = await public.get("/api/mitra/settings", headers=mitra.headers)
    assert r.status_code == 200
    assert r.json() == {
        "extension_timeout_seconds": 10,
        "extension_default_action_on_timeout": "auto_approve",
        "returning_chat_confirmation_timeout_seconds": 20,
        "max_customers_per_mitra": 3,
    }
    operator = await make_operator(runtime)
    for key, value in (
        ("extension_default_action_on_timeout", "auto_reject"),
        ("extension_timeout_seconds", 15),
    ):
        r = await internal.patch(f"/internal/config/{key}", json={"value": value}, headers=operator.headers)
        assert r.status_code == 200, r.text
    body = (await public.get("/api/mitra/settings", headers=mitra.headers)).json()
    assert body["extension_default_action_on_timeout"] == "auto_reject"
    assert body["extension_timeout_seconds"] == 15


async def test_chat_list_filters_by_status(public: httpx.AsyncClient, runtime: Runtime) -> None:
    mitra = await make_mitra(runtime)
    customer = await make_customer(runtime)
    active = await make_chat(runtime, customer.id, mitra.id)
    ended = await make_chat(runtime, customer.id, mitra.id, ended=True)
    for who, expected_total in ((mitra, 2), (customer, 2)):
        prefix = "/api/mitra" if who is mitra else "/api/client"
        everything = (await public.get(f"{prefix}/chat-sessions", headers=who.headers)).json()
        assert everything["total"] == expected_total
        only_active = (await public.get(f"{prefix}/chat-sessions?status=active", headers=who.headers)).json()
        assert [r["id"] for r in only_active["rows"]] == [str(active)] and only_active["total"] == 1
        only_ended = (await public.get(f"{prefix}/chat-sessions?status=ended", headers=who.headers)).json()
        assert [r["id"] for r in only_ended["rows"]] == [str(ended)]
    r = await public.get("/api/mitra/chat-sessions?status=open", headers=mitra.headers)
    assert r.status_code == 400
