from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from curhat.config import Settings
from curhat.runtime import Runtime, running
from tests.e2e.flows import Api, Socket
from tests.fixtures.factories import Account, make_mitra
from tests.fixtures.server import ServerProcess
from tests.invariants import assert_invariants


@pytest.fixture
async def seed(settings: Settings) -> AsyncIterator[Runtime]:
    """Database access for arranging and checking; runs no deadlines or presence loops."""
    async with running(settings, background=False) as rt:
        yield rt


@pytest.fixture(autouse=True)
async def invariants_hold(database_url: str) -> AsyncIterator[None]:
    yield
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            from sqlalchemy.ext.asyncio import AsyncSession

            async with AsyncSession(bind=conn) as session:
                await assert_invariants(session)
    finally:
        await engine.dispose()


@pytest.fixture
async def api(server: ServerProcess) -> AsyncIterator[Api]:
    client = Api(server.public_url)
    yield client
    await client.aclose()


@pytest.fixture
async def sockets() -> AsyncIterator[list[Socket]]:
    opened: list[Socket] = []
    yield opened
    for sock in opened:
        await sock.close()


OnlineMitra = Callable[..., Awaitable[tuple[Account, Socket]]]


@pytest.fixture
def online_mitra(seed: Runtime, server: ServerProcess, api: Api, sockets: list[Socket]) -> OnlineMitra:
    async def make(
        name: str | None = None, *, on: ServerProcess | None = None, via: Api | None = None
    ) -> tuple[Account, Socket]:
        mitra = await make_mitra(seed, name)
        sock = await Socket.open((on or server).ws_url, mitra.token)
        sockets.append(sock)
        await (via or api).go_online(mitra)
        return mitra, sock

    return make


async def set_config(seed: Runtime, key: str, value: int | str) -> None:
    from sqlalchemy import text

    async with seed.transaction() as session:
        await session.execute(
            text("UPDATE app_config SET value = :v WHERE key = :k"), {"v": str(value), "k": key}
        )
