"""One WebSocket from handshake to close: auth, origin, the reader loop, writes.

The reader runs in the connection's own task and handles frames one at a time; frames for
the client are written by the ``Connection`` (a short-lived task only while there is
something to write), so a slow client fills only its own bounded buffer (and is closed when
it overflows) and never blocks the fan-out.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

from pydantic import ValidationError
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from curhat.auth.tokens import Principal, TokenError, TokenSigner
from curhat.errors import CurhatError, ValidationFailed, validation_fields
from curhat.observability import log_event
from curhat.realtime import protocol
from curhat.realtime.commands import CommandRegistry
from curhat.realtime.hub import Connection, Hub

log = logging.getLogger(__name__)
# One line per socket, when it closes (not when it opens: that line would double the cost of
# a connection at tens of thousands of sockets and say less).
socket_log = logging.getLogger("curhat.ws")

CLOSE_ABNORMAL = 1006  # the transport dropped without a close frame (RFC 6455)

BEARER_PREFIX = "bearer."
# Frames a client may send: a bucket of FLOOD_BURST refilled at FLOOD_RATE per second.
FLOOD_RATE = 20.0
FLOOD_BURST = 60.0


def offered_token(ws: WebSocket) -> tuple[str | None, str | None]:
    """The token, and the subprotocol to echo when it came as ``bearer.<token>``."""
    for proto in ws.scope.get("subprotocols", []):
        if proto.startswith(BEARER_PREFIX):
            return proto[len(BEARER_PREFIX) :], proto
    # Parsed here rather than through ``ws.query_params``, which would stay cached on the
    # socket for its whole life (P6: every idle socket's bytes count).
    query = ws.scope.get("query_string", b"").decode("latin-1")
    return next((v for k, v in parse_qsl(query) if k == "token"), None), None


def own_origins(host: str, port: int, extra: Iterable[str]) -> set[str]:
    """The public listener's own origins (as typed in a browser) plus configured ones."""
    own = {f"http://{h}:{port}" for h in (host, "localhost", "127.0.0.1")}
    if port == 80:
        own |= {f"http://{h}" for h in (host, "localhost", "127.0.0.1")}
    return own | set(extra)


def authenticate(signer: TokenSigner, token: str | None) -> Principal | None:
    if not token:
        return None
    try:
        principal = signer.verify(token)
    except TokenError:
        return None
    return principal if principal.role in ("customer", "mitra") else None


async def refuse(ws: WebSocket, code: int, subprotocol: str | None) -> None:
    """Accept only to tell the client why (a refused handshake would be a bare HTTP 403)."""
    await ws.accept(subprotocol=subprotocol)
    await ws.close(code)


class FloodGuard:
    __slots__ = ("at", "burst", "rate", "tokens")

    def __init__(
        self, rate: float = FLOOD_RATE, burst: float = FLOOD_BURST, *, start: float | None = None
    ) -> None:
        self.rate, self.burst = rate, burst
        self.tokens = burst
        self.at = time.monotonic() if start is None else start

    def allow(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class SocketServer:
    """Serves ``/ws``: everything a socket needs, handed in by the composition root."""

    def __init__(
        self,
        hub: Hub,
        signer: TokenSigner,
        commands: CommandRegistry,
        *,
        origins: set[str],
        on_open: Callable[[], None] = lambda: None,
    ) -> None:
        self._hub = hub
        self._signer = signer
        self._commands = commands
        self._origins = origins
        self._on_open = on_open
        self._accepting = True
        self._serving = 0  # serve() calls running: close_all waits for them
        self._idle = asyncio.Event()
        self._idle.set()

    def origin_ok(self, ws: WebSocket) -> bool:
        # Read from the scope, not ``ws.headers`` (cached on the socket for its life).
        raw = next((v for k, v in ws.scope.get("headers", ()) if k == b"origin"), None)
        return raw is None or raw.decode("latin-1").rstrip("/") in self._origins

    def stop_accepting(self) -> None:
        """Shutting down: new sockets are refused with 1012, so their clients reconnect elsewhere."""
        self._accepting = False

    async def close_all(self, code: int, *, timeout: float) -> int:
        """Close every open socket with ``code`` and wait (up to ``timeout``) until each one's
        close handshake and close hooks are done; how many there were."""
        conns = self._hub.with_prefix("")
        for conn in conns:
            conn.close(code)
        if self._serving:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), timeout)
        return len(conns)

    async def serve(self, ws: WebSocket) -> None:
        self._serving += 1
        self._idle.clear()
        try:
            await self._serve(ws)
        finally:
            self._serving -= 1
            if not self._serving:
                self._idle.set()

    async def _serve(self, ws: WebSocket) -> None:
        started = time.monotonic()
        token, subprotocol = offered_token(ws)
        if not self._accepting:
            await refuse(ws, protocol.CLOSE_RESTART, subprotocol)
            _log_refused(protocol.CLOSE_RESTART, started)
            return
        if not self.origin_ok(ws):
            await refuse(ws, protocol.CLOSE_FORBIDDEN_ORIGIN, subprotocol)
            _log_refused(protocol.CLOSE_FORBIDDEN_ORIGIN, started)
            return
        principal = authenticate(self._signer, token)
        if principal is None:
            await refuse(ws, protocol.CLOSE_BAD_TOKEN, subprotocol)
            _log_refused(protocol.CLOSE_BAD_TOKEN, started)
            return

        conn = Connection(key=f"{principal.role}:{principal.id}", id=uuid.uuid4().hex)
        # Before the handshake completes, so "socket open → POST online" never races it.
        try:
            await self._hub.open(conn)
        except Exception:
            log.warning("websocket refused: a dependency is unavailable", exc_info=True)
            await refuse(ws, protocol.CLOSE_UNAVAILABLE, subprotocol)
            _log_refused(protocol.CLOSE_UNAVAILABLE, started)
            return
        peer_code: int | None = None
        try:
            await ws.accept(subprotocol=subprotocol)
            self._on_open()
            conn.attach(ws)
            peer_code = await _read(ws, conn, principal, self._commands)
        finally:
            server_code = conn.close_code  # set when the server decided to close
            conn.close(1000)
            await conn.flushed(5)
            await self._hub.close(conn)
            log_event(
                socket_log,
                "ws.closed",
                role=principal.role,
                user_id=principal.id,
                duration_s=round(time.monotonic() - started, 1),
                code=server_code or peer_code or CLOSE_ABNORMAL,
                by="server" if server_code else "client",
            )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """``/ws`` as a bare ASGI app: the public app hands sockets here before its middleware
        and router (HTTP-only layers whose per-connection frames and objects would stay alive
        as long as each idle socket does)."""
        await self.serve(WebSocket(scope, receive, send))


def _log_refused(code: int, started: float) -> None:
    log_event(
        socket_log, "ws.refused", code=code, duration_s=round(time.monotonic() - started, 1), by="server"
    )


async def _read(
    ws: WebSocket, conn: Connection, principal: Principal, commands: CommandRegistry
) -> int | None:
    """Handle frames until the socket closes; the close code the client sent, if it closed first."""
    guard = FloodGuard()
    try:
        while conn.close_code is None:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                return int(message.get("code") or CLOSE_ABNORMAL)
            now = time.monotonic()
            conn.last_seen = now
            if not guard.allow(now):
                log.warning("closing flooding websocket %s", conn.id)
                conn.close(protocol.CLOSE_FLOOD)
                break
            text = message.get("text")
            if text is None:
                if message.get("bytes") is not None and len(message["bytes"]) > protocol.MAX_FRAME_BYTES:
                    conn.close(protocol.CLOSE_FRAME_TOO_BIG)
                    break
                _error(conn, "bad_frame", "Frames must be JSON text.")
                continue
            if len(text) > protocol.MAX_FRAME_BYTES // 4 and len(text.encode()) > protocol.MAX_FRAME_BYTES:
                conn.close(protocol.CLOSE_FRAME_TOO_BIG)
                break
            await _dispatch(conn, principal, commands, text)
        # Closing: wait for the client's close frame (or the transport to drop).
        while (await ws.receive())["type"] != "websocket.disconnect":
            pass
    except WebSocketDisconnect as exc:
        return exc.code
    except RuntimeError:
        pass
    return None


async def _dispatch(conn: Connection, principal: Principal, commands: CommandRegistry, text: str) -> None:
    try:
        frame: Any = json.loads(text)
    except ValueError:
        _error(conn, "bad_json", "Frame is not valid JSON.")
        return
    kind = frame.get("type") if isinstance(frame, dict) else None
    if not isinstance(kind, str):
        _error(conn, "bad_frame", 'Frame must be a JSON object with a string "type".')
        return
    if kind == "ping":
        conn.offer(protocol.PONG_FRAME)
        return
    command = commands.get(kind, principal.role)
    if command is None:
        _error(conn, "unknown_type", f"Unknown frame type {kind[:40]!r}.")
        return
    try:
        parsed = command.model.model_validate(frame)
    except ValidationError as exc:
        err = ValidationFailed(validation_fields(exc.errors()))
        _error(conn, err.code, err.message)
        return
    try:
        await command.handler(principal, parsed)
    except CurhatError as err:
        _error(conn, err.code, err.message)
    except Exception:
        log.exception("websocket command %s failed", kind)
        _error(conn, "internal_error", "Internal server error.")


def _error(conn: Connection, code: str, message: str) -> None:
    conn.offer(protocol.error_event(code, message).frame())
