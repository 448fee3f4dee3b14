"""CORS on the internal listener: a browser may PATCH/PUT/DELETE from a configured origin only."""

from __future__ import annotations

import httpx
import pytest

from curhat.app import create_internal_app, create_public_app
from curhat.config import Settings
from tests.fixtures.app import RuntimeFactory, client_for
from tests.fixtures.factories import make_operator

CC = "http://cc.example"


def _preflight(origin: str, method: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization, content-type",
    }


@pytest.mark.parametrize("method", ["PATCH", "PUT", "DELETE", "POST", "GET"])
async def test_preflight_from_a_configured_origin_allows_every_method_used(
    settings: Settings, start_runtime: RuntimeFactory, method: str
) -> None:
    async with (
        start_runtime(settings.model_copy(update={"cc_origins": f"{CC}, http://other.example"})) as runtime,
        client_for(create_internal_app(runtime), "http://internal.test") as internal,
    ):
        r = await internal.options("/internal/config/max_customers_per_mitra", headers=_preflight(CC, method))
        assert r.status_code == 200, r.text
        assert r.headers["access-control-allow-origin"] == CC
        allowed = {m.strip() for m in r.headers["access-control-allow-methods"].split(",")}
        assert {"PATCH", "PUT", "DELETE", "GET", "POST", "OPTIONS"} <= allowed
        assert {"authorization", "content-type"} <= {
            h.strip().lower() for h in r.headers["access-control-allow-headers"].split(",")
        }


async def test_the_actual_patch_from_a_configured_origin_is_readable(
    settings: Settings, start_runtime: RuntimeFactory
) -> None:
    async with (
        start_runtime(settings.model_copy(update={"cc_origins": CC})) as runtime,
        client_for(create_internal_app(runtime), "http://internal.test") as internal,
    ):
        operator = await make_operator(runtime)
        r = await internal.patch(
            "/internal/config/max_customers_per_mitra",
            json={"value": 4},
            headers={**operator.headers, "Origin": CC},
        )
        assert r.status_code == 200
        assert r.headers["access-control-allow-origin"] == CC


async def test_unknown_origin_is_not_allowed(settings: Settings, start_runtime: RuntimeFactory) -> None:
    async with (
        start_runtime(settings.model_copy(update={"cc_origins": CC})) as runtime,
        client_for(create_internal_app(runtime), "http://internal.test") as internal,
    ):
        r = await internal.options(
            "/internal/config/max_customers_per_mitra", headers=_preflight("http://evil.example", "PATCH")
        )
        assert r.status_code == 400
        assert "access-control-allow-origin" not in r.headers
        r = await internal.get("/healthz", headers={"Origin": "http://evil.example"})
        assert "access-control-allow-origin" not in r.headers


async def test_own_origin_is_allowed_without_configuration(
    settings: Settings, start_runtime: RuntimeFactory
) -> None:
    own = f"http://{settings.internal_host}:{settings.internal_port}"
    async with (
        start_runtime(settings) as runtime,
        client_for(create_internal_app(runtime), "http://internal.test") as internal,
    ):
        r = await internal.options("/internal/mitras", headers=_preflight(own, "PATCH"))
        assert r.status_code == 200 and r.headers["access-control-allow-origin"] == own
        r = await internal.options("/internal/mitras", headers=_preflight(CC, "PATCH"))
        assert "access-control-allow-origin" not in r.headers


async def test_public_listener_has_no_cross_origin_grant(
    settings: Settings, start_runtime: RuntimeFactory
) -> None:
    async with (
        start_runtime(settings.model_copy(update={"cc_origins": CC})) as runtime,
        client_for(create_public_app(runtime), "http://public.test") as public,
    ):
        r = await public.get("/healthz", headers={"Origin": CC})
        assert "access-control-allow-origin" not in r.headers
        assert (await public.get("/internal/mitras")).status_code == 404


async def test_preflight_needs_no_token(internal: httpx.AsyncClient, settings: Settings) -> None:
    # The browser sends no Authorization on a preflight; it must not be answered 401.
    own = f"http://{settings.internal_host}:{settings.internal_port}"
    r = await internal.options("/internal/mitras", headers=_preflight(own, "POST"))
    assert r.status_code == 200
