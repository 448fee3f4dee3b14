"""Logs (JSON lines or one-line text, UTC with milliseconds, request ids, secrets redacted)
and per-app Prometheus metrics."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

LogFormat = Literal["json", "text"]

# What a caller may send as X-Request-Id: short, and nothing that could forge a log line.
_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")

_SECRETS = (
    # /ws?token=… in uvicorn's handshake lines, and any other query string or form body.
    (re.compile(r"(?i)\b((?:access_|refresh_|id_)?token|password|secret)=[^&\s\"'#;]+"), r"\1=[redacted]"),
    (re.compile(r"(?i)\b(bearer)\s+[\w.~+/=-]+"), r"\1 [redacted]"),
    # A JWT anywhere else (an exception message, a header dump at DEBUG).
    (re.compile(r"\beyJ[\w-]*\.eyJ[\w-]*\.[\w-]*"), "[redacted-jwt]"),
)

# Structured fields of a record: ``logger.info("msg", extra={"fields": {...}})``, or log_event().
_FIELDS = "fields"
_JSON_RESERVED = frozenset({"ts", "level", "logger", "msg", "request_id", "exc"})


def redact(text: str) -> str:
    """Login tokens and passwords never reach a log line, whatever logger wrote it."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


def request_id_from(value: str | None) -> str:
    """The caller's X-Request-Id when it is short and plain; a fresh one otherwise."""
    if value is not None and _REQUEST_ID.fullmatch(value):
        return value
    return uuid.uuid4().hex


def utc_timestamp(record: logging.LogRecord) -> str:
    """``2026-12-02T06:33:58.123Z``: UTC whatever the host's zone, to the millisecond."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z"


def _fields(record: logging.LogRecord) -> Mapping[str, Any]:
    fields = record.__dict__.get(_FIELDS)
    return fields if isinstance(fields, Mapping) else {}


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line; a record's structured fields are top-level keys."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(self._format(record))

    def _format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": utc_timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        rid = request_id_var.get()
        if rid:
            entry["request_id"] = rid
        for key, value in _fields(record).items():
            entry[f"field_{key}" if key in _JSON_RESERVED else key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=_json_value)


def _json_value(value: object) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


class TextFormatter(logging.Formatter):
    """``2026-12-02 06:33:58.123Z INFO  curhat.events pairing.matched chat_session_id=… rid=…``"""

    def format(self, record: logging.LogRecord) -> str:
        parts = [
            utc_timestamp(record).replace("T", " "),
            f"{record.levelname:<5}",
            record.name,
            record.getMessage(),
        ]
        parts += [
            f"{key}={_text_value(value)}"
            for key, value in _fields(record).items()
            if not (key == "event" and value == record.msg)  # already the message
        ]
        rid = request_id_var.get()
        if rid:
            parts.append(f"rid={rid}")
        line = " ".join(parts)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return redact(line)


def _text_value(value: object) -> str:
    text = _json_value(value)
    return (
        json.dumps(text, ensure_ascii=False)
        if not text or any(c.isspace() or c == '"' for c in text)
        else text
    )


# Business events (pairing, chats, extensions, operators' changes): one logger to filter on.
events_log = logging.getLogger("curhat.events")


def log_event(logger: logging.Logger, event: str, level: int = logging.INFO, /, **fields: object) -> None:
    """One line naming ``event`` with its fields as structured data (``"event": …`` in JSON)."""
    if logger.isEnabledFor(level):
        logger.log(level, event, extra={_FIELDS: {"event": event, **fields}})


# A deadline firing later than this after it fell due is worth a WARNING (load, a stalled poll).
LATE_DEADLINE_SECONDS = 1.0


def note_deadline(kind: str, due: datetime) -> None:
    """Called by a deadline batch with its most overdue row: a WARNING line when it is late."""
    late = (datetime.now(UTC) - due).total_seconds()
    if late > LATE_DEADLINE_SECONDS:
        log_event(events_log, "deadline.late", logging.WARNING, kind=kind, late_s=round(late, 2), due_at=due)


def resolve_format(setting: str, legacy_json: bool | None = None) -> LogFormat:
    """``auto``: text for a person at a terminal, JSON for everything that collects logs."""
    if setting == "json" or (setting == "auto" and legacy_json):
        return "json"
    if setting == "text":
        return "text"
    return "text" if sys.stderr.isatty() else "json"


def configure_logging(level: str, log_format: LogFormat) -> None:
    """Our loggers at ``level``; dependencies (uvicorn, alembic, the embedded servers) only say
    what is wrong (WARNING and up) unless ``level`` is DEBUG. The access log stays off: the
    request middleware writes its own line (with the request id, secrets redacted)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    root = logging.getLogger()
    root.handlers[:] = [handler]
    # Dependencies' loggers inherit this, so their INFO records are never even built (uvicorn's
    # per-connection lines included).
    root.setLevel(numeric if numeric <= logging.DEBUG else max(numeric, logging.WARNING))
    logging.getLogger("curhat").setLevel(numeric)
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
        rid = request_id_from(_header(scope, b"x-request-id"))
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
                        _FIELDS: {
                            "method": scope["method"],
                            "path": scope["path"],
                            "status": status,
                            "duration_ms": round(elapsed * 1000, 2),
                            "listener": self.listener,
                        }
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
