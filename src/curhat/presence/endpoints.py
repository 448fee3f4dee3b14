"""``GET /api/client/mitra-availability``: the in-process snapshot, no PostgreSQL, no Valkey."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from curhat.auth.deps import CurrentCustomer

router = APIRouter(tags=["availability"])


class AvailabilityOut(BaseModel):
    available: bool
    count: int


@router.get(
    "/api/client/mitra-availability",
    response_model=AvailabilityOut,
    responses={401: {"description": "unauthorized / invalid_token / wrong_role"}},
)
async def mitra_availability(request: Request, customer: CurrentCustomer) -> Response:
    """``{available, count}`` of mitras online and below capacity (``countAvailableMitrasFromCache``).

    Served from memory, kept current by Valkey pub/sub; ``{available: false, count: 0}``
    while Valkey is unreachable.
    """
    body = request.app.state.runtime.presence.availability_body()
    return Response(content=body, media_type="application/json")
