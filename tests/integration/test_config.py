import asyncio

import httpx

from curhat.config import Settings
from curhat.runtime import Runtime
from tests.fixtures.app import RuntimeFactory
from tests.fixtures.factories import make_operator


async def test_config_list_has_every_key_with_copy(internal: httpx.AsyncClient, runtime: Runtime) -> None:
    operator = await make_operator(runtime)
    rows = (await internal.get("/internal/config", headers=operator.headers)).json()["rows"]
    by_key = {r["key"]: r for r in rows}
    assert by_key["extension_default_action_on_timeout"]["choices"] == ["auto_approve", "auto_reject"]
    assert by_key["extension_timeout_seconds"]["value"] == 10
    assert by_key["pairing_blast_timeout_seconds"]["min"] == 10
    assert all(r["label"] and r["description"] for r in rows)
    assert len(rows) == 8


async def test_patch_validates_and_records_operator(internal: httpx.AsyncClient, runtime: Runtime) -> None:
    operator = await make_operator(runtime)
    h = operator.headers
    r = await internal.patch("/internal/config/max_customers_per_mitra", json={"value": 11}, headers=h)
    assert r.status_code == 400 and r.json()["fields"][0]["field"] == "value"
    r = await internal.patch("/internal/config/max_customers_per_mitra", json={"value": "lots"}, headers=h)
    assert r.status_code == 400
    r = await internal.patch("/internal/config/nope", json={"value": 1}, headers=h)
    assert r.status_code == 404
    r = await internal.patch("/internal/config/max_customers_per_mitra", json={"value": 5}, headers=h)
    assert r.status_code == 200
    assert r.json()["value"] == 5 and r.json()["updated_by"] == str(operator.id)
    assert (await runtime.config.get()).max_customers_per_mitra == 5


async def test_invalidation_reaches_a_second_instance_through_valkey(
    internal: httpx.AsyncClient, runtime: Runtime, settings: Settings, start_runtime: RuntimeFactory
) -> None:
    operator = await make_operator(runtime)
    async with start_runtime(settings) as other:
        before = await other.config.get()
        assert before.pairing_blast_timeout_seconds == 60
        reloaded = asyncio.Event()
        other.config.on_change(lambda snap: reloaded.set())
        r = await internal.patch(
            "/internal/config/pairing_blast_timeout_seconds", json={"value": 90}, headers=operator.headers
        )
        assert r.status_code == 200
        await asyncio.wait_for(reloaded.wait(), 5)
        # The other instance's cached copy changed without waiting for the 10 s expiry.
        assert other.config.is_fresh()
        cached = other.config.cached
        assert cached is not None and cached.pairing_blast_timeout_seconds == 90
