"""/healthz, /readyz, /metrics — on both listeners."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from curhat.deps import runtime_of

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up (no dependency checked)."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "service_unavailable"}})
async def readyz(request: Request) -> JSONResponse:
    """PostgreSQL and Valkey both answer; 503 with Retry-After otherwise (take the instance out of
    rotation), and from the moment the process is asked to stop (SIGTERM) while it drains."""
    runtime = runtime_of(request)
    if runtime.draining:
        return JSONResponse(
            {"error": "service_unavailable", "message": "This instance is shutting down.", "checks": {}},
            status_code=503,
            headers={"Retry-After": "5"},
        )
    checks: dict[str, str] = {}

    async def pg() -> None:
        async with runtime.db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    for name, probe in (("postgres", pg), ("valkey", runtime.valkey.ping)):
        try:
            await asyncio.wait_for(probe(), 2)
            checks[name] = "ok"
        except Exception:
            checks[name] = "down"
    if all(v == "ok" for v in checks.values()):
        return JSONResponse({"status": "ready", "checks": checks})
    return JSONResponse(
        {"error": "service_unavailable", "message": "A dependency is unavailable.", "checks": checks},
        status_code=503,
        headers={"Retry-After": "5"},
    )


@router.get("/metrics", response_class=Response, include_in_schema=False)
async def metrics(request: Request) -> Response:
    registry = runtime_of(request).metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
