"""Role checks as FastAPI dependencies: ``CurrentCustomer``, ``CurrentMitra``, ``CurrentOperator``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from curhat.auth.tokens import Principal, Role, TokenError
from curhat.deps import get_signer
from curhat.errors import Unauthorized

_bearer = HTTPBearer(auto_error=False)


def _principal(request: Request, credentials: HTTPAuthorizationCredentials | None, role: Role) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("Authentication required.")
    try:
        principal = get_signer(request).verify(credentials.credentials)
    except TokenError:
        raise Unauthorized("Token is invalid or expired.", code="invalid_token") from None
    if principal.role != role:
        raise Unauthorized("This token cannot be used here.", code="wrong_role")
    return principal


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def customer_principal(request: Request, credentials: Credentials) -> Principal:
    return _principal(request, credentials, "customer")


def mitra_principal(request: Request, credentials: Credentials) -> Principal:
    return _principal(request, credentials, "mitra")


def operator_principal(request: Request, credentials: Credentials) -> Principal:
    return _principal(request, credentials, "cc")


CurrentCustomer = Annotated[Principal, Depends(customer_principal)]
CurrentMitra = Annotated[Principal, Depends(mitra_principal)]
CurrentOperator = Annotated[Principal, Depends(operator_principal)]
