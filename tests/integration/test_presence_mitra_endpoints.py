"""POST /api/mitra/status and GET /api/mitra/me."""

from __future__ import annotations

import httpx

from curhat.runtime import Runtime
from tests.fixtures.factories import make_customer, make_mitra


async def test_status_and_me(public: httpx.AsyncClient, runtime: Runtime) -> None:
    mitra = await make_mitra(runtime, "Bestie Satu")
    h = mitra.headers
    r = await public.post("/api/mitra/status", json={"online": True}, headers=h)
    assert r.status_code == 409
    assert r.json()["error"] == "not_connected"
    me = (await public.get("/api/mitra/me", headers=h)).json()
    assert me == {
        "id": str(mitra.id),
        "phone": mitra.phone,
        "display_name": "Bestie Satu",
        "online": False,
        "active_sessions": 0,
        "capacity": 3,
    }
    await runtime.presence.register_connection(mitra.id, "sock")
    r = await public.post("/api/mitra/status", json={"online": True}, headers=h)
    assert r.status_code == 200 and r.json() == {"online": True}
    await runtime.presence.set_active_count(mitra.id, 2)
    me = (await public.get("/api/mitra/me", headers=h)).json()
    assert me["online"] is True and me["active_sessions"] == 2 and me["capacity"] == 3
    r = await public.post("/api/mitra/status", json={"online": False}, headers=h)
    assert r.status_code == 200 and r.json() == {"online": False}
    assert (await public.get("/api/mitra/me", headers=h)).json()["online"] is False


async def test_status_validation_and_roles(public: httpx.AsyncClient, runtime: Runtime) -> None:
    mitra = await make_mitra(runtime)
    customer = await make_customer(runtime)
    r = await public.post("/api/mitra/status", json={"online": "maybe"}, headers=mitra.headers)
    assert r.status_code == 400 and r.json()["error"] == "validation_error"
    r = await public.post("/api/mitra/status", json={"online": True}, headers=customer.headers)
    assert r.status_code == 401
    assert (await public.get("/api/mitra/me", headers=customer.headers)).status_code == 401
    assert (await public.get("/api/mitra/me")).status_code == 401


async def test_deactivated_mitra_cannot_go_online(public: httpx.AsyncClient, runtime: Runtime) -> None:
    from curhat.models import Mitra

    mitra = await make_mitra(runtime)
    async with runtime.transaction() as session:
        row = await session.get(Mitra, mitra.id)
        assert row is not None
        row.is_active = False
    await runtime.presence.register_connection(mitra.id, "sock")
    r = await public.post("/api/mitra/status", json={"online": True}, headers=mitra.headers)
    assert r.status_code == 403 and r.json()["error"] == "mitra_inactive"
    assert not await runtime.presence.is_online(mitra.id)
