"""The domain's vocabulary: every status, kind and reason stored or sent, as ``StrEnum``s.

Members compare equal to their strings, so rows, JSON and SQL filters keep the
values data.md names; mypy sees a closed set instead of ``str``.
"""

from __future__ import annotations

from enum import StrEnum


class PaymentStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    CONSUMED = "consumed"
    FAILED_PAIRING = "failed_pairing"
    ABANDONED = "abandoned"
    EXPIRED = "expired"
    VOIDED = "voided"


class RequestType(StrEnum):
    BLAST = "blast"
    RETURNING = "returning"


class RequestStatus(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    FAILED = "failed"
    CANCELLED = "cancelled"


class OfferResponse(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class RequestClosedReason(StrEnum):
    """Why a mitra's card closed (``PAIRING_REQUEST_CLOSED.reason``)."""

    TAKEN = "taken"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class ChatStatus(StrEnum):
    ACTIVE = "active"
    ENDED = "ended"


class EndReason(StrEnum):
    TIME_UP = "time_up"
    CUSTOMER_ENDED = "customer_ended"
    MITRA_ENDED = "mitra_ended"


class ExtensionStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class Resolution(StrEnum):
    """Who or what decided an extension."""

    MITRA = "mitra"
    AUTO_APPROVE = "auto_approve"
    AUTO_REJECT = "auto_reject"
    MITRA_OFFLINE = "mitra_offline"


class DefaultAction(StrEnum):
    """``extension_default_action_on_timeout``."""

    AUTO_APPROVE = "auto_approve"
    AUTO_REJECT = "auto_reject"


class CauseTag(StrEnum):
    NO_MITRA_AVAILABLE = "no_mitra_available"
    ALL_MITRAS_REJECTED = "all_mitras_rejected"
    TARGETED_MITRA_OFFLINE = "targeted_mitra_offline"
    TARGETED_MITRA_REJECTED = "targeted_mitra_rejected"
    TARGETED_MITRA_TIMEOUT = "targeted_mitra_timeout"
    PAYMENT_SESSION_EXPIRED = "payment_session_expired"
    CUSTOMER_CANCELLED = "customer_cancelled"


TARGETED_CAUSES = frozenset(
    {CauseTag.TARGETED_MITRA_OFFLINE, CauseTag.TARGETED_MITRA_REJECTED, CauseTag.TARGETED_MITRA_TIMEOUT}
)


class OperatorAction(StrEnum):
    REFUNDED = "refunded"
    CREDITED = "credited"
    NO_ACTION = "no_action"


class OfferAction(StrEnum):
    """A mitra's answer to a pairing request."""

    ACCEPT = "accept"
    REJECT = "reject"


class ExtensionAction(StrEnum):
    """A mitra's answer to an extension request."""

    APPROVE = "approve"
    REJECT = "reject"


class SenderRole(StrEnum):
    CUSTOMER = "customer"
    MITRA = "mitra"
