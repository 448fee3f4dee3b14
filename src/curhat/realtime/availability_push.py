"""``MITRA_AVAILABILITY`` pushes: only when the answer a customer sees changes, at most one a second.

A customer's home screen only cares whether a bestie is available (the CTA is enabled or
not); the count rides along. Every listener going online, offline or filling a slot changes
the count, so pushing every change would send each customer a frame per mitra status
change. Instead the latest answer is pushed when ``available`` flips, and flips closer than
``interval`` apart are coalesced into one push of the latest answer (none if it flipped back).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

Push = Callable[[bool, int], None]


class AvailabilityPusher:
    def __init__(
        self,
        push: Push,
        *,
        interval: float = 1.0,
        clock: Callable[[], float] | None = None,
        call_later: Callable[[float, Callable[[], None]], object] | None = None,
    ) -> None:
        self._push = push
        self._interval = interval
        self._clock = clock
        self._call_later = call_later
        self._latest: tuple[bool, int] = (False, 0)
        self._pushed: bool = False  # the ``available`` customers were last told
        self._last_push_at: float | None = None
        self._pending = False
        self.pushes = 0

    def _now(self) -> float:
        return self._clock() if self._clock else asyncio.get_running_loop().time()

    def _later(self, delay: float, fn: Callable[[], None]) -> None:
        if self._call_later is not None:
            self._call_later(delay, fn)
        else:
            asyncio.get_running_loop().call_later(delay, fn)

    def update(self, available: bool, count: int) -> None:
        """The snapshot changed (called by presence on every change)."""
        self._latest = (available, count)
        if available == self._pushed or self._pending:
            return
        now = self._now()
        wait = 0.0 if self._last_push_at is None else self._last_push_at + self._interval - now
        if wait <= 0:
            self._send(now)
        else:
            self._pending = True
            self._later(wait, self._flush)

    def _flush(self) -> None:
        self._pending = False
        if self._latest[0] != self._pushed:
            self._send(self._now())

    def _send(self, now: float) -> None:
        self._pushed = self._latest[0]
        self._last_push_at = now
        self.pushes += 1
        self._push(*self._latest)
