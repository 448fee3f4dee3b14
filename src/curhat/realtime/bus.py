"""Events cross instances on per-recipient sharded channels; an instance hears only its own.

Each recipient (``customer:<id>``, ``mitra:<id>``) has a shard channel
``<prefix>ev:<recipient>``. The instance holding a socket of that recipient subscribes to
it (``SSUBSCRIBE``) when the first such socket opens and unsubscribes when the last one
closes, so an event travels only to the instances that can deliver it: adding instances
adds capacity instead of multiplying the work of every event (Valkey Cluster spreads shard
channels over its shards by hash slot). The frame is serialised once per fan-out; a
fan-out to N recipients is N ``SPUBLISH`` of that same frame in one pipeline.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from valkey.asyncio import Valkey
from valkey.asyncio.client import PubSub

from curhat.realtime.hub import Connection, Hub
from curhat.realtime.protocol import Envelope

log = logging.getLogger(__name__)

READ_TIMEOUT = 1.0
SUBSCRIBE_BATCH = 500
CONFIRM_TIMEOUT = 2.0


class EventBus:
    def __init__(self, valkey: Valkey, channel_prefix: str, hub: Hub) -> None:
        self._valkey = valkey
        self._prefix = channel_prefix
        self._hub = hub
        self._pubsub: PubSub | None = None
        self._held: dict[str, int] = {}  # sockets per recipient on this instance
        self._subscribed: set[str] = set()
        self._lock = asyncio.Lock()
        self._confirming: dict[str, asyncio.Future[None]] = {}
        self.received = 0  # event messages this instance heard (each for a socket it holds)
        self.ready = asyncio.Event()
        hub.on_open(self._socket_opened)
        hub.on_close(self._socket_closed)

    def channel(self, recipient_key: str) -> str:
        return f"{self._prefix}{recipient_key}"

    async def publish(self, events: list[Envelope]) -> None:
        if not events:
            return
        try:
            async with self._valkey.pipeline(transaction=False) as pipe:
                for env in events:
                    frame = env.frame()
                    for r in env.recipients:
                        pipe.execute_command("SPUBLISH", self.channel(r.channel_key), frame)
                await pipe.execute()
        except Exception:
            # At-most-once by contract: REST reads tell the state; deliver locally at least.
            log.warning("event publish failed; delivering locally only", exc_info=True)
            for env in events:
                self._hub.deliver((r.channel_key for r in env.recipients), env.frame())

    # -- subscriptions follow this instance's sockets ----------------------------------------

    async def _socket_opened(self, conn: Connection) -> None:
        self._held[conn.key] = self._held.get(conn.key, 0) + 1
        await self._sync(conn.key)

    async def _socket_closed(self, conn: Connection) -> None:
        left = self._held.get(conn.key, 0) - 1
        if left > 0:
            self._held[conn.key] = left
        else:
            self._held.pop(conn.key, None)
        await self._sync(conn.key)

    async def _sync(self, *keys: str, confirm: bool = True) -> None:
        """Make the subscriptions match the held sockets. Under one lock, and decided from the
        state when the lock is taken, so a reload's close and open can never end unsubscribed.
        Best effort: with Valkey down the listener resubscribes everything when it is back."""
        async with self._lock:
            pubsub = self._pubsub
            if pubsub is None or pubsub.connection is None:
                return
            want = [k for k in keys if k in self._held and k not in self._subscribed]
            drop = [k for k in keys if k not in self._held and k in self._subscribed]
            loop = asyncio.get_running_loop()
            confirmed = {self.channel(k): loop.create_future() for k in want} if confirm else {}
            self._confirming.update(confirmed)
            try:
                for command, batch in (("SSUBSCRIBE", want), ("SUNSUBSCRIBE", drop)):
                    for start in range(0, len(batch), SUBSCRIBE_BATCH):
                        part = batch[start : start + SUBSCRIBE_BATCH]
                        await pubsub.execute_command(command, *(self.channel(k) for k in part))
                if confirmed:
                    # Wait for Valkey's confirmation: an event published right after the socket
                    # opened must find the subscription in place.
                    await asyncio.wait(confirmed.values(), timeout=CONFIRM_TIMEOUT)
                self._subscribed.update(want)
                self._subscribed.difference_update(drop)
            except Exception:
                log.warning("event bus subscription change failed; resubscribing on reconnect", exc_info=True)
            finally:
                for channel in confirmed:
                    self._confirming.pop(channel, None)

    async def listen(self) -> None:
        """Runs for the process's life; resubscribes every held recipient after a failure."""
        while True:
            # Subscribe messages are not ignored by the client here: sharded messages
            # ("smessage") would be dropped with them; this loop filters them itself.
            pubsub = self._valkey.pubsub()
            try:
                await pubsub.execute_command("PING")
                async with self._lock:
                    self._pubsub = pubsub
                    self._subscribed = set()
                # Not confirmed here: this loop is the one that reads the confirmations.
                await self._sync(*self._held, confirm=False)
                self.ready.set()
                while True:
                    message: Any = await pubsub.get_message(timeout=READ_TIMEOUT)
                    if message is None:
                        continue
                    if message.get("type") == "ssubscribe":
                        waiting = self._confirming.get(str(message["channel"]))
                        if waiting is not None and not waiting.done():
                            waiting.set_result(None)
                        continue
                    if message.get("type") != "smessage":
                        continue
                    self.received += 1
                    channel = str(message["channel"])
                    self._hub.deliver([channel[len(self._prefix) :]], str(message["data"]))
            except asyncio.CancelledError:
                raise
            except Exception:
                self.ready.clear()
                log.warning("event bus lost Valkey; resubscribing", exc_info=True)
                await asyncio.sleep(0.5)
            finally:
                self._pubsub = None
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(pubsub.aclose(), 2)  # type: ignore[no-untyped-call]
