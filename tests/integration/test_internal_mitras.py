"""/internal/mitras: list with live presence, create, change, deactivate (operator only)."""

from __future__ import annotations

import uuid

import httpx
import pytest

from curhat.runtime import Runtime
from tests.fixtures.factories import Account, make_chat, make_customer, make_mitra, make_operator


async def _active_chat(runtime: Runtime, customer: Account, mitra: Account) -> None:
    await make_chat(runtime, customer.id, mitra.id, paid=True)


async def test_create_normalises_phone_lists_newest_first_and_the_mitra_can_log_in(
    internal: httpx.AsyncClient, public: httpx.AsyncClient, runtime: Runtime
) -> None:
    operator = await make_operator(runtime)
    h = operator.headers
    r = await internal.post(
        "/internal/mitras",
        json={"phone": "0812-5555-0001", "display_name": "  Bestie Ana ", "password": "rahasia-123"},
        headers=h,
    )
    assert r.status_code == 201, r.text
    ana = r.json()
    assert ana["phone"] == "+6281255550001"
    assert ana["display_name"] == "Bestie Ana"
    assert ana["is_active"] is True
    assert ana["online"] is False and ana["active_sessions"] == 0
    assert ana["capacity"] == 3
    r = await internal.post(
        "/internal/mitras",
        json={"phone": "6281255550002", "display_name": "Bestie Budi", "password": "rahasia-123"},
        headers=h,
    )
    assert r.status_code == 201

    listing = (await internal.get("/internal/mitras", headers=h)).json()
    assert listing["total"] == 2
    assert [row["display_name"] for row in listing["rows"]] == ["Bestie Budi", "Bestie Ana"]
    assert set(listing["rows"][0]) == {
        "id",
        "phone",
        "display_name",
        "is_active",
        "created_at",
        "online",
        "active_sessions",
        "capacity",
    }
    page = (await internal.get("/internal/mitras?limit=1&offset=1", headers=h)).json()
    assert page["total"] == 2 and [row["id"] for row in page["rows"]] == [ana["id"]]

    r = await public.post("/api/mitra/auth/login", json={"phone": "081255550001", "password": "rahasia-123"})
    assert r.status_code == 200 and r.json()["mitra"]["id"] == ana["id"]


async def test_duplicate_phone_is_409_in_any_spelling(internal: httpx.AsyncClient, runtime: Runtime) -> None:
    operator = await make_operator(runtime)
    body = {"phone": "081255550003", "display_name": "A", "password": "rahasia-123"}
    assert (await internal.post("/internal/mitras", json=body, headers=operator.headers)).status_code == 201
    r = await internal.post(
        "/internal/mitras", json={**body, "phone": "+62 812 5555 0003"}, headers=operator.headers
    )
    assert r.status_code == 409 and r.json()["error"] == "phone_taken"
    assert (await internal.get("/internal/mitras", headers=operator.headers)).json()["total"] == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"phone": "12345", "display_name": "A", "password": "rahasia-123"}, "phone"),
        ({"phone": "081255550004", "display_name": "  ", "password": "rahasia-123"}, "display_name"),
        ({"phone": "081255550004", "display_name": "x" * 41, "password": "rahasia-123"}, "display_name"),
        ({"phone": "081255550004", "display_name": "A\x00B", "password": "rahasia-123"}, "display_name"),
        ({"phone": "081255550004", "display_name": "A", "password": "short"}, "password"),
        ({"phone": "081255550004", "display_name": "A"}, "password"),
    ],
)
async def test_bad_create_is_400_and_writes_nothing(
    internal: httpx.AsyncClient, runtime: Runtime, body: dict[str, str], field: str
) -> None:
    operator = await make_operator(runtime)
    r = await internal.post("/internal/mitras", json=body, headers=operator.headers)
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "validation_error"
    assert field in [f["field"] for f in r.json()["fields"]]
    assert (await internal.get("/internal/mitras", headers=operator.headers)).json()["total"] == 0


async def test_patch_renames_resets_password_and_deactivates(
    internal: httpx.AsyncClient, public: httpx.AsyncClient, runtime: Runtime
) -> None:
    operator = await make_operator(runtime)
    mitra = await make_mitra(runtime, "Lama")
    url = f"/internal/mitras/{mitra.id}"
    r = await internal.patch(url, json={"display_name": " Baru "}, headers=operator.headers)
    assert r.status_code == 200, r.text
    assert r.json()["display_name"] == "Baru" and r.json()["is_active"] is True

    r = await internal.patch(url, json={"password": "sandi-baru-99"}, headers=operator.headers)
    assert r.status_code == 200
    login = {"phone": mitra.phone, "password": "sandi-baru-99"}
    assert (await public.post("/api/mitra/auth/login", json=login)).status_code == 200
    old = {"phone": mitra.phone, "password": mitra.password}
    assert (await public.post("/api/mitra/auth/login", json=old)).status_code == 401

    r = await internal.patch(url, json={"is_active": False}, headers=operator.headers)
    assert r.status_code == 200
    assert r.json()["is_active"] is False and r.json()["online"] is False
    assert (await public.post("/api/mitra/auth/login", json=login)).status_code == 401
    rows = (await internal.get("/internal/mitras", headers=operator.headers)).json()["rows"]
    assert rows[0]["is_active"] is False

    r = await internal.patch(url, json={"is_active": True}, headers=operator.headers)
    assert r.status_code == 200 and r.json()["is_active"] is True
    assert (await public.post("/api/mitra/auth/login", json=login)).status_code == 200

    # An empty patch changes nothing.
    r = await internal.patch(url, json={}, headers=operator.headers)
    assert r.status_code == 200 and r.json()["display_name"] == "Baru"


async def test_patch_validation_and_unknown_ids(internal: httpx.AsyncClient, runtime: Runtime) -> None:
    operator = await make_operator(runtime)
    mitra = await make_mitra(runtime)
    h = operator.headers
    r = await internal.patch(f"/internal/mitras/{uuid.uuid4()}", json={"is_active": False}, headers=h)
    assert r.status_code == 404 and r.json()["error"] == "mitra_not_found"
    r = await internal.patch("/internal/mitras/not-a-uuid", json={"is_active": False}, headers=h)
    assert r.status_code == 400 and r.json()["error"] == "validation_error"
    for body in ({"password": "short"}, {"display_name": ""}, {"is_active": "maybe"}):
        r = await internal.patch(f"/internal/mitras/{mitra.id}", json=body, headers=h)
        assert r.status_code == 400, body
        assert r.json()["error"] == "validation_error"


async def test_active_sessions_and_capacity_are_live(internal: httpx.AsyncClient, runtime: Runtime) -> None:
    operator = await make_operator(runtime)
    mitra = await make_mitra(runtime)
    await _active_chat(runtime, await make_customer(runtime), mitra)
    await _active_chat(runtime, await make_customer(runtime), mitra)
    # Presence keeps the counters (rebuilt from chat_sessions when missing); the chat service writes them.
    await runtime.presence.rebuild_counters()
    r = await internal.patch(
        "/internal/config/max_customers_per_mitra", json={"value": 5}, headers=operator.headers
    )
    assert r.status_code == 200
    rows = (await internal.get("/internal/mitras", headers=operator.headers)).json()["rows"]
    assert rows[0]["active_sessions"] == 2
    assert rows[0]["capacity"] == 5
    assert rows[0]["online"] is False


async def test_online_is_live_and_deactivation_takes_the_mitra_offline(
    internal: httpx.AsyncClient, public: httpx.AsyncClient, runtime: Runtime
) -> None:
    operator = await make_operator(runtime)
    ana = await make_mitra(runtime, "Ana")
    budi = await make_mitra(runtime, "Budi")
    for mitra in (ana, budi):
        await runtime.presence.register_connection(mitra.id, f"sock-{mitra.id}")
        r = await public.post("/api/mitra/status", json={"online": True}, headers=mitra.headers)
        assert r.status_code == 200
    await runtime.presence.set_active_count(budi.id, 1)

    rows = {
        r["display_name"]: r
        for r in (await internal.get("/internal/mitras", headers=operator.headers)).json()["rows"]
    }
    assert rows["Ana"]["online"] is True and rows["Ana"]["active_sessions"] == 0
    assert rows["Budi"]["online"] is True and rows["Budi"]["active_sessions"] == 1
    assert (await internal.get("/internal/stats", headers=operator.headers)).json()["online_mitras"] == 2

    r = await internal.patch(
        f"/internal/mitras/{ana.id}", json={"is_active": False}, headers=operator.headers
    )
    assert r.status_code == 200 and r.json()["online"] is False
    assert not await runtime.presence.is_online(ana.id)
    assert await runtime.presence.is_online(budi.id)
    rows = {
        r["display_name"]: r
        for r in (await internal.get("/internal/mitras", headers=operator.headers)).json()["rows"]
    }
    assert rows["Ana"]["online"] is False and rows["Budi"]["online"] is True
    assert (await internal.get("/internal/stats", headers=operator.headers)).json()["online_mitras"] == 1
    # Still connected, but may not come back online until reactivated.
    r = await public.post("/api/mitra/status", json={"online": True}, headers=ana.headers)
    assert r.status_code == 403
    r = await internal.patch(f"/internal/mitras/{ana.id}", json={"is_active": True}, headers=operator.headers)
    assert r.status_code == 200 and r.json()["online"] is False
    r = await public.post("/api/mitra/status", json={"online": True}, headers=ana.headers)
    assert r.status_code == 200
    assert (await internal.get("/internal/stats", headers=operator.headers)).json()["online_mitras"] == 2


@pytest.mark.parametrize("query", ["limit=0", "limit=201", "offset=-1", "limit=abc"])
async def test_bad_paging_is_400(internal: httpx.AsyncClient, runtime: Runtime, query: str) -> None:
    operator = await make_operator(runtime)
    r = await internal.get(f"/internal/mitras?{query}", headers=operator.headers)
    assert r.status_code == 400 and r.json()["error"] == "validation_error"


async def test_only_operators(internal: httpx.AsyncClient, runtime: Runtime) -> None:
    customer = await make_customer(runtime)
    mitra = await make_mitra(runtime)
    body = {"phone": "081255550009", "display_name": "A", "password": "rahasia-123"}
    for headers in (customer.headers, mitra.headers, {}):
        assert (await internal.get("/internal/mitras", headers=headers)).status_code == 401
        assert (await internal.post("/internal/mitras", json=body, headers=headers)).status_code == 401
        r = await internal.patch(f"/internal/mitras/{mitra.id}", json={"is_active": False}, headers=headers)
        assert r.status_code == 401
    operator = await make_operator(runtime)
    rows = (await internal.get("/internal/mitras", headers=operator.headers)).json()["rows"]
    assert rows[0]["is_active"] is True and rows[0]["phone"] == mitra.phone
