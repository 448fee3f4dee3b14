"""One Valkey channel subscribed for the process's life, resubscribing after any failure."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from valkey.asyncio import Valkey

log = logging.getLogger(__name__)

# Short waits: a read blocked longer than the client's socket timeout would raise.
READ_TIMEOUT = 1.0
CLOSE_TIMEOUT = 2.0


async def subscribe_forever(
    valkey: Valkey,
    channel: str,
    on_message: Callable[[Any], Awaitable[None] | None],
    *,
    on_subscribed: Callable[[], Awaitable[None] | None] = lambda: None,
    on_lost: Callable[[], None] = lambda: None,
    retry_after: float = 0.5,
    name: str = "",
) -> None:
    """Call ``on_message(data)`` for every message on ``channel``; ``on_subscribed`` after each
    (re)subscription (read the state the messages update: some may have been missed), and
    ``on_lost`` when the connection fails, before retrying. Only cancellation stops it."""
    while True:
        pubsub = valkey.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(channel)
            result = on_subscribed()
            if result is not None:
                await result
            while True:
                message = await pubsub.get_message(timeout=READ_TIMEOUT)
                if message is None or message.get("type") != "message":
                    continue
                handled = on_message(message["data"])
                if handled is not None:
                    await handled
        except asyncio.CancelledError:
            raise
        except Exception:
            on_lost()
            log.warning("%s lost Valkey; resubscribing", name or channel, exc_info=True)
            await asyncio.sleep(retry_after)
        finally:
            # Bounded: closing a connection that is already gone (or mid-cancel) must not hang.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(pubsub.aclose(), CLOSE_TIMEOUT)  # type: ignore[no-untyped-call]
