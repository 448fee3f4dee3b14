"""This process's WebSocket connections, indexed by recipient; delivery never blocks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Iterable
from typing import Protocol

log = logging.getLogger(__name__)

SEND_QUEUE_LIMIT = 256
CLOSE_TOO_SLOW = 4429  # the client did not drain its queue (see realtime.protocol for all codes)


class Socket(Protocol):
    """Where a connection's frames go (Starlette's ``WebSocket`` is one)."""

    async def send_text(self, data: str) -> None: ...

    async def close(self, code: int = 1000, reason: str | None = None) -> None: ...


class Connection:
    """One socket. Idle, it holds no task and no buffer (P6: tens of thousands sit idle).

    A frame offered while nothing is being written starts one short-lived flush task, which
    writes every frame that arrived meanwhile and ends when the buffer is empty. Frames wait
    only while a write waits on the transport (a slow reader); a client too slow to keep the
    buffer under ``SEND_QUEUE_LIMIT`` frames is dropped with ``CLOSE_TOO_SLOW``.
    """

    __slots__ = (
        "_flush",
        "_pending",
        "_socket",
        "close_code",
        "id",
        "key",
        "last_seen",
        "overflowed",
    )

    def __init__(self, key: str, id: str) -> None:
        self.key = key  # Recipient.channel_key, e.g. "mitra:<uuid>"
        self.id = id
        # monotonic time of the last frame received from the client (the server heartbeat reads it)
        self.last_seen = time.monotonic()
        # set once the socket must close; the flush sends this code after what was written
        self.close_code: int | None = None
        self.overflowed = False
        self._pending: deque[str] | None = None  # only while frames wait to be written
        self._socket: Socket | None = None
        self._flush: asyncio.Task[None] | None = None

    def attach(self, socket: Socket) -> None:
        """The socket is accepted: write what was offered before, and everything after."""
        self._socket = socket
        if self._pending or self.close_code is not None:
            self._start_flush()

    def offer(self, frame: str) -> None:
        if self.close_code is not None:
            return
        if self._pending is None:
            self._pending = deque()
        elif len(self._pending) >= SEND_QUEUE_LIMIT:
            self.overflowed = True
            log.warning("dropping slow websocket %s", self.id)
            self.close(CLOSE_TOO_SLOW)
            return
        self._pending.append(frame)
        self._start_flush()

    def pending(self) -> list[str]:
        """The frames offered and not yet written (tests and diagnostics)."""
        return list(self._pending or ())

    def close(self, code: int) -> None:
        """Close the socket with ``code``; frames not yet written are dropped."""
        if self.close_code is not None:
            return
        self.close_code = code
        self._pending = None
        self._start_flush()

    async def flushed(self, timeout: float) -> None:
        """Wait (at most ``timeout``) for the write in progress, then stop it."""
        task = self._flush
        if task is None:
            return
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.shield(task), timeout)
        if not task.done():
            task.cancel()

    def _start_flush(self) -> None:
        if self._socket is None or self._flush is not None:
            return
        self._flush = asyncio.get_running_loop().create_task(self._run_flush())

    async def _run_flush(self) -> None:
        try:
            while self._pending and self._socket is not None:
                frame = self._pending.popleft()
                await self._socket.send_text(frame)
            self._pending = None
            if self.close_code is not None and self._socket is not None:
                socket, self._socket = self._socket, None
                await socket.close(self.close_code)
        except Exception:  # the peer went away (or the app closed first); the reader sees it
            log.debug("websocket write stopped", exc_info=True)
            self._socket = None
            self._pending = None
        finally:
            self._flush = None


ConnectionHook = Callable[[Connection], Awaitable[None]]


class Hub:
    """Other parts (presence) learn of sockets through the open/close hooks; the hub calls nobody."""

    def __init__(self) -> None:
        # A list per recipient (usually one socket; a list is a quarter of a set's size).
        self._by_key: dict[str, list[Connection]] = defaultdict(list)
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
        conns = self._by_key[conn.key]
        if conn not in conns:
            conns.append(conn)

    def remove(self, conn: Connection) -> None:
        conns = self._by_key.get(conn.key)
        if conns is not None:
            if conn in conns:
                conns.remove(conn)
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
