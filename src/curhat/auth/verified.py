"""Customer tokens already verified, for the availability poll (HMAC once per token, not per poll)."""

from __future__ import annotations

import time
import uuid

import jwt

from curhat.auth.tokens import TokenError, TokenSigner
from curhat.errors import Unauthorized

_CACHE_LIMIT = 50_000


class VerifiedTokens:
    """Customer tokens already verified, with their expiry (bounded; cleared when full)."""

    def __init__(self, signer: TokenSigner) -> None:
        self._signer = signer
        self._seen: dict[str, tuple[uuid.UUID, float]] = {}

    def customer(self, token: str) -> uuid.UUID:
        signer = self._signer
        hit = self._seen.get(token)
        now = time.time()
        if hit is not None and hit[1] > now:
            return hit[0]
        try:
            principal = signer.verify(token)
        except TokenError:
            raise Unauthorized("Token is invalid or expired.", code="invalid_token") from None
        if principal.role != "customer":
            raise Unauthorized("This token cannot be used here.", code="wrong_role")
        if len(self._seen) >= _CACHE_LIMIT:
            self._seen.clear()
        # verify() checked the signature and required "exp"; remember the token until then.
        exp = jwt.decode(token, options={"verify_signature": False})["exp"]
        self._seen[token] = (principal.id, float(exp))
        return principal.id
