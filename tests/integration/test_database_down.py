"""PostgreSQL unreachable → 503 service_unavailable with Retry-After and the request id, never a 500."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from curhat.runtime import Runtime
from tests.fixtures.factories import make_customer
from tests.fixtures.server import free_port


@pytest.fixture
async def swap_database(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[object]:
    """Point the running app's sessions at a PostgreSQL that is not there."""
    engines: list[AsyncEngine] = []

    def swap(url: str) -> None:
        engines.append(create_async_engine(url))
        monkeypatch.setattr(runtime.db, "sessionmaker", async_sessionmaker(engines[-1]))

    yield swap
    for engine in engines:
        await engine.dispose()


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

    monkeypatch.setattr(runtime.db, "sessionmaker", broken)
    # The in-process transport re-raises whatever escapes the app, as uvicorn would (and then
    # drops the keep-alive connection): the answer must come from the app itself.
    r = await public.get(f"/api/client/payment-sessions/{uuid.uuid4()}", headers=customer.headers)
    assert r.status_code == 500
    assert r.json() == {"error": "internal_error", "message": "Internal server error."}
    assert r.headers["X-Request-Id"]
