"""GET /api/client/mitra-availability: memory only, kept current across instances, safe without Valkey."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from curhat.app import create_public_app
from curhat.runtime import Runtime, running, start_presence
from curhat.valkey import create_client
from tests.fixtures.app import RuntimeFactory, client_for
from tests.fixtures.factories import make_customer, make_mitra
from tests.fixtures.ws import ServeFactory, WsClient, eventually


async def _online(runtime: Runtime, mitra_id: uuid.UUID, conn_id: str = "c1") -> None:
    await runtime.presence.register_connection(mitra_id, conn_id)
    assert await runtime.presence.set_online(mitra_id)


async def test_answer_follows_presence(public: httpx.AsyncClient, runtime: Runtime) -> None:
    customer = await make_customer(runtime)
    r = await public.get("/api/client/mitra-availability", headers=customer.headers)
    assert r.status_code == 200 and r.json() == {"available": False, "count": 0}
    mitras = [uuid.uuid4() for _ in range(2)]
    for m in mitras:
        await _online(runtime, m)
    r = await public.get("/api/client/mitra-availability", headers=customer.headers)
    assert r.json() == {"available": True, "count": 2}
    assert r.headers["content-type"] == "application/json"
    for m in mitras:
        await runtime.presence.set_active_count(m, 3)
    r = await public.get("/api/client/mitra-availability", headers=customer.headers)
    assert r.json() == {"available": False, "count": 0}


async def test_customers_only(public: httpx.AsyncClient, runtime: Runtime) -> None:
    mitra = await make_mitra(runtime)
    assert (await public.get("/api/client/mitra-availability")).status_code == 401
    r = await public.get("/api/client/mitra-availability", headers=mitra.headers)
    assert r.status_code == 401 and r.json()["error"] == "wrong_role"


@pytest.fixture
async def quiet_runtime(settings: object) -> AsyncIterator[Runtime]:
    """Presence only: no deadline poller or other domain loop issuing statements in the background."""
    async with running(settings) as rt:  # type: ignore[arg-type]
        await start_presence(rt, (await rt.config.get()).max_customers_per_mitra)
        yield rt


async def test_no_postgres_statement_on_the_availability_path(quiet_runtime: Runtime) -> None:
    rt = quiet_runtime
    customer = await make_customer(rt)
    await _online(rt, uuid.uuid4())
    async with client_for(create_public_app(rt), "http://public.test") as client:
        await client.get("/api/client/mitra-availability", headers=customer.headers)
        before = rt.db.statements
        for _ in range(100):
            r = await client.get("/api/client/mitra-availability", headers=customer.headers)
            assert r.json() == {"available": True, "count": 1}
        assert rt.db.statements == before


class _NoValkey:
    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"Valkey used on the availability path: {name}")


async def test_no_valkey_round_trip_either(settings: object) -> None:
    """With presence's Valkey client replaced by one that fails on use, the answer still comes."""
    async with running(settings) as rt:  # type: ignore[arg-type]
        rt.presence.backstop_seconds = 3600  # keep the backstop from noticing the swap
        await start_presence(rt, (await rt.config.get()).max_customers_per_mitra)
        customer = await make_customer(rt)
        await _online(rt, uuid.uuid4())
        real = rt.presence._valkey
        rt.presence._valkey = _NoValkey()  # type: ignore[assignment]
        try:
            async with client_for(create_public_app(rt), "http://public.test") as client:
                for _ in range(20):
                    r = await client.get("/api/client/mitra-availability", headers=customer.headers)
                    assert r.json() == {"available": True, "count": 1}
        finally:
            rt.presence._valkey = real


async def test_valkey_down_answers_unavailable_not_500(public: httpx.AsyncClient, runtime: Runtime) -> None:
    customer = await make_customer(runtime)
    await _online(runtime, uuid.uuid4())
    p = runtime.presence
    real = p._valkey
    p._valkey = create_client("redis://127.0.0.1:1/0")  # what the backstop sees when Valkey is down
    try:
        await p.backstop_once()
        r = await public.get("/api/client/mitra-availability", headers=customer.headers)
        assert r.status_code == 200 and r.json() == {"available": False, "count": 0}
    finally:
        await p._vk.aclose()
        p._valkey = real
    await p.backstop_once()  # Valkey back: the answer comes back
    r = await public.get("/api/client/mitra-availability", headers=customer.headers)
    assert r.json() == {"available": True, "count": 1}


async def test_every_instance_follows_and_pushes_to_its_customers(
    runtime: Runtime, start_runtime: RuntimeFactory, serve: ServeFactory
) -> None:
    customer = await make_customer(runtime)
    async with start_runtime(runtime.settings) as b, serve(b) as on_b:
        cws = await WsClient.open(on_b.ws_url, customer.token)
        await cws.ping()
        mitra = uuid.uuid4()
        await _online(runtime, mitra)  # the change happens on A
        assert (await cws.expect("MITRA_AVAILABILITY"))["data"] == {"available": True, "count": 1}
        assert b.presence.availability() == (True, 1)
        async with client_for(create_public_app(b), "http://b.test") as client:
            r = await client.get("/api/client/mitra-availability", headers=customer.headers)
            assert r.json() == {"available": True, "count": 1}
        await runtime.presence.set_active_count(mitra, 3)
        assert (await cws.expect("MITRA_AVAILABILITY"))["data"] == {"available": False, "count": 0}

        async def b_follows() -> bool:
            return b.presence.availability() == (False, 0)

        await eventually(b_follows)
        await cws.close()
