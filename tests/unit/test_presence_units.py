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


class Socket:
    """What a Connection writes to: frames and the close code, recorded; ``stall`` blocks writes
    like a transport whose buffer is full (a client that does not read)."""

    def __init__(self) -> None:
        self.frames: list[str] = []
        self.closed: int | None = None
        self.stall = asyncio.Event()
        self.stall.set()

    async def send_text(self, frame: str) -> None:
        await self.stall.wait()
        self.frames.append(frame)

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        self.closed = code


async def test_slow_consumer_overflow_closes_only_that_connection() -> None:
    hub = Hub()
    slow, fine = Connection(key="customer:a", id="slow"), Connection(key="customer:b", id="fine")
    slow_socket, fine_socket = Socket(), Socket()
    slow_socket.stall.clear()
    slow.attach(slow_socket)
    fine.attach(fine_socket)
    hub.add(slow)
    hub.add(fine)
    hub.deliver(["customer:a"], "frame 0")
    await asyncio.sleep(0)  # the write of frame 0 is under way and stalls
    for i in range(1, SEND_QUEUE_LIMIT + 2):
        hub.deliver(["customer:a"], f"frame {i}")
    assert slow.overflowed and slow.close_code == 4429 and slow.pending() == []
    hub.deliver(["customer:b"], "hello")
    slow_socket.stall.set()  # the stalled write ends; the close follows, the rest is dropped
    await slow.flushed(5)
    await fine.flushed(5)
    assert slow_socket.frames == ["frame 0"] and slow_socket.closed == 4429
    assert fine_socket.frames == ["hello"] and fine_socket.closed is None and fine.close_code is None


async def test_an_idle_connection_holds_no_task_and_no_buffer() -> None:
    conn, socket = Connection(key="customer:a", id="1"), Socket()
    conn.offer("before the handshake")  # kept until the socket is accepted
    assert conn.pending() == ["before the handshake"]
    conn.attach(socket)
    await conn.flushed(5)
    conn.offer("one")
    conn.offer("two")
    await conn.flushed(5)
    assert socket.frames == ["before the handshake", "one", "two"]
    assert conn._flush is None and conn._pending is None
    conn.close(1000)
    await conn.flushed(5)
    assert socket.closed == 1000


def test_broadcast_reaches_one_role() -> None:
    hub = Hub()
    c, m = Connection(key="customer:a", id="1"), Connection(key="mitra:b", id="2")
    hub.add(c)
    hub.add(m)
    frame = protocol.availability_event(True, 2).frame()
    hub.broadcast("customer:", frame)
    assert c.pending() == [frame] and m.pending() == []
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
