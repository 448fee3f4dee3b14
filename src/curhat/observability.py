"""Structured (JSON) logs with a request id, and per-app Prometheus metrics."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


_SECRETS = (
    # /ws?token=… in uvicorn's handshake lines, and any other query string or form body.
    (re.compile(r"(?i)\b((?:access_|refresh_|id_)?token|password|secret)=[^&\s\"'#;]+"), r"\1=[redacted]"),
    (re.compile(r"(?i)\b(bearer)\s+[\w.~+/=-]+"), r"\1 [redacted]"),
    # A JWT anywhere else (an exception message, a header dump at DEBUG).
    (re.compile(r"\beyJ[\w-]*\.eyJ[\w-]*\.[\w-]*"), "[redacted-jwt]"),
)


def redact(text: str) -> str:
    """Login tokens and passwords never reach a log line, whatever logger wrote it."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(self._format(record))

    def _format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        rid = request_id_var.get()
        if rid:
            entry["request_id"] = rid
        for key in ("method", "path", "status", "duration_ms", "listener"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str, as_json: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter() if as_json else RedactingFormatter("%(levelname)s %(name)s %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("uvicorn.access").disabled = True


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "curhat_http_requests_total",
            "HTTP requests",
            ["listener", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "curhat_http_request_seconds", "HTTP request latency", ["listener"], registry=self.registry
        )
        self.ws_connections = Counter(
            "curhat_ws_connections_total", "WebSocket connections opened", registry=self.registry
        )
        # The time to get a PostgreSQL connection from the pool (opening one included): a
        # fat tail here means requests queue for connections, not for PostgreSQL.
        self.db_pool_wait = Histogram(
            "curhat_db_pool_wait_seconds",
            "Time to get a connection from the PostgreSQL pool",
            buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0),
            registry=self.registry,
        )
        self.db_pool_timeouts = Counter(
            "curhat_db_pool_timeouts_total", "Pool checkouts that timed out", registry=self.registry
        )

    def observe_pool_wait(self, seconds: float, timed_out: bool) -> None:
        self.db_pool_wait.observe(seconds)
        if timed_out:
            self.db_pool_timeouts.inc()


access_log = logging.getLogger("curhat.access")
log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = "5"

MAX_BODY_BYTES = 64 * 1024


class RequestMiddleware:
    """Request id, access log, metrics, and the 64 KiB body limit, as one pure ASGI layer."""

    def __init__(
        self,
        app: ASGIApp,
        listener: str,
        metrics: Metrics,
        unavailable: Callable[[BaseException], bool] = lambda exc: False,
    ) -> None:
        self.app = app
        self.listener = listener
        self.metrics = metrics
        self.unavailable = unavailable

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _header(scope, b"x-request-id") or uuid.uuid4().hex
        token = request_id_var.set(rid)
        start = time.perf_counter()
        status = 500

        length = _header(scope, b"content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
            await _too_large(send, rid)
            request_id_var.reset(token)
            return

        received = 0
        too_large = False

        async def limited_receive() -> Message:
            nonlocal received, too_large, status
            message = await receive()
            if message["type"] == "http.request" and not too_large:
                received += len(message.get("body", b""))
                if received > MAX_BODY_BYTES:
                    # Answer now; the app sees a disconnect and its own answer is dropped.
                    too_large, status = True, 413
                    await _too_large(send, rid)
                    return {"type": "http.disconnect"}
            return message

        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started
            if too_large:
                return
            if message["type"] == "http.response.start":
                status, started = message["status"], True
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_id)
        except Exception as exc:
            if too_large:
                pass
            elif started:
                raise  # half an answer went out: only closing the connection ends it
            else:
                # Answered here rather than re-raised, so uvicorn keeps the keep-alive connection
                # and the answer carries the request id.
                status = await _answer_error(send, rid, exc, unavailable=self.unavailable(exc))
        finally:
            elapsed = time.perf_counter() - start
            self.metrics.requests.labels(self.listener, scope["method"], str(status)).inc()
            self.metrics.latency.labels(self.listener).observe(elapsed)
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    "request",
                    extra={
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                        "listener": self.listener,
                    },
                )
            request_id_var.reset(token)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def _answer_error(send: Send, rid: str, exc: Exception, *, unavailable: bool) -> int:
    if unavailable:
        log.warning("dependency unavailable: %s: %s", type(exc).__name__, exc)
        status, headers = 503, [(b"retry-after", RETRY_AFTER_SECONDS.encode())]
        payload = {
            "error": "service_unavailable",
            "message": "A dependency is unavailable; try again shortly.",
        }
    else:
        log.error("unhandled error", exc_info=exc)
        status, headers = 500, []
        payload = {"error": "internal_error", "message": "Internal server error."}
    body = json.dumps(payload).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"x-request-id", rid.encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
    return status


async def _too_large(send: Send, rid: str) -> None:
    body = json.dumps({"error": "payload_too_large", "message": "Request body exceeds 64 KiB."}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"x-request-id", rid.encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
