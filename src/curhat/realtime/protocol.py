"""The WebSocket event envelope: typed, serialised once per fan-out."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def utc_iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


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

    type: str
    data: dict[str, Any]
    recipients: list[Recipient]
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    ts: datetime = field(default_factory=lambda: datetime.now(UTC))
    _frame: str | None = None

    def frame(self) -> str:
        if self._frame is None:
            self._frame = json.dumps(
                {"type": self.type, "id": self.id, "ts": utc_iso(self.ts), "data": self.data},
                default=_json_default,
                separators=(",", ":"),
            )
        return self._frame


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return utc_iso(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def event(type_: str, data: dict[str, Any], *recipients: Recipient) -> Envelope:
    return Envelope(type=type_, data=data, recipients=list(recipients))


# Close codes of /ws (documented in docs and api.md).
CLOSE_FRAME_TOO_BIG = 4400  # a frame over MAX_FRAME_BYTES
CLOSE_BAD_TOKEN = 4401  # missing, invalid or expired token, or a role that has no socket
CLOSE_FORBIDDEN_ORIGIN = 4403  # an Origin that is neither this listener's nor configured
CLOSE_IDLE = 4408  # no frame from the client for the presence TTL (send {"type":"ping"})
CLOSE_FLOOD = 4429  # too many frames too fast, or too slow to read what is sent
CLOSE_UNAVAILABLE = 1013  # a dependency (Valkey) is down; reconnect later

MAX_FRAME_BYTES = 8 * 1024

PONG_FRAME = '{"type":"pong"}'

MITRA_AVAILABILITY = "MITRA_AVAILABILITY"
ERROR = "ERROR"


def error_event(code: str, message: str) -> Envelope:
    """An ``ERROR`` event ``{code, message}`` for the one socket that caused it."""
    return Envelope(type=ERROR, data={"code": code, "message": message}, recipients=[])


def availability_event(available: bool, count: int) -> Envelope:
    """``MITRA_AVAILABILITY`` ``{available, count}``, pushed to customers when the answer changes."""
    return Envelope(type=MITRA_AVAILABILITY, data={"available": available, "count": count}, recipients=[])
