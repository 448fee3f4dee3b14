"""The WebSocket transport under uvicorn: sans-io websockets, with /ws's close codes."""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import CloseCode

from curhat.realtime.protocol import CLOSE_FRAME_TOO_BIG

# Above the 8 KiB protocol limit, so /ws itself sees frames up to here and closes them with
# 4400; bigger ones are refused by the transport from their header, before being read.
TRANSPORT_MAX_FRAME_BYTES = 16 * 1024


class WebSocketProtocol(WebSocketsSansIOProtocol):
    """A frame the transport refuses closes with the documented 4400, not websockets' 1009."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fail = self.conn.fail

        def fail_with_documented_code(code: int, reason: str = "") -> None:
            if code == CloseCode.MESSAGE_TOO_BIG:
                code, reason = CLOSE_FRAME_TOO_BIG, "frame too big"
            fail(code, reason)

        self.conn.fail = fail_with_documented_code  # type: ignore[method-assign]
