"""/internal/price-tiers: list (inactive included), add, edit, deactivate."""

from __future__ import annotations

import uuid

import httpx
import pytest

from curhat.runtime import Runtime
from tests.fixtures.factories import make_customer, make_operator
from tests.integration.test_payments_support import count

URL = "/internal/price-tiers"


async def test_list_create_patch_and_the_customer_sees_it(
    internal: httpx.AsyncClient, public: httpx.AsyncClient, runtime: Runtime
) -> None:
    operator, customer = await make_operator(runtime), await make_customer(runtime)
    h = operator.headers
    rows = (await internal.get(URL, headers=h)).json()["rows"]
    assert [(r["duration_minutes"], r["amount"], r["is_active"]) for r in rows] == [
        (15, 15000, True),
        (30, 25000, True),
        (60, 45000, True),
    ]
    assert set(rows[0]) == {"id", "duration_minutes", "amount", "is_active", "sort_order", "created_at"}

    r = await internal.post(URL, json={"duration_minutes": 45, "amount": 35000, "sort_order": 3}, headers=h)
    assert r.status_code == 201, r.text
    new = r.json()
    assert new["is_active"] is True and new["sort_order"] == 3
    r = await internal.patch(f"{URL}/{new['id']}", json={"amount": 37000, "sort_order": 2}, headers=h)
    assert r.status_code == 200 and (r.json()["amount"], r.json()["sort_order"]) == (37000, 2)
    tiers = (await public.get("/api/client/pricing", headers=customer.headers)).json()["tiers"]
    assert [(t["duration_minutes"], t["amount"]) for t in tiers] == [
        (15, 0),
        (30, 25000),
        (45, 37000),
        (60, 45000),
    ]

    thirty = next(row for row in rows if row["duration_minutes"] == 30)
    r = await internal.patch(f"{URL}/{thirty['id']}", json={"is_active": False}, headers=h)
    assert r.status_code == 200 and r.json()["is_active"] is False
    listed = (await internal.get(URL, headers=h)).json()["rows"]
    assert len(listed) == 4 and any(not row["is_active"] for row in listed)
    tiers = (await public.get("/api/client/pricing", headers=customer.headers)).json()["tiers"]
    assert 30 not in [t["duration_minutes"] for t in tiers]
    r = await public.post(
        "/api/client/payment-sessions", json={"duration_minutes": 30}, headers=customer.headers
    )
    assert r.status_code == 400


async def test_one_active_tier_per_duration(internal: httpx.AsyncClient, runtime: Runtime) -> None:
    h = (await make_operator(runtime)).headers
    r = await internal.post(URL, json={"duration_minutes": 30, "amount": 1}, headers=h)
    assert r.status_code == 409 and r.json()["error"] == "tier_duration_taken"
    rows = (await internal.get(URL, headers=h)).json()["rows"]
    old = next(row for row in rows if row["duration_minutes"] == 30)
    assert (
        await internal.patch(f"{URL}/{old['id']}", json={"is_active": False}, headers=h)
    ).status_code == 200
    r = await internal.post(URL, json={"duration_minutes": 30, "amount": 27000}, headers=h)
    assert r.status_code == 201 and r.json()["sort_order"] == 30
    r = await internal.patch(f"{URL}/{old['id']}", json={"is_active": True}, headers=h)
    assert r.status_code == 409 and r.json()["error"] == "tier_duration_taken"
    # The refused re-activation changed nothing, and the request's transaction stayed usable.
    rows = (await internal.get(URL, headers=h)).json()["rows"]
    assert [row["is_active"] for row in rows if row["id"] == old["id"]] == [False]
    assert await count(runtime, "price_tiers") == 4


@pytest.mark.parametrize(
    "body",
    [
        {"duration_minutes": 0, "amount": 1000},
        {"duration_minutes": 601, "amount": 1000},
        {"duration_minutes": 20, "amount": -1},
        {"duration_minutes": 20, "amount": 100_000_001},
        {"duration_minutes": 20, "amount": 10**40},
        {"duration_minutes": 20},
        {"duration_minutes": "20x", "amount": 1000},
        {"duration_minutes": 20, "amount": 1000, "is_active": False},
        {"duration_minutes": 20, "amount": 1000, "sort_order": 10**12},
    ],
)
async def test_bad_create_bodies(
    internal: httpx.AsyncClient, runtime: Runtime, body: dict[str, object]
) -> None:
    h = (await make_operator(runtime)).headers
    r = await internal.post(URL, json=body, headers=h)
    assert r.status_code == 400 and r.json()["error"] == "validation_error", r.text
    assert await count(runtime, "price_tiers") == 3


async def test_patch_refusals(internal: httpx.AsyncClient, runtime: Runtime) -> None:
    operator, customer = await make_operator(runtime), await make_customer(runtime)
    tier = (await internal.get(URL, headers=operator.headers)).json()["rows"][0]
    r = await internal.patch(f"{URL}/{uuid.uuid4()}", json={"amount": 1}, headers=operator.headers)
    assert r.status_code == 404 and r.json()["error"] == "price_tier_not_found"
    for body in ({"amount": -5}, {"amount": 100_000_001}, {"duration_minutes": 10}, {"is_active": "nah"}):
        r = await internal.patch(f"{URL}/{tier['id']}", json=body, headers=operator.headers)
        assert r.status_code == 400, body
    r = await internal.patch(f"{URL}/{tier['id']}", json={}, headers=operator.headers)
    assert r.status_code == 200 and r.json() == tier
    assert (await internal.get(URL, headers=customer.headers)).status_code == 401
    assert (
        await internal.post(URL, json={"duration_minutes": 20, "amount": 1}, headers=customer.headers)
    ).status_code == 401
    assert (await internal.patch(f"{URL}/{tier['id']}", json={"amount": 1})).status_code == 401
    assert (await internal.get(URL, headers=operator.headers)).json()["rows"][0] == tier
