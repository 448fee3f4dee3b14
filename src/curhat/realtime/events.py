"""The WebSocket protocol, typed: one model per server → client event and per client → server command.

A server event model holds the frame's ``data`` plus its ``type``; ``Envelope`` adds the
``id`` and ``ts`` and serialises it once per fan-out. The AsyncAPI document at
``/asyncapi.json`` and ``docs/websocket.md`` are generated from the lists at the end
of this module, so an event that is not listed here cannot be sent.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, PlainSerializer

from curhat.kit.validation import MessageFields
from curhat.models.enums import (
    CauseTag,
    DefaultAction,
    EndReason,
    RequestClosedReason,
    RequestType,
    Resolution,
    SenderRole,
)


def utc_iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


UtcDateTime = Annotated[datetime, PlainSerializer(utc_iso, return_type=str, when_used="json")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# -- server → client ------------------------------------------------------------------------


class ServerEvent(_Model):
    """Base of every event; subclasses set ``type`` to a ``Literal`` and describe who receives it."""

    type: str
    to: ClassVar[str] = ""

    def data_json(self) -> str:
        return self.model_dump_json(exclude={"type"})


class CustomerName(_Model):
    display_name: str


class MitraRef(_Model):
    id: uuid.UUID
    display_name: str


class MessageBody(_Model):
    id: uuid.UUID
    sender_role: SenderRole
    body: str
    created_at: UtcDateTime
    client_msg_id: str | None


class MitraAvailability(ServerEvent):
    """Whether a customer can start a search now; pushed when the answer changes."""

    type: Literal["MITRA_AVAILABILITY"] = "MITRA_AVAILABILITY"
    to: ClassVar[str] = "customers"
    available: bool
    count: int


class PairingRequestEvent(ServerEvent):
    """A search offered to this mitra: a blast to every eligible mitra, or a returning (targeted) one."""

    type: Literal["PAIRING_REQUEST"] = "PAIRING_REQUEST"
    to: ClassVar[str] = "mitra"
    pairing_request_id: uuid.UUID
    request_type: RequestType
    customer: CustomerName
    duration_minutes: int
    expires_at: UtcDateTime
    seconds_remaining: int


class PairingRequestClosed(ServerEvent):
    """A request this mitra was offered is no longer answerable; remove its card."""

    type: Literal["PAIRING_REQUEST_CLOSED"] = "PAIRING_REQUEST_CLOSED"
    to: ClassVar[str] = "mitra"
    pairing_request_id: uuid.UUID
    reason: RequestClosedReason


class PairingMatched(ServerEvent):
    """The customer's search found a bestie; the chat has started."""

    type: Literal["PAIRING_MATCHED"] = "PAIRING_MATCHED"
    to: ClassVar[str] = "customer"
    payment_session_id: uuid.UUID
    pairing_request_id: uuid.UUID
    chat_session_id: uuid.UUID
    mitra: MitraRef
    ends_at: UtcDateTime


class PairingFailed(ServerEvent):
    """The customer's search ended without a chat; ``fallback_offered`` when a blast may follow."""

    type: Literal["PAIRING_FAILED"] = "PAIRING_FAILED"
    to: ClassVar[str] = "customer"
    payment_session_id: uuid.UUID
    pairing_request_id: uuid.UUID
    cause_tag: CauseTag
    fallback_offered: bool


class ReturningChatTimeout(ServerEvent):
    """The targeted mitra did not answer a "Curhat lagi" request in time."""

    type: Literal["RETURNING_CHAT_TIMEOUT"] = "RETURNING_CHAT_TIMEOUT"
    to: ClassVar[str] = "customer"
    payment_session_id: uuid.UUID
    pairing_request_id: uuid.UUID
    mitra_id: uuid.UUID | None
    fallback_offered: bool


class ReturningChatRejected(ServerEvent):
    """The targeted mitra declined a "Curhat lagi" request."""

    type: Literal["RETURNING_CHAT_REJECTED"] = "RETURNING_CHAT_REJECTED"
    to: ClassVar[str] = "customer"
    payment_session_id: uuid.UUID
    pairing_request_id: uuid.UUID
    mitra_id: uuid.UUID | None
    fallback_offered: bool


class ChatSessionStarted(ServerEvent):
    """The mitra accepted and the chat is open."""

    type: Literal["CHAT_SESSION_STARTED"] = "CHAT_SESSION_STARTED"
    to: ClassVar[str] = "mitra"
    chat_session_id: uuid.UUID
    customer: CustomerName
    ends_at: UtcDateTime


class ChatMessageEvent(ServerEvent):
    """A stored message (also the echo to its sender, who matches it by ``client_msg_id``)."""

    type: Literal["CHAT_MESSAGE"] = "CHAT_MESSAGE"
    to: ClassVar[str] = "both"
    chat_session_id: uuid.UUID
    message: MessageBody


class ChatTyping(ServerEvent):
    """The other side is typing (sent at most every 2 s while they type; not stored)."""

    type: Literal["CHAT_TYPING"] = "CHAT_TYPING"
    to: ClassVar[str] = "the other side"
    chat_session_id: uuid.UUID
    sender_role: SenderRole


class ChatRead(ServerEvent):
    """The other side has read every message up to ``up_to_message_id``."""

    type: Literal["CHAT_READ"] = "CHAT_READ"
    to: ClassVar[str] = "the other side"
    chat_session_id: uuid.UUID
    reader_role: SenderRole
    up_to_message_id: uuid.UUID
    read_at: UtcDateTime


class ChatSessionEnding(ServerEvent):
    """The chat ends soon (``chat_end_warning_seconds`` before ``ends_at``)."""

    type: Literal["CHAT_SESSION_ENDING"] = "CHAT_SESSION_ENDING"
    to: ClassVar[str] = "both"
    chat_session_id: uuid.UUID
    ends_at: UtcDateTime
    seconds_left: int


class ChatSessionEnded(ServerEvent):
    """The chat is over (time up, or ended early by either side)."""

    type: Literal["CHAT_SESSION_ENDED"] = "CHAT_SESSION_ENDED"
    to: ClassVar[str] = "both"
    chat_session_id: uuid.UUID
    end_reason: EndReason


class ExtensionRequestEvent(ServerEvent):
    """The customer paid for more time; the mitra approves or rejects before ``expires_at``."""

    type: Literal["EXTENSION_REQUEST"] = "EXTENSION_REQUEST"
    to: ClassVar[str] = "mitra"
    extension_request_id: uuid.UUID
    chat_session_id: uuid.UUID
    duration_minutes: int
    expires_at: UtcDateTime
    default_action: DefaultAction


class ExtensionApproved(ServerEvent):
    """The extension was approved (and charged); the chat's new ``ends_at``."""

    type: Literal["EXTENSION_APPROVED"] = "EXTENSION_APPROVED"
    to: ClassVar[str] = "both"
    extension_request_id: uuid.UUID
    chat_session_id: uuid.UUID
    ends_at: UtcDateTime
    resolution: Resolution


class ExtensionRejected(ServerEvent):
    """The extension was rejected; its payment is voided, nothing is charged."""

    type: Literal["EXTENSION_REJECTED"] = "EXTENSION_REJECTED"
    to: ClassVar[str] = "both"
    extension_request_id: uuid.UUID
    chat_session_id: uuid.UUID
    resolution: Resolution


class ErrorEvent(ServerEvent):
    """A frame this socket sent was refused; the socket stays open."""

    type: Literal["ERROR"] = "ERROR"
    to: ClassVar[str] = "the socket that sent the frame"
    code: str
    message: str


SERVER_EVENTS: tuple[type[ServerEvent], ...] = (
    MitraAvailability,
    PairingRequestEvent,
    PairingRequestClosed,
    PairingMatched,
    PairingFailed,
    ReturningChatTimeout,
    ReturningChatRejected,
    ChatSessionStarted,
    ChatMessageEvent,
    ChatTyping,
    ChatRead,
    ChatSessionEnding,
    ChatSessionEnded,
    ExtensionRequestEvent,
    ExtensionApproved,
    ExtensionRejected,
    ErrorEvent,
)


def event_type(model: type[ServerEvent] | type[ClientCommand]) -> str:
    default = model.model_fields["type"].default
    assert isinstance(default, str)
    return default


# -- client → server ------------------------------------------------------------------------


class ClientCommand(_Model):
    type: str


class Ping(ClientCommand):
    """Heartbeat; send every 10–15 s. Answered by ``{"type": "pong"}``."""

    type: Literal["ping"] = "ping"


class ChatSend(ClientCommand, MessageFields):
    """Send a message; a resend with the same ``client_msg_id`` is not stored twice."""

    type: Literal["chat.send"] = "chat.send"
    chat_session_id: uuid.UUID


class ChatTypingCommand(ClientCommand):
    """This side is typing (send at most every 2 s; the other side gets ``CHAT_TYPING``)."""

    type: Literal["chat.typing"] = "chat.typing"
    chat_session_id: uuid.UUID


class ChatReadCommand(ClientCommand):
    """This side has read up to a message (stored; the other side gets ``CHAT_READ``)."""

    type: Literal["chat.read"] = "chat.read"
    chat_session_id: uuid.UUID
    up_to_message_id: uuid.UUID


CLIENT_COMMANDS: tuple[type[ClientCommand], ...] = (Ping, ChatSend, ChatTypingCommand, ChatReadCommand)

PONG: dict[str, Any] = {"type": "pong"}
