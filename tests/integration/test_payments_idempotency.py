"""Idempotency-Key on POST /api/client/payment-sessions (sequential cases; the race is elsewhere)."""

from __future__ import annotations

import httpx
import pytest

from curhat.runtime import Runtime
from tests.fixtures.factories import make_customer
from tests.integration.test_payments_support import BASE, count, sql


async def test_same_key_same_body_replays_the_first_answer(
    public: httpx.AsyncClient, runtime: Runtime
) -> None:
    customer = await make_customer(runtime)
    headers = {**customer.headers, "Idempotency-Key": "k-1"}
    first = await public.post(BASE, json={"duration_minutes": 30}, headers=headers)
    assert first.status_code == 201
    pid = first.json()["id"]
    # The session moves on; the replay is still the first answer.
    assert (await public.post(f"{BASE}/{pid}/confirm", headers=customer.headers)).status_code == 200
    again = await public.post(BASE, json={"duration_minutes": 30, "is_extension": False}, headers=headers)
    assert again.status_code == 201 and again.text == first.text
    assert await count(runtime, "payment_sessions") == 1


async def test_same_key_other_body_is_409(public: httpx.AsyncClient, runtime: Runtime) -> None:
    customer = await make_customer(runtime)
    headers = {**customer.headers, "Idempotency-Key": "k-2"}
    assert (await public.post(BASE, json={"duration_minutes": 30}, headers=headers)).status_code == 201
    r = await public.post(BASE, json={"duration_minutes": 60}, headers=headers)
    assert r.status_code == 409 and r.json()["error"] == "idempotency_key_reused"
    assert await count(runtime, "payment_sessions") == 1


async def test_keys_are_per_customer_and_absent_keys_create_each_time(
    public: httpx.AsyncClient, runtime: Runtime
) -> None:
    a, b = await make_customer(runtime), await make_customer(runtime)
    ra = await public.post(
        BASE, json={"duration_minutes": 30}, headers={**a.headers, "Idempotency-Key": "same"}
    )
    rb = await public.post(
        BASE, json={"duration_minutes": 30}, headers={**b.headers, "Idempotency-Key": "same"}
    )
    assert ra.json()["id"] != rb.json()["id"]
    r1 = await public.post(BASE, json={"duration_minutes": 30}, headers=a.headers)
    r2 = await public.post(BASE, json={"duration_minutes": 30}, headers=a.headers)
    assert r1.json()["id"] != r2.json()["id"]
    assert await count(runtime, "payment_sessions") == 4


async def test_a_key_older_than_24_hours_is_replaced(public: httpx.AsyncClient, runtime: Runtime) -> None:
    customer = await make_customer(runtime)
    headers = {**customer.headers, "Idempotency-Key": "old"}
    first = (await public.post(BASE, json={"duration_minutes": 30}, headers=headers)).json()
    await sql(runtime, "UPDATE idempotency_keys SET created_at = now() - interval '25 hours'")
    # Even another body is fine now: the old key answers nothing any more.
    second = await public.post(BASE, json={"duration_minutes": 60}, headers=headers)
    assert second.status_code == 201 and second.json()["id"] != first["id"]
    third = await public.post(BASE, json={"duration_minutes": 60}, headers=headers)
    assert third.json()["id"] == second.json()["id"]
    assert await count(runtime, "idempotency_keys") == 1


async def test_a_refused_create_stores_nothing_for_the_key(
    public: httpx.AsyncClient, runtime: Runtime
) -> None:
    customer = await make_customer(runtime)
    headers = {**customer.headers, "Idempotency-Key": "retry-me"}
    r = await public.post(BASE, json={"duration_minutes": 45}, headers=headers)
    assert r.status_code == 400
    assert await count(runtime, "idempotency_keys") == 0
    assert (await public.post(BASE, json={"duration_minutes": 30}, headers=headers)).status_code == 201


@pytest.mark.parametrize("key", ["", "x" * 256, "has space", "tab\tkey"])
async def test_malformed_keys_are_400(public: httpx.AsyncClient, runtime: Runtime, key: str) -> None:
    customer = await make_customer(runtime)
    r = await public.post(
        BASE, json={"duration_minutes": 30}, headers={**customer.headers, "Idempotency-Key": key}
    )
    assert r.status_code == 400 and r.json()["error"] == "validation_error"
    assert await count(runtime, "payment_sessions") == 0
