"""create_public_app() / create_internal_app(): middleware, error envelope, routers."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from valkey.exceptions import ConnectionError as ValkeyConnectionError
from valkey.exceptions import TimeoutError as ValkeyTimeout

from curhat import api
from curhat.errors import ServiceUnavailable, error_response, install_error_handlers
from curhat.observability import RequestMiddleware
from curhat.runtime import Runtime

log = logging.getLogger(__name__)

_DEPENDENCY_DOWN = (
    OperationalError,
    InterfaceError,
    PoolTimeout,
    ConnectionRefusedError,
    ConnectionResetError,
    ValkeyConnectionError,
    ValkeyTimeout,
)


def _base_app(runtime: Runtime, title: str, listener: str) -> FastAPI:
    app = FastAPI(title=title, version="0.1.0")
    app.state.runtime = runtime
    install_error_handlers(app)

    async def on_dependency_down(request: Request, exc: Exception) -> JSONResponse:
        log.warning("dependency unavailable: %s", type(exc).__name__)
        return error_response(ServiceUnavailable())

    async def on_dbapi(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DBAPIError)
        if exc.connection_invalidated:
            return error_response(ServiceUnavailable())
        return await on_unexpected(request, exc)

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error", exc_info=exc)
        return JSONResponse({"error": "internal_error", "message": "Internal server error."}, status_code=500)

    for exc_type in _DEPENDENCY_DOWN:
        app.add_exception_handler(exc_type, on_dependency_down)
    app.add_exception_handler(DBAPIError, on_dbapi)
    app.add_exception_handler(Exception, on_unexpected)
    app.add_middleware(RequestMiddleware, listener=listener, metrics=runtime.metrics)
    return app


def create_public_app(runtime: Runtime) -> FastAPI:
    app = _base_app(runtime, "Curhat public API", "public")
    for router in api.public_routers():
        app.include_router(router)
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
