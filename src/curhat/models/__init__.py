from curhat.models.app_config import AppConfig
from curhat.models.base import Base
from curhat.models.cc_user import CCUser
from curhat.models.chat import ChatMessage, ChatSession
from curhat.models.extension_request import ExtensionRequest
from curhat.models.idempotency_key import IdempotencyKey
from curhat.models.mitra import Mitra
from curhat.models.pairing_failure import PairingFailure
from curhat.models.pairing_request import PairingOffer, PairingRequest
from curhat.models.payment_session import PaymentSession
from curhat.models.price_tier import PriceTier
from curhat.models.user import User

__all__ = [
    "AppConfig",
    "Base",
    "CCUser",
    "ChatMessage",
    "ChatSession",
    "ExtensionRequest",
    "IdempotencyKey",
    "Mitra",
    "PairingFailure",
    "PairingOffer",
    "PairingRequest",
    "PaymentSession",
    "PriceTier",
    "User",
]
