"""Reading HTML forms: plain strings in, Pydantic models validate, messages per field out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)

# Anything longer is not a value a person typed into these forms.
MAX_FIELD = 1000


async def fields(request: Request, *names: str) -> dict[str, str]:
    form = await request.form()
    out: dict[str, str] = {}
    for name in names:
        value = form.get(name)
        out[name] = value[:MAX_FIELD] if isinstance(value, str) else ""
    return out


def field_errors(exc: ValidationError) -> dict[str, str]:
    """One message per field; Pydantic's "Value error, " prefix dropped from our own messages."""
    errors: dict[str, str] = {}
    for e in exc.errors():
        name = str(e["loc"][0]) if e["loc"] else "form"
        errors.setdefault(name, str(e["msg"]).removeprefix("Value error, "))
    return errors


def parse(model: type[M], data: Mapping[str, object]) -> tuple[M | None, dict[str, str]]:
    try:
        return model.model_validate(data), {}
    except ValidationError as exc:
        return None, field_errors(exc)


def optional_int(value: str) -> int | str | None:
    """Empty means not given; anything else goes to the model as typed (it reports non-numbers)."""
    value = value.strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        return value
