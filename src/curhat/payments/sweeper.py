"""The payment-session sweeper: every ``interval`` seconds, one idempotent sweep.

Safe on many instances at once: each sweep is compare-and-set updates plus ``SKIP LOCKED``.
"""

from __future__ import annotations

import asyncio
import logging

from curhat.payments import idempotency, service
from curhat.postgres import Transactions

log = logging.getLogger(__name__)


class PaymentSweeper:
    def __init__(self, transactions: Transactions, *, interval: float) -> None:
        self._transactions = transactions
        self._interval = interval
        # Set once the start-up sweep has finished (tests and start-up checks wait on it).
        self.first_sweep_done = asyncio.Event()

    async def sweep_once(self) -> int:
        async with self._transactions() as session:
            changed = await service.expire_stale_payment_sessions(session)
            await idempotency.purge_expired(session)
        if changed:
            log.info("payment sweeper changed %d sessions", changed)
        return changed

    async def sweep_forever(self) -> None:
        """Sweep at start-up (sessions that expired while no instance ran), then every interval."""
        while True:
            try:
                await self.sweep_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("payment sweep failed; retrying next interval")
            self.first_sweep_done.set()
            await asyncio.sleep(self._interval)
