"""Pure pieces of presence and the socket protocol."""

from __future__ import annotations

import asyncio
from typing import Literal

import pytest

from curhat.presence.service import PresenceTimings
from curhat.realtime import protocol
from curhat.realtime.commands import CommandRegistry
from curhat.realtime.connection import FloodGuard
from curhat.realtime.events import ChatSend, ClientCommand, Ping
from curhat.realtime.hub import SEND_QUEUE_LIMIT, Connection, Hub


@pytest.mark.parametrize("ttl", [1, 3, 30, 120])
def test_timings_take_a_vanished_socket_offline_within_the_ttl(ttl: int) -> None:
    t = PresenceTimings(ttl)
    # Worst case: the instance died just after refreshing; reaped at the first tick past stale_after.
    assert t.stale_after + t.reap <= ttl
    # A live instance refreshes well before its sockets look stale.
    assert t.refresh * 2 <= t.stale_after


def test_flood_guard_allows_a_burst_then_the_rate() -> None:
    # A fixed clock: with the real monotonic clock, (now + 0.1 - now) * 10 rounds below 1 on
    # machines whose uptime falls in some ranges, and the refilled token would be missing.
    guard = FloodGuard(rate=10, burst=5, start=0.0)
    assert all(guard.allow(0.0) for _ in range(5))
    assert not guard.allow(0.0)
    assert guard.allow(0.125)  # one token refilled (0.125 is exact in binary)
    assert not guard.allow(0.125)


async def test_slow_consumer_overflow_closes_only_that_connection() -> None:
    hub = Hub()
    slow, fine = Connection(key="customer:a", id="slow"), Connection(key="customer:b", id="fine")
    hub.add(slow)
    hub.add(fine)
    for i in range(SEND_QUEUE_LIMIT + 1):
        hub.deliver(["customer:a"], f"frame {i}")
    assert slow.overflowed and slow.close_code == 4429
    assert slow.queue.get_nowait() is None  # the writer wakes up to close
    hub.deliver(["customer:b"], "hello")
    assert fine.queue.get_nowait() == "hello" and fine.close_code is None
    await asyncio.sleep(0)


def test_broadcast_reaches_one_role() -> None:
    hub = Hub()
    c, m = Connection(key="customer:a", id="1"), Connection(key="mitra:b", id="2")
    hub.add(c)
    hub.add(m)
    frame = protocol.availability_event(True, 2).frame()
    hub.broadcast("customer:", frame)
    assert c.queue.qsize() == 1 and m.queue.qsize() == 0
    assert '"data":{"available":true,"count":2}' in frame
    assert hub.with_prefix("mitra:") == [m]


def test_close_idle() -> None:
    hub = Hub()
    old, new = Connection(key="customer:a", id="1"), Connection(key="customer:a", id="2")
    old.last_seen -= 100
    hub.add(old)
    hub.add(new)
    assert hub.close_idle(30, protocol.CLOSE_IDLE) == 1
    assert old.close_code == protocol.CLOSE_IDLE and new.close_code is None


class MitraOnly(ClientCommand):
    type: Literal["mitra.only"] = "mitra.only"


def test_command_registry() -> None:
    registry = CommandRegistry()

    async def handler(principal: object, frame: object) -> None:
        return None

    registry.register(ChatSend, handler)
    registry.register(MitraOnly, handler, roles=("mitra",))
    assert registry.get("chat.send", "customer") is not None
    assert registry.get("mitra.only", "customer") is None
    assert registry.get("mitra.only", "mitra") is not None
    assert registry.get("nope", "mitra") is None
    with pytest.raises(ValueError):
        registry.register(ChatSend, handler)
    with pytest.raises(ValueError):
        registry.register(Ping, handler)
