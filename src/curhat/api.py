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
from curhat.payments import endpoints as payment_endpoints
from curhat.payments.failures import endpoints as failure_endpoints
from curhat.presence import endpoints as presence_endpoints
from curhat.pricing import admin_endpoints as price_tier_admin_endpoints
from curhat.pricing import endpoints as pricing_endpoints


def public_routers() -> list[APIRouter]:
    """HTTP routers; ``/ws`` and ``/asyncapi.json`` are added by the app factory with their server."""
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


DESCRIPTIONS = {
    "public": (
        "The customer and mitra API. Authenticate with `Authorization: Bearer <token>` from "
        "the login endpoints. Errors share one envelope `{error, message, fields?}`; validation "
        "failures are 400 `validation_error`. Realtime events: `/ws`, described at `/asyncapi.json`."
    ),
    "internal": (
        "The control center API (internal listener only). Operators authenticate with "
        "`POST /internal/auth/login` and send `Authorization: Bearer <token>`."
    ),
}

_TAGS: dict[str, str] = {
    "availability": "Whether a bestie is available now (served from memory; poll every 5 s).",
    "health": "Liveness, readiness (PostgreSQL and Valkey) and Prometheus metrics.",
    "customer accounts": "Customer registration, login and profile.",
    "mitra accounts": "Mitra (bestie) login.",
    "operator accounts": "Control-center operator login.",
    "pricing": "Price tiers as the customer sees them (free trial applied).",
    "payments": "Payment sessions: create, confirm, cancel, read (with the pairing state).",
    "pairing": "Searches for a bestie: the blast, Curhat lagi, cancel, fallback, and mitra answers.",
    "customer chat": "The customer's chat sessions and messages.",
    "mitra chat": "The mitra's chat sessions and messages.",
    "extensions": "Buying more time in a running chat, and the mitra's answer.",
    "mitra status": "A mitra going online or offline, and their own figures.",
    "realtime": "The WebSocket protocol's published description.",
    "config": "Business settings (timeouts, capacity, free trial, extension default).",
    "failed pairings": "The queue of failed pairings to refund, credit or close.",
    "mitras": "Mitra accounts: create, deactivate, reset password, live presence.",
    "price tiers": "Price tiers: list, add, edit, deactivate.",
    "control center": "Dashboard figures and support lists.",
}

_LISTENER_TAGS = {
    "public": [
        "availability",
        "customer accounts",
        "mitra accounts",
        "pricing",
        "payments",
        "pairing",
        "customer chat",
        "mitra chat",
        "extensions",
        "mitra status",
        "realtime",
        "health",
    ],
    "internal": [
        "operator accounts",
        "config",
        "failed pairings",
        "mitras",
        "price tiers",
        "control center",
        "health",
    ],
}


def tags(listener: str) -> list[dict[str, str]]:
    """OpenAPI tag objects, in the order the docs show them."""
    return [{"name": name, "description": _TAGS[name]} for name in _LISTENER_TAGS[listener]]
