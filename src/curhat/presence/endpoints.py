"""``GET /api/client/mitra-availability``: the in-process snapshot, no PostgreSQL, no Valkey.

This is the hottest endpoint (every customer's home screen polls it every 5 s), so it
avoids FastAPI's dependency machinery: it reads the bearer token itself and remembers
tokens it has verified until they expire (HMAC checked once per token, not per poll).
The body is the snapshot's JSON, encoded once per change.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from curhat.deps import runtime_of
from curhat.errors import Unauthorized, error_response

router = APIRouter(tags=["availability"])


class AvailabilityOut(BaseModel):
    available: bool
    count: int


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
    runtime = runtime_of(request)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return error_response(Unauthorized("Authentication required."))
    try:
        runtime.verified_tokens.customer(token.strip())
    except Unauthorized as err:
        return error_response(err)
    return Response(content=runtime.presence.availability_body(), media_type="application/json")
