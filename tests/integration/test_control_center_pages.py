"""The control center's HTTP contract without a browser: sign-in cookie, Origin checks, headers."""

from __future__ import annotations

import httpx

from curhat.runtime import Runtime
from tests.fixtures.factories import make_operator

ORIGIN = {"Origin": "http://internal.test"}


async def _signed_in(internal: httpx.AsyncClient, runtime: Runtime) -> None:
    operator = await make_operator(runtime)
    r = await internal.post(
        "/cc/login", data={"email": operator.phone, "password": operator.password}, headers=ORIGIN
    )
    assert r.status_code == 303 and r.headers["location"] == "/cc/dashboard"


async def test_pages_need_a_session_and_come_back_after_login(
    internal: httpx.AsyncClient, runtime: Runtime
) -> None:
    r = await internal.get("/cc/failed-pairings?unactioned=1")
    assert r.status_code == 303
    assert r.headers["location"] == "/cc/login?next=%2Fcc%2Ffailed-pairings%3Funactioned%3D1"
    operator = await make_operator(runtime)
    r = await internal.post(
        "/cc/login",
        data={
            "email": operator.phone,
            "password": operator.password,
            "next": "/cc/failed-pairings?unactioned=1",
        },
        headers=ORIGIN,
    )
    assert r.status_code == 303 and r.headers["location"] == "/cc/failed-pairings?unactioned=1"
    cookie = r.headers["set-cookie"]
    assert "cc_session=" in cookie and "HttpOnly" in cookie and "Path=/cc" in cookie
    assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie
    assert (await internal.get("/cc/failed-pairings?unactioned=1")).status_code == 200


async def test_login_never_redirects_off_site(internal: httpx.AsyncClient, runtime: Runtime) -> None:
    operator = await make_operator(runtime)
    for evil in ("https://evil.example/", "//evil.example/cc/", "/internal/config"):
        r = await internal.post(
            "/cc/login",
            data={"email": operator.phone, "password": operator.password, "next": evil},
            headers=ORIGIN,
        )
        assert r.headers["location"] == "/cc/dashboard"


async def test_wrong_password_shows_the_form_again(internal: httpx.AsyncClient, runtime: Runtime) -> None:
    operator = await make_operator(runtime)
    r = await internal.post(
        "/cc/login", data={"email": operator.phone, "password": "salah-salah"}, headers=ORIGIN
    )
    assert r.status_code == 400 and "Email atau kata sandi salah." in r.text
    assert "cc_session" not in r.headers.get("set-cookie", "")


async def test_a_post_from_another_origin_changes_nothing(
    internal: httpx.AsyncClient, runtime: Runtime
) -> None:
    await _signed_in(internal, runtime)
    for headers in ({"Origin": "https://evil.example"}, {}):
        r = await internal.post("/cc/settings/max_customers_per_mitra", data={"value": "7"}, headers=headers)
        assert r.status_code == 403
    assert (await runtime.config.reload()).max_customers_per_mitra == 3
    r = await internal.post("/cc/settings/max_customers_per_mitra", data={"value": "7"}, headers=ORIGIN)
    assert r.status_code == 303
    assert (await runtime.config.reload()).max_customers_per_mitra == 7


async def test_logout_ends_the_session_server_side(internal: httpx.AsyncClient, runtime: Runtime) -> None:
    await _signed_in(internal, runtime)
    stolen = internal.cookies.get("cc_session")
    assert (await internal.post("/cc/logout", headers=ORIGIN)).status_code == 303
    internal.cookies.set("cc_session", stolen or "", path="/cc")
    assert (await internal.get("/cc/dashboard")).status_code == 303


async def test_every_page_carries_the_security_headers(internal: httpx.AsyncClient, runtime: Runtime) -> None:
    await _signed_in(internal, runtime)
    for path in (
        "/cc/login",
        "/cc/dashboard",
        "/cc/failed-pairings",
        "/cc/mitras",
        "/cc/price-tiers",
        "/cc/settings",
    ):
        r = await internal.get(path)
        assert r.status_code == 200, path
        csp = r.headers["content-security-policy"]
        assert "require-trusted-types-for 'script'" in csp and "frame-ancestors 'none'" in csp
        assert "'unsafe-inline'" not in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"]
        assert r.headers["cache-control"] == "no-store"


async def test_the_json_api_is_unchanged(internal: httpx.AsyncClient, runtime: Runtime) -> None:
    operator = await make_operator(runtime)
    r = await internal.get("/internal/config", headers=operator.headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    r = await internal.get("/internal/config/nope")
    assert r.json()["error"] in ("not_found", "method_not_allowed", "unauthorized")
    assert "content-security-policy" not in r.headers
