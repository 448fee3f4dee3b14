"""Events cross instances on one Valkey channel; each instance delivers to its own sockets.

A message is ``"<key>,<key>,...\\n<frame>"``: the frame is serialised once per fan-out,
and one publish carries it to every recipient.
"""

from __future__ import annotations

import asyncio
import logging

from valkey.asyncio import Valkey

from curhat.kit.pubsub import subscribe_forever
from curhat.realtime.hub import Hub
from curhat.realtime.protocol import Envelope

log = logging.getLogger(__name__)


class EventBus:
    def __init__(self, valkey: Valkey, channel: str, hub: Hub) -> None:
        self._valkey = valkey
        self._channel = channel
        self._hub = hub
        self.ready = asyncio.Event()

    async def publish(self, events: list[Envelope]) -> None:
        if not events:
            return
        try:
            async with self._valkey.pipeline(transaction=False) as pipe:
                for env in events:
                    keys = ",".join(r.channel_key for r in env.recipients)
                    pipe.publish(self._channel, f"{keys}\n{env.frame()}")
                await pipe.execute()
        except Exception:
            # At-most-once by contract: REST reads tell the state; deliver locally at least.
            log.warning("event publish failed; delivering locally only", exc_info=True)
            for env in events:
                self._hub.deliver((r.channel_key for r in env.recipients), env.frame())

    async def listen(self) -> None:
        def deliver(data: object) -> None:
            head, _, frame = str(data).partition("\n")
            self._hub.deliver(head.split(","), frame)

        await subscribe_forever(
            self._valkey,
            self._channel,
            deliver,
            on_subscribed=self.ready.set,
            on_lost=self.ready.clear,
            name="event bus",
        )
