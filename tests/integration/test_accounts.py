import asyncio

import httpx
from sqlalchemy import func, select

from curhat.models import User
from curhat.runtime import Runtime
from tests.fixtures.factories import make_customer, make_mitra, make_operator


async def _count_users(runtime: Runtime) -> int:
    async with runtime.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(User)) or 0)


async def test_register_normalises_phone_and_logs_in_with_either_form(public: httpx.AsyncClient) -> None:
    r = await public.post(
        "/api/client/auth/register",
        json={"phone": "0812-1111-2222", "password": "rahasia-123", "display_name": "  Sari  "},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["token_type"] == "bearer"
    assert body["user"]["phone"] == "+6281211112222"
    assert body["user"]["display_name"] == "Sari"

    r = await public.post(
        "/api/client/auth/login", json={"phone": "6281211112222", "password": "rahasia-123"}
    )
    assert r.status_code == 200
    me = await public.get("/api/client/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"})
    assert me.status_code == 200
    assert me.json()["phone"] == "+6281211112222"
    assert me.json()["free_trial_eligible"] is True


async def test_duplicate_phone_is_409_and_writes_nothing(public: httpx.AsyncClient, runtime: Runtime) -> None:
    body = {"phone": "081233334444", "password": "rahasia-123", "display_name": "A"}
    assert (await public.post("/api/client/auth/register", json=body)).status_code == 201
    r = await public.post("/api/client/auth/register", json={**body, "phone": "+6281233334444"})
    assert r.status_code == 409 and r.json()["error"] == "phone_taken"
    assert await _count_users(runtime) == 1


async def test_bad_input_is_400_with_fields_and_writes_nothing(
    public: httpx.AsyncClient, runtime: Runtime
) -> None:
    cases = [
        {"phone": "12345", "password": "rahasia-123", "display_name": "A"},
        {"phone": "081233334444", "password": "short", "display_name": "A"},
        {"phone": "081233334444", "password": "rahasia-123", "display_name": "   "},
        {"phone": "081233334444", "password": "rahasia-123", "display_name": "x" * 41},
        {"phone": "081233334444", "password": "rahasia-123"},
    ]
    expected = ["phone", "password", "display_name", "display_name", "display_name"]
    for body, field in zip(cases, expected, strict=True):
        r = await public.post("/api/client/auth/register", json=body)
        assert r.status_code == 400, r.text
        assert r.json()["error"] == "validation_error"
        assert field in [f["field"] for f in r.json()["fields"]]
    r = await public.post(
        "/api/client/auth/register", content=b'{"phone": ', headers={"content-type": "application/json"}
    )
    assert r.status_code == 400 and r.json()["error"] == "validation_error"
    assert await _count_users(runtime) == 0


async def test_oversized_body_is_413(public: httpx.AsyncClient, runtime: Runtime) -> None:
    big = {"phone": "081233334444", "password": "rahasia-123", "display_name": "x" * (70 * 1024)}
    r = await public.post("/api/client/auth/register", json=big)
    assert r.status_code == 413 and r.json()["error"] == "payload_too_large"

    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(80):
            yield b"x" * 1024

    r = await public.post(
        "/api/client/auth/register", content=chunks(), headers={"content-type": "application/json"}
    )
    assert r.status_code == 413
    assert await _count_users(runtime) == 0


async def test_wrong_password_and_unknown_phone_look_the_same(
    public: httpx.AsyncClient, runtime: Runtime
) -> None:
    customer = await make_customer(runtime)
    a = await public.post("/api/client/auth/login", json={"phone": customer.phone, "password": "wrong-pass"})
    b = await public.post("/api/client/auth/login", json={"phone": "081299998888", "password": "wrong-pass"})
    assert a.status_code == b.status_code == 401
    assert a.json()["error"] == b.json()["error"] == "invalid_credentials"


async def test_login_is_rate_limited_per_phone_then_per_address(
    public: httpx.AsyncClient, runtime: Runtime
) -> None:
    customer = await make_customer(runtime)
    limit = runtime.settings.login_attempts_per_window
    for _ in range(limit):
        r = await public.post(
            "/api/client/auth/login", json={"phone": customer.phone, "password": "wrong-pass"}
        )
        assert r.status_code == 401
    r = await public.post(
        "/api/client/auth/login", json={"phone": customer.phone, "password": customer.password}
    )
    assert r.status_code == 429 and r.json()["error"] == "too_many_attempts"
    assert "retry-after" in r.headers

    # One address spraying many phones is stopped too, even for phones never tried.
    # Two at a time, as many as the hashing slots: a bigger burst may be shed with 503 instead.
    slots = asyncio.Semaphore(runtime.settings.password_hash_concurrency)

    async def attempt(phone: str) -> httpx.Response:
        async with slots:
            return await public.post(
                "/api/client/auth/login", json={"phone": phone, "password": "wrong-pass"}
            )

    results = await asyncio.gather(*(attempt(f"0813{i:08d}") for i in range(limit * 5)))
    assert {r.status_code for r in results} <= {401, 429}
    r = await public.post("/api/client/auth/login", json={"phone": "081377776666", "password": "wrong-pass"})
    assert r.status_code == 429


async def test_mitra_and_operator_login(
    public: httpx.AsyncClient, internal: httpx.AsyncClient, runtime: Runtime
) -> None:
    mitra = await make_mitra(runtime)
    r = await public.post("/api/mitra/auth/login", json={"phone": mitra.phone, "password": mitra.password})
    assert r.status_code == 200 and r.json()["mitra"]["id"] == str(mitra.id)
    operator = await make_operator(runtime)
    r = await internal.post(
        "/internal/auth/login", json={"email": operator.phone.upper(), "password": operator.password}
    )
    assert r.status_code == 200 and r.json()["user"]["id"] == str(operator.id)
    r = await internal.post("/internal/auth/login", json={"email": operator.phone, "password": "nope-nope"})
    assert r.status_code == 401


async def test_tokens_are_refused_where_their_role_does_not_belong(
    public: httpx.AsyncClient, internal: httpx.AsyncClient, runtime: Runtime
) -> None:
    customer = await make_customer(runtime)
    mitra = await make_mitra(runtime)
    operator = await make_operator(runtime)
    assert (await public.get("/api/client/me", headers=mitra.headers)).status_code == 401
    assert (await public.get("/api/client/me", headers=operator.headers)).status_code == 401
    assert (await internal.get("/internal/config", headers=customer.headers)).status_code == 401
    assert (await internal.get("/internal/config", headers=mitra.headers)).status_code == 401
    r = await public.get("/api/client/me", headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401 and r.json()["error"] == "invalid_token"
    assert (await public.get("/api/client/me")).status_code == 401
    assert (await internal.get("/internal/config", headers=operator.headers)).status_code == 200


async def test_expired_token_is_401(public: httpx.AsyncClient, runtime: Runtime) -> None:
    import time

    import jwt

    customer = await make_customer(runtime)
    token = jwt.encode(
        {"sub": str(customer.id), "role": "customer", "exp": int(time.time()) - 1},
        runtime.settings.jwt_secret,
        algorithm="HS256",
    )
    r = await public.get("/api/client/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401 and r.json()["error"] == "invalid_token"


async def test_sign_ups_are_limited_per_address(public: httpx.AsyncClient, runtime: Runtime) -> None:
    limit = runtime.settings.registrations_per_address
    for i in range(limit):
        r = await public.post(
            "/api/client/auth/register",
            json={"phone": f"08121000{i:04d}", "password": "rahasia-123", "display_name": f"Sari {i}"},
        )
        assert r.status_code == 201, r.text
    r = await public.post(
        "/api/client/auth/register",
        json={"phone": "081219999999", "password": "rahasia-123", "display_name": "Satu lagi"},
    )
    assert r.status_code == 429 and r.json()["error"] == "too_many_attempts"
    assert 0 < int(r.headers["Retry-After"]) <= runtime.settings.registration_window_seconds
    assert await _count_users(runtime) == limit
