"""Two instances starting together on an empty database: both migrate, neither fails."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from tests.fixtures.database import Servers


@pytest.fixture
async def empty_database(servers: Servers) -> AsyncIterator[str]:
    name = f"m_{uuid.uuid4().hex[:16]}"
    conn = await asyncpg.connect(host=servers.socket_dir, user="postgres", database="postgres")
    try:
        await conn.execute(f"CREATE DATABASE {name}")
    finally:
        await conn.close()
    yield name
    conn = await asyncpg.connect(host=servers.socket_dir, user="postgres", database="postgres")
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await conn.close()


async def test_concurrent_upgrades_of_an_empty_database_both_succeed(
    servers: Servers, empty_database: str
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CURHAT_")}
    env["CURHAT_DATABASE_URL"] = servers.database_url(empty_database)

    async def migrate() -> tuple[int | None, bytes]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "curhat.cli.main",
            "migrate",
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await proc.communicate()
        return proc.returncode, out

    results = await asyncio.gather(*(migrate() for _ in range(3)))
    assert [code for code, _ in results] == [0, 0, 0], [out[-2000:] for _, out in results]
    conn = await asyncpg.connect(host=servers.socket_dir, user="postgres", database=empty_database)
    try:
        assert await conn.fetchval("SELECT count(*) FROM alembic_version") == 1
    finally:
        await conn.close()
