from __future__ import annotations

from fastapi import APIRouter, Request

from curhat.auth import repository, service
from curhat.auth.deps import CurrentCustomer
from curhat.auth.schemas import (
    AccountOut,
    CustomerMeOut,
    CustomerTokenOut,
    LoginIn,
    MitraTokenOut,
    OperatorLoginIn,
    OperatorOut,
    OperatorTokenOut,
    RegisterIn,
)
from curhat.deps import ConfigDep, LoginLimiterDep, PasswordsDep, SignerDep
from curhat.errors import NotFound, Unauthorized
from curhat.postgres import SessionDep
from curhat.pricing.service import is_customer_eligible_for_free_trial

customer_router = APIRouter(prefix="/api/client", tags=["customer accounts"])
mitra_router = APIRouter(prefix="/api/mitra", tags=["mitra accounts"])
operator_router = APIRouter(prefix="/internal/auth", tags=["operator accounts"])


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@customer_router.post(
    "/auth/register",
    status_code=201,
    responses={409: {"description": "phone_taken"}, 429: {"description": "too_many_attempts"}},
)
async def register(
    body: RegisterIn,
    request: Request,
    session: SessionDep,
    signer: SignerDep,
    limiter: LoginLimiterDep,
    passwords: PasswordsDep,
) -> CustomerTokenOut:
    """Create a customer account (Indonesian mobile number, E.164) and return a customer token;
    sign-ups are limited per address (429)."""
    await limiter.registration(_address(request))
    user = await service.register_customer(session, passwords, body.phone, body.password, body.display_name)
    token = signer.issue(user.id, "customer")
    return CustomerTokenOut(access_token=token, user=AccountOut.model_validate(user, from_attributes=True))


@customer_router.post(
    "/auth/login",
    responses={401: {"description": "invalid_credentials"}, 429: {"description": "too_many_attempts"}},
)
async def login(
    body: LoginIn,
    request: Request,
    session: SessionDep,
    signer: SignerDep,
    limiter: LoginLimiterDep,
    passwords: PasswordsDep,
) -> CustomerTokenOut:
    """Customer login with phone and password; rate-limited per phone and per address (429)."""
    user = await service.login_customer(
        session, passwords, limiter, body.phone, body.password, _address(request)
    )
    token = signer.issue(user.id, "customer")
    return CustomerTokenOut(access_token=token, user=AccountOut.model_validate(user, from_attributes=True))


@customer_router.get("/me", responses={401: {"description": "unauthorized"}})
async def me(principal: CurrentCustomer, session: SessionDep, config: ConfigDep) -> CustomerMeOut:
    """The customer's own profile, with whether the free trial is still available to them."""
    user = await repository.customer_by_id(session, principal.id)
    if user is None:
        raise Unauthorized("Account no longer exists.", code="invalid_token")
    eligible = await is_customer_eligible_for_free_trial(session, user.id, config)
    return CustomerMeOut(
        id=user.id, phone=user.phone, display_name=user.display_name, free_trial_eligible=eligible
    )


@mitra_router.post(
    "/auth/login",
    responses={401: {"description": "invalid_credentials"}, 429: {"description": "too_many_attempts"}},
)
async def mitra_login(
    body: LoginIn,
    request: Request,
    session: SessionDep,
    signer: SignerDep,
    limiter: LoginLimiterDep,
    passwords: PasswordsDep,
) -> MitraTokenOut:
    """Mitra (bestie) login with phone and password; rate-limited like customer login."""
    mitra = await service.login_mitra(
        session, passwords, limiter, body.phone, body.password, _address(request)
    )
    token = signer.issue(mitra.id, "mitra")
    return MitraTokenOut(access_token=token, mitra=AccountOut.model_validate(mitra, from_attributes=True))


@operator_router.post(
    "/login",
    responses={401: {"description": "invalid_credentials"}, 429: {"description": "too_many_attempts"}},
)
async def operator_login(
    body: OperatorLoginIn,
    request: Request,
    session: SessionDep,
    signer: SignerDep,
    limiter: LoginLimiterDep,
    passwords: PasswordsDep,
) -> OperatorTokenOut:
    """Operator login with email and password; the token works on the internal listener only."""
    user = await service.login_operator(
        session, passwords, limiter, body.email, body.password, _address(request)
    )
    token = signer.issue(user.id, "cc")
    return OperatorTokenOut(access_token=token, user=OperatorOut.model_validate(user, from_attributes=True))


__all__ = ["NotFound", "customer_router", "mitra_router", "operator_router"]
