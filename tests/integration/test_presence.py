"""Presence in Valkey: the online rule, vanished sockets, counters, capacity, prefix isolation."""

from __future__ import annotations

import time
import uuid

import httpx

from curhat.realtime.hub import Connection
from curhat.runtime import Runtime
from tests.fixtures.app import RuntimeFactory
from tests.fixtures.factories import make_chat, make_customer, make_mitra, make_operator
from tests.fixtures.ws import eventually


async def _online(runtime: Runtime, mitra_id: uuid.UUID, conn_id: str = "c1") -> None:
    await runtime.presence.register_connection(mitra_id, conn_id)
    assert await runtime.presence.set_online(mitra_id)


async def test_online_needs_the_wish_and_a_live_socket(runtime: Runtime) -> None:
    p = runtime.presence
    mitra = uuid.uuid4()
    assert not await p.set_online(mitra)  # no socket: refused, nothing changes
    assert not await p.is_online(mitra)
    await p.register_connection(mitra, "a")
    assert await p.has_live_socket(mitra) and not await p.is_online(mitra)
    assert await p.set_online(mitra)
    assert await p.is_online(mitra)
    assert p.availability() == (True, 1)
    assert await p.online_mitras_below_capacity() == [mitra]
    assert await p.online_count() == 1
    # A second socket; closing one keeps the mitra online.
    await p.register_connection(mitra, "b")
    await p.unregister_connection(mitra, "a")
    assert await p.is_online(mitra)
    await p.unregister_connection(mitra, "b")
    assert not await p.is_online(mitra) and not await p.has_live_socket(mitra)
    assert p.availability() == (False, 0)
    # The wish went with the last socket.
    await p.register_connection(mitra, "c")
    assert not await p.is_online(mitra)


async def test_going_offline_clears_the_wish(runtime: Runtime) -> None:
    p = runtime.presence
    mitra = uuid.uuid4()
    await _online(runtime, mitra)
    await p.set_offline(mitra)
    assert not await p.is_online(mitra) and await p.has_live_socket(mitra)
    await p.register_connection(mitra, "c2")  # another socket does not bring them back
    assert not await p.is_online(mitra)
    assert p.availability() == (False, 0)


async def test_vanished_socket_goes_offline_within_the_ttl(
    runtime: Runtime, start_runtime: RuntimeFactory
) -> None:
    """A socket registered by an instance that then died (no goodbye, no more heartbeats)."""
    ttl = 2
    async with start_runtime(runtime.settings.model_copy(update={"presence_ttl_seconds": ttl})) as rt:
        p = rt.presence
        dead, alive = uuid.uuid4(), uuid.uuid4()
        await _online(rt, dead, "on-a-dead-instance")
        # A socket this instance holds is kept alive by its heartbeats.
        conn = Connection(key=f"mitra:{alive}", id="held-here")
        await rt.hub.open(conn)  # presence learns of it through the hub's open hook
        assert await p.set_online(alive)
        started = time.monotonic()

        async def dead_is_offline() -> bool:
            conn.last_seen = time.monotonic()  # the client keeps talking
            return not await p.is_online(dead)

        await eventually(dead_is_offline, timeout=ttl + 2)
        assert time.monotonic() - started <= ttl + 0.5
        assert await p.is_online(alive)
        assert p.availability() == (True, 1)
        assert not await p.has_live_socket(dead)


async def test_availability_flips_when_the_last_slot_fills(runtime: Runtime) -> None:
    p = runtime.presence
    cap = p.capacity
    assert cap == 3
    freed: list[uuid.UUID] = []

    async def on_available(mitra_id: uuid.UUID) -> None:
        freed.append(mitra_id)

    p.on_mitra_available(on_available)
    mitra = uuid.uuid4()
    await _online(runtime, mitra)
    assert freed == [mitra]  # came online
    await p.set_active_count(mitra, cap - 1)
    assert p.availability() == (True, 1)
    await p.set_active_count(mitra, cap)
    assert p.availability() == (False, 0)
    assert await p.online_mitras_below_capacity() == []
    assert await p.is_online(mitra)  # still online, only full
    assert await p.active_count(mitra) == cap
    await p.set_active_count(mitra, cap - 1)
    assert p.availability() == (True, 1)
    assert freed == [mitra, mitra]  # freed a slot
    await p.set_active_count(mitra, 0)
    assert freed == [mitra, mitra]  # was already available
    assert await p.active_count(mitra) == 0


async def test_capacity_change_in_the_control_center_is_reflected(
    runtime: Runtime, internal: httpx.AsyncClient
) -> None:
    p = runtime.presence
    operator = await make_operator(runtime)
    mitra = uuid.uuid4()
    await _online(runtime, mitra)
    await p.set_active_count(mitra, 3)
    assert p.availability() == (False, 0)
    freed: list[uuid.UUID] = []

    async def on_available(mitra_id: uuid.UUID) -> None:
        freed.append(mitra_id)

    p.on_mitra_available(on_available)
    r = await internal.patch(
        "/internal/config/max_customers_per_mitra", json={"value": 4}, headers=operator.headers
    )
    assert r.status_code == 200

    async def available() -> bool:
        return p.availability() == (True, 1)

    await eventually(available)
    assert p.capacity == 4
    assert await p.online_mitras_below_capacity() == [mitra]
    await eventually(lambda: _true(freed == [mitra]))
    r = await internal.patch(
        "/internal/config/max_customers_per_mitra", json={"value": 2}, headers=operator.headers
    )
    assert r.status_code == 200

    async def unavailable() -> bool:
        return p.availability() == (False, 0)

    await eventually(unavailable)


async def _true(value: bool) -> bool:
    return value


async def _active_chat(runtime: Runtime, mitra_id: uuid.UUID, status: str = "active") -> None:
    customer = await make_customer(runtime)
    await make_chat(runtime, customer.id, mitra_id, ended=status == "ended", minutes=15)


async def test_counters_are_rebuilt_from_postgres_when_missing(runtime: Runtime) -> None:
    p = runtime.presence
    mitra = await make_mitra(runtime)
    other = await make_mitra(runtime)
    for _ in range(3):
        await _active_chat(runtime, mitra.id)
    await _active_chat(runtime, other.id)
    await _active_chat(runtime, other.id, status="ended")
    await _online(runtime, mitra.id)
    assert p.availability() == (True, 1)  # the counters have not been told yet
    # Valkey loses the counters (e.g. restarted empty): the first read rebuilds them.
    await runtime.valkey.delete(runtime.keys.active_counts, runtime.keys.counters_built)
    assert await p.active_count(mitra.id) == 3
    assert await p.active_count(other.id) == 1
    assert p.availability() == (False, 0)  # rebuilding also recomputed availability
    # And the backstop notices on its own.
    await runtime.valkey.delete(runtime.keys.active_counts, runtime.keys.counters_built)
    await p.backstop_once()
    assert await runtime.valkey.hget(runtime.keys.active_counts, str(mitra.id)) == "3"  # type: ignore[misc]


async def test_counters_rebuilt_at_start_up(runtime: Runtime, start_runtime: RuntimeFactory) -> None:
    mitra = await make_mitra(runtime)
    await _active_chat(runtime, mitra.id)
    await _active_chat(runtime, mitra.id)
    settings = runtime.settings.model_copy(update={"valkey_prefix": f"t{uuid.uuid4().hex[:12]}:"})
    async with start_runtime(settings) as fresh:
        key = fresh.keys.active_counts
        assert await fresh.valkey.hget(key, str(mitra.id)) == "2"  # type: ignore[misc]


async def test_valkey_keys_are_isolated_by_prefix(runtime: Runtime, start_runtime: RuntimeFactory) -> None:
    mitra = uuid.uuid4()
    await _online(runtime, mitra)
    settings = runtime.settings.model_copy(update={"valkey_prefix": f"t{uuid.uuid4().hex[:12]}:"})
    async with start_runtime(settings) as other:
        assert not await other.presence.is_online(mitra)
        assert other.presence.availability() == (False, 0)
        assert runtime.presence.availability() == (True, 1)
        mine = [k async for k in runtime.valkey.scan_iter(match=f"{runtime.settings.valkey_prefix}*")]
        theirs = [k async for k in other.valkey.scan_iter(match=f"{settings.valkey_prefix}*")]
        assert runtime.keys.connections(mitra) in mine
        assert not set(mine) & set(theirs)
        assert all(not k.endswith(str(mitra)) for k in theirs)
