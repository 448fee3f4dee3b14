"""/internal/customers and /internal/chat-sessions: read-only support lists."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import update

from curhat.models import User
from curhat.runtime import Runtime
from tests.fixtures.factories import Account, make_chat, make_customer, make_mitra, make_operator


async def _chat(
    runtime: Runtime, customer: Account, mitra: Account, *, started: datetime, ended: bool = False
) -> uuid.UUID:
    return await make_chat(runtime, customer.id, mitra.id, started=started, ended=ended, paid=True)


async def _age(runtime: Runtime, user_id: uuid.UUID, minutes: int) -> None:
    async with runtime.transaction() as session:
        await session.execute(
            update(User)
            .where(User.id == user_id)
            .values(created_at=datetime.now(UTC) - timedelta(minutes=minutes))
        )


async def test_customers_newest_first_paged_and_searchable(
    internal: httpx.AsyncClient, runtime: Runtime
) -> None:
    operator = await make_operator(runtime)
    sari = await make_customer(runtime, "Sari")
    budi = await make_customer(runtime, "Budi_Santoso")
    tono = await make_customer(runtime, "Tono 100%")
    await _age(runtime, sari.id, 30)
    await _age(runtime, budi.id, 20)
    await _age(runtime, tono.id, 10)
    h = operator.headers

    body = (await internal.get("/internal/customers", headers=h)).json()
    assert body["total"] == 3
    assert [r["display_name"] for r in body["rows"]] == ["Tono 100%", "Budi_Santoso", "Sari"]
    assert set(body["rows"][0]) == {"id", "phone", "display_name", "created_at"}
    assert "password_hash" not in str(body)

    page = (await internal.get("/internal/customers", params={"limit": 1, "offset": 1}, headers=h)).json()
    assert page["total"] == 3 and [r["id"] for r in page["rows"]] == [str(budi.id)]

    async def search(q: str) -> list[str]:
        r = await internal.get("/internal/customers", params={"q": q}, headers=h)
        assert r.status_code == 200, r.text
        assert r.json()["total"] == len(r.json()["rows"])
        return [row["display_name"] for row in r.json()["rows"]]

    assert await search("sAr") == ["Sari"]
    # LIKE wildcards are matched literally.
    assert await search("%") == ["Tono 100%"]
    assert await search("_") == ["Budi_Santoso"]
    # A phone in the local spelling finds the E.164 number, whole or partial.
    local = "0" + sari.phone[3:]
    assert await search(local) == ["Sari"]
    assert "Sari" in await search(local[:9])
    assert "Sari" in await search(local[:5] + "-" + local[5:9])
    assert await search(sari.phone) == ["Sari"]
    assert await search("nobody") == []
    assert await search("") == ["Tono 100%", "Budi_Santoso", "Sari"]


async def test_chat_sessions_newest_first_filtered_by_status(
    internal: httpx.AsyncClient, runtime: Runtime
) -> None:
    operator = await make_operator(runtime)
    customer = await make_customer(runtime, "Sari")
    mitra = await make_mitra(runtime, "Bestie Ana")
    now = datetime.now(UTC)
    old = await _chat(runtime, customer, mitra, started=now - timedelta(hours=2), ended=True)
    new = await _chat(runtime, customer, mitra, started=now - timedelta(minutes=5))
    h = operator.headers

    body = (await internal.get("/internal/chat-sessions", headers=h)).json()
    assert body["total"] == 2
    assert [r["id"] for r in body["rows"]] == [str(new), str(old)]
    row = body["rows"][1]
    assert row["customer"] == {"id": str(customer.id), "display_name": "Sari"}
    assert row["mitra"] == {"id": str(mitra.id), "display_name": "Bestie Ana"}
    assert row["status"] == "ended" and row["end_reason"] == "customer_ended"
    assert row["duration_minutes"] == 30 and row["ended_at"] is not None
    assert set(row) == {
        "id",
        "customer",
        "mitra",
        "status",
        "started_at",
        "ends_at",
        "ended_at",
        "end_reason",
        "duration_minutes",
    }

    active = (await internal.get("/internal/chat-sessions?status=active", headers=h)).json()
    assert active["total"] == 1 and active["rows"][0]["id"] == str(new)
    assert active["rows"][0]["ended_at"] is None
    ended = (await internal.get("/internal/chat-sessions?status=ended&limit=1", headers=h)).json()
    assert ended["total"] == 1 and ended["rows"][0]["id"] == str(old)
    r = await internal.get("/internal/chat-sessions?status=weird", headers=h)
    assert r.status_code == 400 and r.json()["error"] == "validation_error"


@pytest.mark.parametrize("path", ["/internal/customers", "/internal/chat-sessions"])
@pytest.mark.parametrize("query", ["limit=0", "limit=201", "offset=-1", "offset=99999999999999999999"])
async def test_bad_paging_is_400(
    internal: httpx.AsyncClient, runtime: Runtime, path: str, query: str
) -> None:
    operator = await make_operator(runtime)
    r = await internal.get(f"{path}?{query}", headers=operator.headers)
    assert r.status_code == 400 and r.json()["error"] == "validation_error"
    assert r.json()["fields"][0]["field"] in {"limit", "offset"}


async def test_bad_search_is_400(internal: httpx.AsyncClient, runtime: Runtime) -> None:
    operator = await make_operator(runtime)
    for q in ("a\x00b", "x" * 101):
        r = await internal.get("/internal/customers", params={"q": q}, headers=operator.headers)
        assert r.status_code == 400 and r.json()["error"] == "validation_error"


@pytest.mark.parametrize("path", ["/internal/customers", "/internal/chat-sessions", "/internal/stats"])
async def test_only_operators(internal: httpx.AsyncClient, runtime: Runtime, path: str) -> None:
    customer = await make_customer(runtime)
    mitra = await make_mitra(runtime)
    for headers in (customer.headers, mitra.headers, {}, {"Authorization": "Bearer nope"}):
        r = await internal.get(path, headers=headers)
        assert r.status_code == 401 and r.json()["error"] in {"unauthorized", "invalid_token", "wrong_role"}
    operator = await make_operator(runtime)
    assert (await internal.get(path, headers=operator.headers)).status_code == 200
