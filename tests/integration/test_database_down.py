"""PostgreSQL unreachable → 503 service_unavailable with Retry-After and the request id, never a 500."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from curhat.postgres import Database
from curhat.runtime import Runtime
from tests.fixtures.factories import make_customer
from tests.fixtures.server import free_port


@pytest.fixture
def swap_database(runtime: Runtime) -> Iterator[object]:
    original, swapped = runtime.db, []

    def swap(url: str) -> None:
        swapped.append(Database(url))
        runtime.db = swapped[-1]

    yield swap
    runtime.db = original


@pytest.mark.parametrize(
    "unreachable",
    [
        # The embedded default: a Unix socket whose directory vanished (FileNotFoundError).
        "postgresql+asyncpg://curhat@/curhat?host=/nonexistent-{uuid}",
        # Nothing listens on the port (ConnectionRefusedError).
        "postgresql+asyncpg://curhat@127.0.0.1:{port}/curhat",
    ],
)
async def test_database_unreachable_answers_503_with_retry_after(
    public: httpx.AsyncClient, runtime: Runtime, swap_database: object, unreachable: str
) -> None:
    customer = await make_customer(runtime)
    swap_database(unreachable.format(uuid=uuid.uuid4().hex, port=free_port()))  # type: ignore[operator]
    r = await public.get(
        f"/api/client/payment-sessions/{uuid.uuid4()}",
        headers={**customer.headers, "X-Request-Id": "req-db-down-1"},
    )
    assert r.status_code == 503, r.text
    assert r.json()["error"] == "service_unavailable"
    assert int(r.headers["Retry-After"]) > 0
    assert r.headers["X-Request-Id"] == "req-db-down-1"


async def test_an_unexpected_error_is_a_500_envelope_with_the_request_id(
    public: httpx.AsyncClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    customer = await make_customer(runtime)

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("boom")

    monkeypatch.setattr(runtime, "transaction", broken)
    # The in-process transport re-raises whatever escapes the app, as uvicorn would (and then
    # drops the keep-alive connection): the answer must come from the app itself.
    r = await public.get(f"/api/client/payment-sessions/{uuid.uuid4()}", headers=customer.headers)
    assert r.status_code == 500
    assert r.json() == {"error": "internal_error", "message": "Internal server error."}
    assert r.headers["X-Request-Id"]
