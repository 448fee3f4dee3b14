"""JWTs: one role per token (customer, mitra, cc), signed with the process secret."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Literal

import jwt

Role = Literal["customer", "mitra", "cc"]
ROLES: tuple[Role, ...] = ("customer", "mitra", "cc")


@dataclass(frozen=True)
class Principal:
    id: uuid.UUID
    role: Role


class TokenError(Exception):
    pass


class TokenSigner:
    def __init__(self, secret: str, ttl_seconds: int) -> None:
        self._secret = secret
        self.ttl_seconds = ttl_seconds

    def issue(self, subject: uuid.UUID, role: Role) -> str:
        now = int(time.time())
        claims = {"sub": str(subject), "role": role, "iat": now, "exp": now + self.ttl_seconds}
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token, self._secret, algorithms=["HS256"], options={"require": ["exp", "sub", "role"]}
            )
            role = claims["role"]
            if role not in ROLES:
                raise TokenError("unknown role")
            return Principal(uuid.UUID(str(claims["sub"])), role)
        except (jwt.PyJWTError, ValueError, KeyError) as exc:
            raise TokenError(str(exc)) from None
