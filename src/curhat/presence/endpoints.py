"""``GET /api/client/mitra-availability``: the in-process snapshot, no PostgreSQL, no Valkey.

This is the hottest endpoint (every customer's home screen polls it every 5 s), so it
avoids FastAPI's dependency machinery: it reads the bearer token itself and remembers
tokens it has verified until they expire (HMAC checked once per token, not per poll).
The body is the snapshot's JSON, encoded once per change.
"""

from __future__ import annotations

import time
import uuid

import jwt
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from curhat.auth.tokens import TokenError, TokenSigner
from curhat.errors import Unauthorized, error_response

router = APIRouter(tags=["availability"])

_CACHE_LIMIT = 50_000


class AvailabilityOut(BaseModel):
    available: bool
    count: int


class VerifiedTokens:
    """Customer tokens already verified, with their expiry (bounded; cleared when full)."""

    def __init__(self) -> None:
        self._seen: dict[str, tuple[uuid.UUID, float]] = {}
        self._signer: TokenSigner | None = None

    def customer(self, signer: TokenSigner, token: str) -> uuid.UUID:
        if signer is not self._signer:  # another runtime (tests): start over
            self._signer, self._seen = signer, {}
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


_verified = VerifiedTokens()


@router.get(
    "/api/client/mitra-availability",
    response_model=AvailabilityOut,
    responses={401: {"description": "unauthorized / invalid_token / wrong_role"}},
    openapi_extra={"security": [{"HTTPBearer": []}]},
)
async def mitra_availability(request: Request) -> Response:
    """``{available, count}`` of mitras online and below capacity (``countAvailableMitrasFromCache``).

    Served from memory, kept current by Valkey pub/sub; ``{available: false, count: 0}``
    while Valkey is unreachable. Customer token required.
    """
    runtime = request.app.state.runtime
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return error_response(Unauthorized("Authentication required."))
    try:
        _verified.customer(runtime.signer, token.strip())
    except Unauthorized as err:
        return error_response(err)
    return Response(content=runtime.presence.availability_body(), media_type="application/json")
