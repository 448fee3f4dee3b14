"""The explicit router registry: what each listener serves."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from curhat import health
from curhat.app_config import endpoints as config_endpoints
from curhat.auth import endpoints as auth_endpoints


def public_routers() -> list[APIRouter]:
    return [
        health.router,
        auth_endpoints.customer_router,
        auth_endpoints.mitra_router,
    ]


def internal_routers() -> list[APIRouter]:
    return [
        health.router,
        auth_endpoints.operator_router,
        config_endpoints.router,
    ]


def mount_public_pages(app: FastAPI) -> None:
    """The customer app at / and the mitra app at /mitra/ (see curhat.web)."""
    from curhat.web import pages

    pages.mount_public(app)


def mount_internal_pages(app: FastAPI) -> None:
    from curhat.web import pages

    pages.mount_internal(app)
