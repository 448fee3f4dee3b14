"""Durable deadlines: in-process timers for latency plus a poll of due rows for crashes.

Stub: filled in by the pairing/deadlines work (issue 4).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from curhat.runtime import Runtime


class DeadlineRunner:
    async def start(self, runtime: Runtime) -> None:
        return None
