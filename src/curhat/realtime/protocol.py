"""The WebSocket envelope: a typed event for its recipients, serialised once per fan-out.

The event models themselves are in ``realtime.events``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from curhat.realtime.events import ErrorEvent, MitraAvailability, ServerEvent, utc_iso

__all__ = ["Envelope", "Recipient", "customer", "envelope", "mitra", "utc_iso"]


@dataclass(frozen=True)
class Recipient:
    role: str  # "customer" | "mitra"
    id: uuid.UUID

    @property
    def channel_key(self) -> str:
        return f"{self.role}:{self.id}"


def customer(user_id: uuid.UUID) -> Recipient:
    return Recipient("customer", user_id)


def mitra(mitra_id: uuid.UUID) -> Recipient:
    return Recipient("mitra", mitra_id)


@dataclass
class Envelope:
    """One event for one or more recipients. ``frame()`` is computed once."""

    event: ServerEvent
    recipients: list[Recipient]
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    ts: datetime = field(default_factory=lambda: datetime.now(UTC))
    _frame: str | None = None

    @property
    def type(self) -> str:
        return self.event.type

    def frame(self) -> str:
        if self._frame is None:
            self._frame = (
                f'{{"type":"{self.event.type}","id":"{self.id}","ts":"{utc_iso(self.ts)}",'
                f'"data":{self.event.data_json()}}}'
            )
        return self._frame


def envelope(event: ServerEvent, to: Iterable[Recipient]) -> Envelope:
    return Envelope(event=event, recipients=list(to))


# Close codes of /ws (documented in docs/websocket.md and api.md).
CLOSE_FRAME_TOO_BIG = 4400  # a frame over MAX_FRAME_BYTES
CLOSE_BAD_TOKEN = 4401  # missing, invalid or expired token, or a role that has no socket
CLOSE_FORBIDDEN_ORIGIN = 4403  # an Origin that is neither this listener's nor configured
CLOSE_IDLE = 4408  # no frame from the client for the presence TTL (send {"type":"ping"})
CLOSE_FLOOD = 4429  # too many frames too fast, or too slow to read what is sent
CLOSE_UNAVAILABLE = 1013  # a dependency (Valkey) is down; reconnect later
CLOSE_RESTART = 1012  # this instance is shutting down (deploy, restart); reconnect

CLOSE_CODES: dict[int, str] = {
    1000: "normal closure",
    CLOSE_RESTART: "the server is restarting or being replaced; reconnect with backoff (another instance answers)",
    CLOSE_UNAVAILABLE: "a dependency (Valkey) is down; reconnect later with backoff",
    CLOSE_FRAME_TOO_BIG: "a frame over 8 KiB",
    CLOSE_BAD_TOKEN: "missing, invalid or expired token, or a role that has no socket (log in again)",
    CLOSE_FORBIDDEN_ORIGIN: "the page's Origin is not allowed",
    CLOSE_IDLE: "no frame from the client for the presence TTL (send a ping every 10–15 s)",
    CLOSE_FLOOD: "too many frames too fast, or too slow to read what is sent",
}

MAX_FRAME_BYTES = 8 * 1024

PONG_FRAME = '{"type":"pong"}'


def error_event(code: str, message: str) -> Envelope:
    """An ``ERROR`` event ``{code, message}`` for the one socket that caused it."""
    return Envelope(ErrorEvent(code=code, message=message), recipients=[])


def availability_event(available: bool, count: int) -> Envelope:
    """``MITRA_AVAILABILITY`` ``{available, count}``, pushed to customers when the answer changes."""
    return Envelope(MitraAvailability(available=available, count=count), recipients=[])
