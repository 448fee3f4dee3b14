"""The error envelope as OpenAPI shows it: one schema, its codes generated from the error classes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from curhat.errors import CurhatError

# Codes the envelope carries that no CurhatError subclass declares (the handlers' own).
GENERIC_CODES = (
    "validation_error",
    "unauthorized",
    "invalid_token",
    "wrong_role",
    "not_found",
    "method_not_allowed",
    "payload_too_large",
    "too_many_attempts",
    "service_unavailable",
    "internal_error",
    "http_error",
)


def error_codes() -> list[str]:
    """Every stable code an answer can carry: each error class's, plus the generic ones."""
    codes: set[str] = set(GENERIC_CODES)
    pending: list[type[CurhatError]] = [CurhatError]
    while pending:
        cls = pending.pop()
        codes.add(cls.code)
        pending.extend(cls.__subclasses__())
    return sorted(codes)


def error_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["error", "message"],
        "properties": {
            "error": {"type": "string", "enum": error_codes(), "description": "stable machine-readable code"},
            "message": {"type": "string", "description": "Indonesian text for a person"},
            "fields": {
                "type": "array",
                "description": "validation_error only: which input was wrong and why",
                "items": {
                    "type": "object",
                    "required": ["field", "message"],
                    "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                },
            },
            "reason": {"type": "string"},
        },
    }


class Error(BaseModel):
    """Every non-2xx body; the app factory replaces this schema with ``error_schema()``."""

    model_config = ConfigDict(extra="allow")

    error: str
    message: str


def error_responses(*codes: tuple[int, str]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for an operator endpoint: 400, 401, ``codes``, then any other 4XX.

    Declaring ``4XX`` also keeps FastAPI from documenting its default 422, which this API
    never answers (validation failures are 400 ``validation_error``).
    """
    out: dict[int | str, dict[str, Any]] = {
        400: {"model": Error, "description": "validation_error"},
        401: {"model": Error, "description": "unauthorized / invalid_token / wrong_role"},
    }
    for status, description in codes:
        out[status] = {"model": Error, "description": description}
    out["4XX"] = {"model": Error, "description": "any other client error, same envelope"}
    out[503] = {"model": Error, "description": "service_unavailable (with Retry-After)"}
    return out
