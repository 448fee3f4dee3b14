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

# id(runtime) → set once that runtime's first sweep (at start-up) has finished.
_first_sweeps: dict[int, asyncio.Event] = {}


def first_sweep_done(runtime: Runtime) -> asyncio.Event:
    """Lets tests (and start-up checks) wait for the start-up sweep instead of sleeping."""
    return _first_sweeps.setdefault(id(runtime), asyncio.Event())


async def sweep_once(runtime: Runtime) -> int:
    async with runtime.transaction() as session:
        changed = await service.expire_stale_payment_sessions(session)
        await idempotency.purge_expired(session)
    if changed:
        log.info("payment sweeper changed %d sessions", changed)
    return changed


async def sweep_forever(runtime: Runtime) -> None:
    """Sweep at start-up (sessions that expired while no instance ran), then every interval."""
    first = first_sweep_done(runtime)
    try:
        while True:
            try:
                await sweep_once(runtime)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("payment sweep failed; retrying next interval")
            first.set()
            await asyncio.sleep(runtime.settings.sweeper_interval_seconds)
    finally:
        _first_sweeps.pop(id(runtime), None)
