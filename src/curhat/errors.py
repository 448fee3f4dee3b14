"""One error hierarchy with stable codes, and the JSON envelope every non-2xx answer uses."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException


class CurhatError(Exception):
    status: int = 400
    code: str = "bad_request"
    message: str = "Permintaan tidak dapat diproses."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        status: int | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        if message is not None:
            self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.extra = extra or {}
        self.headers = headers
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, **self.extra}


class NotFound(CurhatError):
    status = 404
    code = "not_found"
    message = "Not found."


class Conflict(CurhatError):
    status = 409
    code = "conflict"
    message = "Conflict."


class BadRequest(CurhatError):
    status = 400
    code = "bad_request"


class Unauthorized(CurhatError):
    status = 401
    code = "unauthorized"
    message = "Authentication required."


class Forbidden(CurhatError):
    status = 403
    code = "forbidden"
    message = "Not allowed."


class TooManyAttempts(CurhatError):
    status = 429
    code = "too_many_attempts"
    message = "Too many attempts; try again later."


class ServiceUnavailable(CurhatError):
    status = 503
    code = "service_unavailable"
    message = "A dependency is unavailable; try again shortly."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, headers={"Retry-After": "5"})


class ValidationFailed(CurhatError):
    status = 400
    code = "validation_error"
    message = "Request validation failed."

    def __init__(self, fields: list[dict[str, str]], message: str | None = None) -> None:
        super().__init__(message, extra={"fields": fields})


def error_response(err: CurhatError) -> JSONResponse:
    return JSONResponse(err.body(), status_code=err.status, headers=err.headers)


def _field_name(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


BODY_NOT_JSON = "Isi permintaan bukan JSON yang valid."


def validation_fields(errors: Any) -> list[dict[str, str]]:
    fields = []
    for e in errors:
        if e.get("type") == "json_invalid":
            # FastAPI puts the character position in ``loc``; that is not a field.
            fields.append({"field": "body", "message": BODY_NOT_JSON})
        else:
            fields.append({"field": _field_name(e.get("loc", ())), "message": str(e.get("msg", ""))})
    return fields


def install_error_handlers(app: FastAPI) -> None:
    async def on_curhat_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, CurhatError)
        return error_response(exc)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return error_response(ValidationFailed(validation_fields(exc.errors())))

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        codes = {
            404: "not_found",
            405: "method_not_allowed",
            413: "payload_too_large",
            401: "unauthorized",
        }
        if exc.status_code == 400:
            # FastAPI could not parse the body at all (e.g. JSON nested thousands deep).
            return error_response(ValidationFailed([{"field": "body", "message": BODY_NOT_JSON}]))
        code = codes.get(exc.status_code, "http_error")
        return JSONResponse(
            {"error": code, "message": str(exc.detail)},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    async def on_overflow(request: Request, exc: Exception) -> JSONResponse:
        # A date or number from the request that no column can hold (checked where it is parsed;
        # this is the backstop, so it is never a 500).
        return error_response(ValidationFailed([], "Nilai di luar rentang yang didukung."))

    app.add_exception_handler(OverflowError, on_overflow)
    app.add_exception_handler(CurhatError, on_curhat_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
