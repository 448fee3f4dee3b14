from __future__ import annotations

import logging

from curhat.observability import JsonFormatter, RedactingFormatter, TextFormatter

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"


def _record(msg: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1, msg, args, None)


def test_both_formatters_redact_query_tokens_bearer_headers_and_bare_jwts() -> None:
    record = _record(
        '%s - "WebSocket %s" [accepted] authorization: Bearer %s; seen %s; login password=%s',
        "127.0.0.1:5000",
        f"/ws?token={JWT}&x=1",
        JWT,
        JWT,
        "hunter2",
    )
    for formatter in (JsonFormatter(), TextFormatter(), RedactingFormatter("%(message)s")):
        line = formatter.format(record)
        assert JWT not in line and "hunter2" not in line
        assert "/ws?token=[redacted]&x=1" in line
        assert "Bearer [redacted]" in line and "password=[redacted]" in line
