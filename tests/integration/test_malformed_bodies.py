"""Bodies that are not JSON, or JSON nested past any sense → one validation_error shape."""

from __future__ import annotations

import httpx
import pytest

from curhat.runtime import Runtime
from tests.fixtures.factories import make_customer

URL = "/api/client/payment-sessions"


@pytest.mark.parametrize(
    "body",
    [
        b'{"duration_minutes": 30',  # truncated
        b"{'duration_minutes': 30}",  # not JSON
        b"[" * 20_000 + b"]" * 20_000,  # nested 20 000 deep
        b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
    ],
    ids=["truncated", "single-quotes", "deep-array", "deep-object"],
)
async def test_malformed_json_is_one_validation_error_shape(
    public: httpx.AsyncClient, runtime: Runtime, body: bytes
) -> None:
    customer = await make_customer(runtime)
    r = await public.post(URL, content=body, headers={**customer.headers, "Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    answer = r.json()
    assert answer["error"] == "validation_error"
    assert answer["fields"] == [{"field": "body", "message": answer["fields"][0]["message"]}]
    assert answer["fields"][0]["message"]
