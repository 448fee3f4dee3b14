"""Typed FastAPI dependencies: what endpoints use of this process's runtime, one piece each.

Only ``app.py`` puts the runtime on the app; endpoints ask for the narrow piece they need.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, cast

from fastapi import Depends
from starlette.requests import HTTPConnection

from curhat.app_config.service import ConfigService, ConfigSnapshot
from curhat.auth.passwords import PasswordHashing
from curhat.auth.ratelimit import LoginRateLimiter
from curhat.auth.tokens import TokenSigner
from curhat.presence.service import Presence

if TYPE_CHECKING:
    from curhat.runtime import Runtime


def runtime_of(conn: HTTPConnection) -> Runtime:
    """The runtime the app factory attached (also usable without FastAPI's dependency machinery)."""
    return cast("Runtime", conn.app.state.runtime)


def get_config_service(conn: HTTPConnection) -> ConfigService:
    return runtime_of(conn).config


async def get_config(conn: HTTPConnection) -> ConfigSnapshot:
    return await runtime_of(conn).config.get()


def get_presence(conn: HTTPConnection) -> Presence:
    return runtime_of(conn).presence


def get_signer(conn: HTTPConnection) -> TokenSigner:
    return runtime_of(conn).signer


def get_login_limiter(conn: HTTPConnection) -> LoginRateLimiter:
    return runtime_of(conn).login_limiter


def get_passwords(conn: HTTPConnection) -> PasswordHashing:
    return runtime_of(conn).passwords


ConfigDep = Annotated[ConfigSnapshot, Depends(get_config)]
ConfigServiceDep = Annotated[ConfigService, Depends(get_config_service)]
PresenceDep = Annotated[Presence, Depends(get_presence)]
SignerDep = Annotated[TokenSigner, Depends(get_signer)]
LoginLimiterDep = Annotated[LoginRateLimiter, Depends(get_login_limiter)]
PasswordsDep = Annotated[PasswordHashing, Depends(get_passwords)]
