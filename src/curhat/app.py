"""create_public_app() / create_internal_app(): middleware, error envelope, routers."""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.types import Receive, Scope, Send
from valkey.exceptions import ConnectionError as ValkeyConnectionError
from valkey.exceptions import TimeoutError as ValkeyTimeout

from curhat import api
from curhat.apidocs import install_docs
from curhat.errors import ServiceUnavailable, error_response, install_error_handlers
from curhat.kit.openapi import error_schema
from curhat.observability import RequestMiddleware
from curhat.realtime import asyncapi
from curhat.realtime import endpoints as realtime_endpoints
from curhat.realtime.connection import SocketServer
from curhat.runtime import Runtime

log = logging.getLogger(__name__)

_DEPENDENCY_DOWN: tuple[type[Exception], ...] = (
    OperationalError,
    InterfaceError,
    PoolTimeout,
    # Raised raw by asyncpg while (re)connecting: FileNotFoundError when the embedded server's
    # Unix socket vanished, ConnectionRefusedError, TimeoutError, other socket errors.
    OSError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    ValkeyConnectionError,
    ValkeyTimeout,
)


def dependency_down(exc: BaseException) -> bool:
    """PostgreSQL or Valkey unreachable, however the driver words it (→ 503 + Retry-After)."""
    seen: BaseException | None = exc
    for _ in range(5):  # the exception, what SQLAlchemy wrapped, what caused that
        if seen is None:
            return False
        if isinstance(seen, _DEPENDENCY_DOWN):
            return True
        if isinstance(seen, DBAPIError) and seen.connection_invalidated:
            return True
        seen = getattr(seen, "orig", None) or seen.__cause__
    return False


def _install_openapi(app: FastAPI) -> None:
    """Document what the server does: validation is 400 (not FastAPI's 422), errors share one shape."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            tags=app.openapi_tags,
            routes=app.routes,
        )
        schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = error_schema()
        ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        for operations in schema.get("paths", {}).values():
            for op in operations.values():
                responses = op.setdefault("responses", {})
                if responses.pop("422", None) is not None:
                    responses.setdefault("400", {"description": "validation_error"})
                for code, response in responses.items():
                    if code.startswith(("4", "5")) and "content" not in response:
                        response.update(ref)
                responses.setdefault("4XX", {"description": "error envelope", **ref})
                responses.setdefault("503", {"description": "service_unavailable", **ref})
        for name in ("HTTPValidationError", "ValidationError"):
            schema["components"]["schemas"].pop(name, None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _operation_id(route: APIRoute) -> str:
    """Short and unique per listener: the function's name, prefixed with the audience when
    the customer and mitra routes share a name (``customer_me``, ``mitra_me``)."""
    parts = route.path.strip("/").split("/")
    audience = {"client": "customer", "mitra": "mitra"}.get(parts[1]) if parts[0] == "api" else None
    if audience and not route.name.startswith(audience):
        return f"{audience}_{route.name}"
    return route.name


def _base_app(runtime: Runtime, title: str, listener: str, *, cls: type[FastAPI] = FastAPI) -> FastAPI:
    app = cls(
        title=title,
        version="0.1.0",
        description=api.DESCRIPTIONS[listener],
        openapi_tags=api.tags(listener),
        docs_url=None,
        redoc_url=None,
        generate_unique_id_function=_operation_id,
    )
    install_docs(app)
    app.state.runtime = runtime
    app.state.transactions = runtime.transactions
    _install_openapi(app)
    install_error_handlers(app)

    async def on_dependency_down(request: Request, exc: Exception) -> JSONResponse:
        log.warning("dependency unavailable: %s", type(exc).__name__)
        return error_response(ServiceUnavailable())

    async def on_dbapi(request: Request, exc: Exception) -> JSONResponse:
        if dependency_down(exc):
            return await on_dependency_down(request, exc)
        return await on_unexpected(request, exc)

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error", exc_info=exc)
        return JSONResponse({"error": "internal_error", "message": "Internal server error."}, status_code=500)

    for exc_type in _DEPENDENCY_DOWN:
        app.add_exception_handler(exc_type, on_dependency_down)
    app.add_exception_handler(DBAPIError, on_dbapi)
    app.add_exception_handler(Exception, on_unexpected)
    app.add_middleware(
        RequestMiddleware, listener=listener, metrics=runtime.metrics, unavailable=dependency_down
    )
    return app


class _PublicApp(FastAPI):
    """Hands ``/ws`` to the socket server before the middleware stack and the router.

    Those layers act on HTTP only, yet on a WebSocket each would keep its coroutine frame
    (and FastAPI its per-request exit stacks) alive for the socket's whole life: ~10 KiB per
    idle socket (P6, docs/benchmarks.md). The route stays registered for the route table.
    """

    sockets: SocketServer | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.sockets is not None and scope["type"] == "websocket" and scope["path"] == "/ws":
            await self.sockets(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_public_app(runtime: Runtime) -> FastAPI:
    app = _base_app(runtime, "Curhat public API", "public", cls=_PublicApp)
    assert isinstance(app, _PublicApp)
    app.sockets = runtime.sockets
    for router in api.public_routers():
        app.include_router(router)
    app.include_router(realtime_endpoints.router_for(runtime.sockets))
    app.include_router(asyncapi.router)
    api.mount_public_pages(app)
    return app


def create_internal_app(runtime: Runtime) -> FastAPI:
    app = _base_app(runtime, "Curhat internal API", "internal")
    for router in api.internal_routers():
        app.include_router(router)
    api.mount_internal_pages(app)
    origins = runtime.settings.cc_origin_list
    s = runtime.settings
    own = [f"http://{s.internal_host}:{s.internal_port}"]
    app.add_middleware(
        CORSMiddleware,
        allow_origins=[*own, *origins],
        allow_methods=["GET", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Request-Id"],
        allow_credentials=False,
        max_age=600,
    )
    return app
