"""The payment-session sweeper: every ``sweeper_interval_seconds``, one idempotent sweep.

Safe on many instances at once: each sweep is compare-and-set updates plus ``SKIP LOCKED``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from curhat.payments import idempotency, service

if TYPE_CHECKING:
    from curhat.runtime import Runtime

log = logging.getLogger(__name__)


async def sweep_once(runtime: Runtime) -> int:
    async with runtime.transaction() as session:
        changed = await service.expire_stale_payment_sessions(session)
        await idempotency.purge_expired(session)
    if changed:
        log.info("payment sweeper changed %d sessions", changed)
    return changed


async def sweep_forever(runtime: Runtime) -> None:
    interval = runtime.settings.sweeper_interval_seconds
    while True:
        try:
            await sweep_once(runtime)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("payment sweep failed; retrying next interval")
        await asyncio.sleep(interval)
