"""Business events as log lines, read off the events a committed transaction sends.

Every outcome an operator asks about (a pairing matched or failed and why, a chat ended,
an extension decided) already leaves as a WebSocket event after its commit, so the log
line is written there: only for what really happened, once per cluster (by the instance
that committed), and without a line of logging code in the services' hot paths.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from curhat.observability import events_log, log_event
from curhat.realtime import events
from curhat.realtime.protocol import Envelope

log = events_log

Describe = Callable[[Any, dict[str, Any]], tuple[str, dict[str, Any]]]


def _ids(envelope: Envelope) -> dict[str, Any]:
    return {f"{r.role}_id": r.id for r in envelope.recipients}


def _matched(e: events.PairingMatched, who: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return "pairing.matched", {
        "payment_session_id": e.payment_session_id,
        "pairing_request_id": e.pairing_request_id,
        "chat_session_id": e.chat_session_id,
        "customer_id": who.get("customer_id"),
        "mitra_id": e.mitra.id,
    }


def _failed(e: events.PairingFailed, who: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return "pairing.failed", {
        "cause": e.cause_tag,
        "fallback_offered": e.fallback_offered,
        "payment_session_id": e.payment_session_id,
        "pairing_request_id": e.pairing_request_id,
        **who,
    }


def _chat_ended(e: events.ChatSessionEnded, who: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return "chat.ended", {"reason": e.end_reason, "chat_session_id": e.chat_session_id, **who}


def _extension_approved(e: events.ExtensionApproved, who: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return "extension.approved", {
        "resolution": e.resolution,
        "extension_request_id": e.extension_request_id,
        "chat_session_id": e.chat_session_id,
        **who,
    }


def _extension_declined(e: events.ExtensionRejected, who: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return "extension.declined", {
        "resolution": e.resolution,
        "extension_request_id": e.extension_request_id,
        "chat_session_id": e.chat_session_id,
        **who,
    }


_DESCRIBE: dict[type[events.ServerEvent], Describe] = {
    events.PairingMatched: _matched,
    events.PairingFailed: _failed,
    events.ChatSessionEnded: _chat_ended,
    events.ExtensionApproved: _extension_approved,
    events.ExtensionRejected: _extension_declined,
}


def log_business_events(envelopes: list[Envelope]) -> None:
    """A ``Transactions.tap``: one INFO line per business event (a dict lookup for the rest)."""
    if not log.isEnabledFor(logging.INFO):
        return
    for envelope in envelopes:
        describe = _DESCRIBE.get(type(envelope.event))
        if describe is None:
            continue
        try:
            name, fields = describe(envelope.event, _ids(envelope))
            log_event(log, name, **fields)
        except Exception:  # a log line must never stop the events from going out
            log.warning("could not log %s", envelope.type, exc_info=True)
