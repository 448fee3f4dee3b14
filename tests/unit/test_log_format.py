"""Log lines: JSON for collectors, one-line text for a terminal, both UTC to the millisecond."""

from __future__ import annotations

import io
import json
import logging
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from curhat.cli.serve import ready_message
from curhat.config import Settings
from curhat.models.enums import CauseTag, EndReason, Resolution
from curhat.observability import (
    JsonFormatter,
    TextFormatter,
    configure_logging,
    log_event,
    note_deadline,
    request_id_from,
    request_id_var,
    resolve_format,
)
from curhat.realtime import events, protocol
from curhat.realtime.eventlog import log_business_events

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
# 2025-12-02T06:33:58.042Z
CREATED = datetime(2025, 12, 2, 6, 33, 58, 42_000, tzinfo=UTC).timestamp()


def _record(msg: str, *args: object, fields: dict[str, object] | None = None) -> logging.LogRecord:
    record = logging.LogRecord("curhat.events", logging.INFO, __file__, 1, msg, args, None)
    record.created, record.msecs = CREATED, 42.0
    if fields is not None:
        record.fields = fields
    return record


def test_json_line_has_utc_millisecond_time_fields_and_request_id() -> None:
    due = datetime(2025, 12, 2, 6, 33, 57, tzinfo=UTC)
    fields = {"event": "pairing.matched", "mitra_id": uuid.UUID(int=7), "due_at": due}
    record = _record("pairing.matched", fields=fields)
    token = request_id_var.set("req-1")
    try:
        entry = json.loads(JsonFormatter().format(record))
    finally:
        request_id_var.reset(token)
    assert entry["ts"] == "2025-12-02T06:33:58.042Z"
    assert entry["level"] == "info" and entry["msg"] == "pairing.matched"
    assert entry["event"] == "pairing.matched"
    assert entry["mitra_id"] == str(uuid.UUID(int=7))
    assert entry["request_id"] == "req-1"
    assert entry["due_at"] == "2025-12-02T06:33:57+00:00"


def test_a_field_cannot_overwrite_the_line_s_own_keys() -> None:
    entry = json.loads(JsonFormatter().format(_record("x", fields={"ts": "forged", "level": "error"})))
    assert entry["ts"] == "2025-12-02T06:33:58.042Z" and entry["level"] == "info"
    assert entry["field_ts"] == "forged"


def test_text_line_is_one_readable_line() -> None:
    record = _record("chat.ended", fields={"event": "chat.ended", "reason": "time_up", "note": "two words"})
    token = request_id_var.set("abc")
    try:
        line = TextFormatter().format(record)
    finally:
        request_id_var.reset(token)
    assert (
        line
        == '2025-12-02 06:33:58.042Z INFO  curhat.events chat.ended reason=time_up note="two words" rid=abc'
    )


def test_text_line_keeps_the_traceback_below_it() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record = logging.LogRecord("curhat.x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    first, *rest = TextFormatter().format(record).splitlines()
    assert first.endswith("ERROR curhat.x failed")
    assert rest[-1] == "ValueError: boom"


@pytest.mark.parametrize("formatter", [JsonFormatter(), TextFormatter()])
def test_both_formats_redact_tokens_in_messages_and_fields(formatter: logging.Formatter) -> None:
    record = _record(
        '"WebSocket %s" [accepted] Bearer %s',
        f"/ws?token={JWT}",
        JWT,
        fields={"path": f"/api?access_token={JWT}", "password": "x", "login": "password=hunter2"},
    )
    line = formatter.format(record)
    assert JWT not in line and "hunter2" not in line
    assert "token=[redacted]" in line and "Bearer [redacted]" in line


@pytest.mark.parametrize("given", ["abc-123", "A1.b2:c3_d4", "f" * 64])
def test_a_plain_request_id_is_kept(given: str) -> None:
    assert request_id_from(given) == given


@pytest.mark.parametrize(
    "given", [None, "", "f" * 65, "has space", "line\nbreak", '{"x":1}', "-leading", "ü"]
)
def test_any_other_request_id_is_replaced(given: str | None) -> None:
    rid = request_id_from(given)
    assert rid != given and re.fullmatch(r"[0-9a-f]{32}", rid)


class _Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_format_auto_is_text_on_a_terminal_and_json_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stderr", _Stream(tty=True))
    assert resolve_format("auto") == "text"
    assert resolve_format("json") == "json"
    assert resolve_format("auto", legacy_json=True) == "json"
    monkeypatch.setattr("sys.stderr", _Stream(tty=False))
    assert resolve_format("auto") == "json"
    assert resolve_format("auto", legacy_json=False) == "json"
    assert resolve_format("text") == "text"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, logging.getLogger("curhat").level)
    yield
    root.handlers[:], root.level = saved[0], saved[1]
    logging.getLogger("curhat").setLevel(saved[2])
    logging.getLogger("uvicorn.access").disabled = False


@pytest.mark.usefixtures("restore_logging")
def test_dependencies_are_quiet_at_info_and_speak_at_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = _Stream(tty=False)
    monkeypatch.setattr("sys.stderr", stream)
    configure_logging("INFO", "json")
    logging.getLogger("uvicorn.error").info("Started server process [1]")
    logging.getLogger("alembic.runtime.migration").info("Running upgrade")
    logging.getLogger("uvicorn.error").warning("Invalid HTTP request received.")
    logging.getLogger("curhat.events").info("pairing.matched")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [entry["msg"] for entry in lines] == ["Invalid HTTP request received.", "pairing.matched"]

    stream.seek(0)
    stream.truncate()
    configure_logging("DEBUG", "text")
    logging.getLogger("alembic.runtime.migration").info("Running upgrade")
    assert "INFO  alembic.runtime.migration Running upgrade" in stream.getvalue()


def test_log_event_puts_the_event_name_and_fields_on_the_record(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="curhat"):
        log_event(logging.getLogger("curhat.ws"), "ws.closed", role="mitra", code=1012)
    (record,) = caplog.records
    assert record.getMessage() == "ws.closed"
    assert record.fields == {"event": "ws.closed", "role": "mitra", "code": 1012}


def test_a_deadline_more_than_a_second_late_is_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="curhat"):
        note_deadline("chat_end", datetime.now(UTC))  # on time: nothing
        note_deadline("chat_end", datetime.now(UTC) - timedelta(seconds=5))
    (record,) = caplog.records
    assert record.levelno == logging.WARNING and record.fields["event"] == "deadline.late"
    assert record.fields["kind"] == "chat_end" and record.fields["late_s"] >= 5


def test_business_events_are_read_off_committed_events(caplog: pytest.LogCaptureFixture) -> None:
    customer, mitra = uuid.uuid4(), uuid.uuid4()
    ids = {"payment_session_id": uuid.uuid4(), "pairing_request_id": uuid.uuid4()}
    chat = uuid.uuid4()
    batch = [
        protocol.envelope(
            events.PairingMatched(
                **ids,
                chat_session_id=chat,
                mitra=events.MitraRef(id=mitra, display_name="Bestie"),
                ends_at=datetime.now(UTC),
            ),
            [protocol.customer(customer)],
        ),
        protocol.envelope(
            events.ChatTyping(chat_session_id=chat, sender_role="customer"), [protocol.mitra(mitra)]
        ),
        protocol.envelope(
            events.PairingFailed(**ids, cause_tag=CauseTag.NO_MITRA_AVAILABLE, fallback_offered=False),
            [protocol.customer(customer)],
        ),
        protocol.envelope(
            events.ChatSessionEnded(chat_session_id=chat, end_reason=EndReason.TIME_UP),
            [protocol.customer(customer), protocol.mitra(mitra)],
        ),
    ]
    ext = uuid.uuid4()
    both = [protocol.customer(customer), protocol.mitra(mitra)]
    batch += [
        protocol.envelope(
            events.ExtensionApproved(
                extension_request_id=ext,
                chat_session_id=chat,
                ends_at=datetime.now(UTC),
                resolution=Resolution.MITRA,
            ),
            both,
        ),
        protocol.envelope(
            events.ExtensionRejected(
                extension_request_id=ext, chat_session_id=chat, resolution=Resolution.AUTO_REJECT
            ),
            both,
        ),
    ]
    with caplog.at_level(logging.INFO, logger="curhat"):
        log_business_events(batch)
    matched, failed, ended, approved, declined = (r.fields for r in caplog.records)
    assert approved["event"] == "extension.approved" and approved["resolution"] == "mitra"
    assert declined["event"] == "extension.declined" and declined["resolution"] == "auto_reject"
    assert declined["extension_request_id"] == ext and declined["mitra_id"] == mitra
    assert matched["event"] == "pairing.matched"
    assert matched["customer_id"] == customer and matched["mitra_id"] == mitra
    assert matched["chat_session_id"] == chat
    assert failed["event"] == "pairing.failed" and failed["cause"] == "no_mitra_available"
    assert ended == {
        "event": "chat.ended",
        "reason": "time_up",
        "chat_session_id": chat,
        "customer_id": customer,
        "mitra_id": mitra,
    }


def test_ready_message_is_one_json_line_or_a_block_for_a_person() -> None:
    settings = Settings(public_port=8000, internal_port=8001)
    line = ready_message(settings, "json", ["ignored"])
    assert "\n" not in line
    entry = json.loads(line)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry.pop("ts"))
    assert entry == {
        "event": "ready",
        "public": "http://127.0.0.1:8000/",
        "mitra": "http://127.0.0.1:8000/mitra/",
        "control_center": "http://127.0.0.1:8001/cc/",
        "docs": "http://127.0.0.1:8000/docs",
        "internal_docs": "http://127.0.0.1:8001/docs",
    }
    block = ready_message(settings, "text", ["operator  operator@curhat.test / operator-demo-1"])
    assert "Curhat is ready." in block
    for url in ("http://127.0.0.1:8000/", "/mitra/", "http://127.0.0.1:8001/cc/", "/docs"):
        assert url in block
    assert "operator@curhat.test / operator-demo-1" in block
    assert "Demo accounts" not in ready_message(settings, "text", [])
