"""The explicit router registry: what each listener serves."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from curhat import health
from curhat.app_config import endpoints as config_endpoints
from curhat.auth import endpoints as auth_endpoints
from curhat.chat import endpoints as chat_endpoints
from curhat.extensions import endpoints as extension_endpoints
from curhat.internal import endpoints as internal_endpoints
from curhat.mitras import endpoints as mitra_endpoints
from curhat.mitras import internal_endpoints as mitra_admin_endpoints
from curhat.pairing import endpoints as pairing_endpoints
from curhat.pairing.failures import endpoints as failure_endpoints
from curhat.payments import endpoints as payment_endpoints
from curhat.presence import endpoints as presence_endpoints
from curhat.pricing import admin_endpoints as price_tier_admin_endpoints
from curhat.pricing import endpoints as pricing_endpoints
from curhat.realtime import endpoints as realtime_endpoints


def public_routers() -> list[APIRouter]:
    return [
        presence_endpoints.router,
        health.router,
        auth_endpoints.customer_router,
        auth_endpoints.mitra_router,
        pricing_endpoints.router,
        payment_endpoints.router,
        pairing_endpoints.router,
        chat_endpoints.router,
        extension_endpoints.router,
        mitra_endpoints.router,
        realtime_endpoints.router,
    ]


def internal_routers() -> list[APIRouter]:
    return [
        health.router,
        auth_endpoints.operator_router,
        config_endpoints.router,
        failure_endpoints.internal_router,
        mitra_admin_endpoints.router,
        price_tier_admin_endpoints.router,
        internal_endpoints.router,
    ]


def mount_public_pages(app: FastAPI) -> None:
    """The customer app at / and the mitra app at /mitra/ (see curhat.web)."""
    from curhat.web import pages

    pages.mount_public(app)


def mount_internal_pages(app: FastAPI) -> None:
    """The control center at /cc/ (see curhat.web.control_center)."""
    from curhat.web import control_center

    control_center.mount(app)
