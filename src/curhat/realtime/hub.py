"""This process's WebSocket connections, indexed by recipient; delivery never blocks."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

SEND_QUEUE_LIMIT = 256
CLOSE_TOO_SLOW = 4429  # the client did not drain its queue (see realtime.protocol for all codes)


@dataclass(eq=False)
class Connection:
    """One socket. Frames wait in a bounded queue; a client too slow to drain it is dropped."""

    key: str  # Recipient.channel_key, e.g. "mitra:<uuid>"
    id: str
    queue: asyncio.Queue[str | None] = field(default_factory=lambda: asyncio.Queue(SEND_QUEUE_LIMIT))
    overflowed: bool = False
    # monotonic time of the last frame received from the client (the server heartbeat reads it)
    last_seen: float = field(default_factory=time.monotonic)
    # set once the socket must close; the writer sends this code and stops
    close_code: int | None = None

    def offer(self, frame: str) -> None:
        if self.close_code is not None:
            return
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            self.overflowed = True
            log.warning("dropping slow websocket %s", self.id)
            self.close(CLOSE_TOO_SLOW)

    def close(self, code: int) -> None:
        """Ask the writer to close the socket with ``code``; pending frames are dropped."""
        if self.close_code is not None:
            return
        self.close_code = code
        # Make room for the close sentinel so the writer wakes up and closes.
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(None)


ConnectionHook = Callable[[Connection], Awaitable[None]]


class Hub:
    """Other parts (presence) learn of sockets through the open/close hooks; the hub calls nobody."""

    def __init__(self) -> None:
        self._by_key: dict[str, set[Connection]] = defaultdict(set)
        self._on_open: list[ConnectionHook] = []
        self._on_close: list[ConnectionHook] = []
        self.delivered = 0

    def on_open(self, hook: ConnectionHook) -> None:
        """Awaited before a socket is accepted; a hook that raises refuses the socket."""
        self._on_open.append(hook)

    def on_close(self, hook: ConnectionHook) -> None:
        """Awaited after a socket closed; failures are logged (presence's reaper repairs them)."""
        self._on_close.append(hook)

    async def open(self, conn: Connection) -> None:
        try:
            for hook in self._on_open:
                await hook(conn)
        except BaseException:
            await self._run_close_hooks(conn)  # undo what the hooks that ran did
            raise
        self.add(conn)

    async def close(self, conn: Connection) -> None:
        self.remove(conn)
        await self._run_close_hooks(conn)

    async def _run_close_hooks(self, conn: Connection) -> None:
        for hook in self._on_close:
            try:
                await hook(conn)
            except Exception:
                log.warning("socket close hook failed for %s", conn.id, exc_info=True)

    def add(self, conn: Connection) -> None:
        self._by_key[conn.key].add(conn)

    def remove(self, conn: Connection) -> None:
        conns = self._by_key.get(conn.key)
        if conns is not None:
            conns.discard(conn)
            if not conns:
                del self._by_key[conn.key]

    def has(self, key: str) -> bool:
        return bool(self._by_key.get(key))

    def connections(self, key: str) -> set[Connection]:
        return set(self._by_key.get(key, ()))

    def deliver(self, keys: Iterable[str], frame: str) -> None:
        for key in keys:
            for conn in self._by_key.get(key, ()):
                conn.offer(frame)
                self.delivered += 1

    def broadcast(self, role_prefix: str, frame: str) -> None:
        for key, conns in self._by_key.items():
            if key.startswith(role_prefix):
                for conn in conns:
                    conn.offer(frame)

    def with_prefix(self, role_prefix: str) -> list[Connection]:
        """This process's connections whose key starts with ``role_prefix`` (e.g. ``"mitra:"``)."""
        return [c for key, conns in self._by_key.items() if key.startswith(role_prefix) for c in conns]

    def close_idle(self, max_idle: float, code: int) -> int:
        """Close every connection silent for longer than ``max_idle`` seconds; how many."""
        cutoff = time.monotonic() - max_idle
        idle = [c for conns in self._by_key.values() for c in conns if c.last_seen < cutoff]
        for conn in idle:
            conn.close(code)
        return len(idle)

    async def close_idle_forever(self, max_idle: float, code: int, *, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            self.close_idle(max_idle, code)

    def __len__(self) -> int:
        return sum(len(c) for c in self._by_key.values())
