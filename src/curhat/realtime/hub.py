"""This process's WebSocket connections, indexed by recipient; delivery never blocks."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

SEND_QUEUE_LIMIT = 256


@dataclass(eq=False)
class Connection:
    """One socket. Frames wait in a bounded queue; a client too slow to drain it is dropped."""

    key: str  # Recipient.channel_key, e.g. "mitra:<uuid>"
    id: str
    queue: asyncio.Queue[str | None] = field(default_factory=lambda: asyncio.Queue(SEND_QUEUE_LIMIT))
    overflowed: bool = False

    def offer(self, frame: str) -> None:
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            self.overflowed = True
            log.warning("dropping slow websocket %s", self.id)
            # Make room for the close sentinel so the writer wakes up and closes.
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(None)


class Hub:
    def __init__(self) -> None:
        self._by_key: dict[str, set[Connection]] = defaultdict(set)
        self.delivered = 0

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

    def __len__(self) -> int:
        return sum(len(c) for c in self._by_key.values())
