"""Presence (Valkey only): online mitras, live sockets, active-session counters, availability.

Stub: filled in by the presence/realtime work (issue 3).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from curhat.runtime import Runtime


class Presence:
    def __init__(self) -> None:
        self._on_available: list[Callable[[uuid.UUID], Awaitable[None]]] = []

    def on_mitra_available(self, callback: Callable[[uuid.UUID], Awaitable[None]]) -> None:
        """Called when a mitra comes online or frees a slot (late joiners get open blasts)."""
        self._on_available.append(callback)

    async def start(self, runtime: Runtime) -> None:
        return None
