"""Operator sign-in for the pages: an opaque session id in a cookie, the session itself in Valkey.

Unlike the API's bearer JWTs, a session here can be ended (log out) before it expires.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request, Response

from curhat.auth import service as auth_service
from curhat.deps import runtime_of
from curhat.postgres import SessionDep

if TYPE_CHECKING:
    from curhat.runtime import Runtime

COOKIE = "cc_session"
COOKIE_PATH = "/cc"
TTL_SECONDS = 12 * 3600


@dataclass(frozen=True)
class Operator:
    id: uuid.UUID
    display_name: str
    email: str


class LoginRequired(Exception):
    """Turned into a redirect to the login page, which comes back to ``next`` afterwards."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


def _key(runtime: Runtime, session_id: str) -> str:
    # Only a digest is stored: reading Valkey does not hand out usable cookies.
    return f"{runtime.keys.prefix}cc:session:{hashlib.sha256(session_id.encode()).hexdigest()}"


async def start(runtime: Runtime, operator_id: uuid.UUID) -> str:
    session_id = secrets.token_urlsafe(32)
    await runtime.valkey.set(_key(runtime, session_id), str(operator_id), ex=TTL_SECONDS)
    return session_id


async def end(runtime: Runtime, session_id: str | None) -> None:
    if session_id:
        await runtime.valkey.delete(_key(runtime, session_id))


async def operator_id(runtime: Runtime, session_id: str | None) -> uuid.UUID | None:
    if not session_id or len(session_id) > 100:
        return None
    raw = await runtime.valkey.get(_key(runtime, session_id))
    try:
        return uuid.UUID(str(raw)) if raw else None
    except ValueError:
        return None


def set_cookie(response: Response, request: Request, session_id: str) -> None:
    response.set_cookie(
        COOKIE,
        session_id,
        max_age=TTL_SECONDS,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def clear_cookie(response: Response) -> None:
    response.delete_cookie(COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict")


def _here(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


async def current_operator(request: Request, session: SessionDep) -> Operator:
    runtime = runtime_of(request)
    found = await operator_id(runtime, request.cookies.get(COOKIE))
    user = await auth_service.get_operator(session, found) if found else None
    if user is None:
        # A POST's form is lost on the way through the login page, so only a GET is resumed.
        raise LoginRequired(_here(request) if request.method == "GET" else "/cc/")
    return Operator(user.id, user.display_name, user.email)


CurrentOperatorPage = Annotated[Operator, Depends(current_operator)]


def safe_next(value: str | None) -> str:
    """Only a path inside the control center: never a redirect to another site."""
    if value and value.startswith("/cc/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/cc/dashboard"
