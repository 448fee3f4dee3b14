"""The WebSocket transport under uvicorn: sans-io websockets, with /ws's close codes, lean per socket.

Tens of thousands of sockets sit idle on one instance (quality.md P6), so what each one
keeps alive between frames counts: uvicorn's per-socket ``asyncio.Queue`` and ``Event``
(three and one ``deque`` blocks, ~2.5 KiB together) are replaced by single-consumer
equivalents that allocate only while something waits, the handshake's parsed request and
response are dropped once the socket is open, and the per-socket keepalive timer is off.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import CloseCode

from curhat.realtime.protocol import CLOSE_FRAME_TOO_BIG

# Above the 8 KiB protocol limit, so /ws itself sees frames up to here and closes them with
# 4400; bigger ones are refused by the transport from their header, before being read.
TRANSPORT_MAX_FRAME_BYTES = 16 * 1024


class Inbox:
    """What uvicorn uses of ``asyncio.Queue`` for one socket's ASGI receive events: one
    reader (the app), so at most one waiter, and no buffer while nothing is pending."""

    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: deque[Any] | None = None
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: Any) -> None:
        if self._items is None:
            self._items = deque()
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def empty(self) -> bool:
        return not self._items

    async def get(self) -> Any:
        while not self._items:
            waiter = self._waiter = asyncio.get_running_loop().create_future()
            try:
                await waiter
            finally:
                self._waiter = None
        item = self._items.popleft()
        if not self._items:
            self._items = None
        return item


class Writable:
    """What uvicorn uses of ``asyncio.Event`` for write flow control, without a ``deque``
    of waiters per socket: a list exists only while a write waits for the transport."""

    __slots__ = ("_set", "_waiters")

    def __init__(self) -> None:
        self._set = True
        self._waiters: list[asyncio.Future[None]] | None = None

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        self._set = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        self._set = False

    async def wait(self) -> bool:
        if self._set:
            return True
        waiter = asyncio.get_running_loop().create_future()
        if self._waiters is None:
            self._waiters = []
        self._waiters.append(waiter)
        await waiter
        return True


class WebSocketProtocol(WebSocketsSansIOProtocol):
    """A frame the transport refuses closes with the documented 4400, not websockets' 1009."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fail = self.conn.fail

        def fail_with_documented_code(code: int, reason: str = "") -> None:
            if code == CloseCode.MESSAGE_TOO_BIG:
                code, reason = CLOSE_FRAME_TOO_BIG, "frame too big"
            fail(code, reason)

        self.conn.fail = fail_with_documented_code  # type: ignore[method-assign]
        self.queue = Inbox()  # type: ignore[assignment]
        self.writable = Writable()  # type: ignore[assignment]
        # No protocol-level ping timer per socket: the hub's one loop closes every socket
        # silent for the presence TTL (4408), and clients ping at the application level.
        self.ping_interval = None

    async def send(self, message: Any) -> None:
        await super().send(message)
        if message["type"] == "websocket.accept" and self.handshake_complete:
            # The scope holds the headers the app reads; the parsed handshake is done with.
            # Emptied, not only dropped: websockets' parser generator keeps the request alive.
            self.request.headers.clear()
            self.response.headers.clear()
            self.request = None  # type: ignore[assignment]
            self.response = None  # type: ignore[assignment]
