"""The ``curhat`` command against the test's own database: operators, bootstrap, migrations."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from curhat.config import Settings
from tests.fixtures.database import Servers
from tests.fixtures.server import ServerProcess


def _env(settings: Settings, data_dir: Path, database_url: str | None = None) -> dict[str, str]:
    assert settings.database_url and settings.valkey_url
    env = {k: v for k, v in os.environ.items() if not k.startswith("CURHAT_") or k == "CURHAT_LOG_LEVEL"}
    env.update(
        {
            "CURHAT_DATABASE_URL": database_url or settings.database_url,
            "CURHAT_VALKEY_URL": settings.valkey_url,
            "CURHAT_DATA_DIR": str(data_dir),
            "CURHAT_LOG_JSON": "false",
        }
    )
    return env


def curhat(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "curhat.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )


async def _login(internal: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await internal.post("/internal/auth/login", json={"email": email, "password": password})


async def test_create_operator_then_that_operator_logs_in(
    settings: Settings, tmp_path: Path, internal: httpx.AsyncClient
) -> None:
    env = _env(settings, tmp_path)
    done = curhat(env, "create-operator", "--email", "Ops@Curhat.Test", "--password", "rahasia-operator")
    assert done.returncode == 0, done.stderr
    assert "ops@curhat.test" in done.stdout

    r = await _login(internal, "ops@curhat.test", "rahasia-operator")
    assert r.status_code == 200, r.text
    assert r.json()["user"]["email"] == "ops@curhat.test"
    token = r.json()["access_token"]
    me = await internal.get("/internal/mitras", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200

    again = curhat(env, "create-operator", "--email", "ops@curhat.test", "--password", "another-password")
    assert again.returncode == 1
    assert "email_taken" in again.stderr
    assert (await _login(internal, "ops@curhat.test", "another-password")).status_code == 401

    short = curhat(env, "create-operator", "--email", "new@curhat.test", "--password", "short")
    assert short.returncode != 0
    assert (await _login(internal, "new@curhat.test", "short")).status_code == 401


async def test_bootstrap_operator_exists_after_serve_start_up(
    server_factory: type[ServerProcess], settings: Settings
) -> None:
    email, password = f"boot{uuid.uuid4().hex[:6]}@curhat.test", "rahasia-bootstrap"
    server = server_factory(
        CURHAT_BOOTSTRAP_OPERATOR_EMAIL=email, CURHAT_BOOTSTRAP_OPERATOR_PASSWORD=password
    ).start()
    async with httpx.AsyncClient(base_url=server.internal_url, timeout=20) as http:
        r = await http.post("/internal/auth/login", json={"email": email, "password": password})
        assert r.status_code == 200, r.text
    assert server.stop() == 0

    # A restart with the variables still set neither duplicates nor resets the operator.
    again = server_factory(
        CURHAT_BOOTSTRAP_OPERATOR_EMAIL=email, CURHAT_BOOTSTRAP_OPERATOR_PASSWORD="changed-password"
    ).start()
    async with httpx.AsyncClient(base_url=again.internal_url, timeout=20) as http:
        r = await http.post("/internal/auth/login", json={"email": email, "password": password})
        assert r.status_code == 200
        r = await http.post("/internal/auth/login", json={"email": email, "password": "changed-password"})
        assert r.status_code == 401
    assert again.stop() == 0


async def _admin(servers: Servers, sql: str) -> None:
    conn = await asyncpg.connect(host=servers.socket_dir, user="postgres", database="postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture
async def empty_database(servers: Servers) -> AsyncIterator[str]:
    """A database no migration has touched yet."""
    name = f"t_empty_{uuid.uuid4().hex[:12]}"
    await _admin(servers, f"CREATE DATABASE {name}")
    yield name
    await _admin(servers, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


async def _schema(servers: Servers, name: str) -> tuple[list[str], list[str], int]:
    conn = await asyncpg.connect(host=servers.socket_dir, user="postgres", database=name)
    try:
        versions = [r["version_num"] for r in await conn.fetch("SELECT version_num FROM alembic_version")]
        tables = [
            r["table_name"]
            for r in await conn.fetch(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1"
            )
        ]
        config_rows = int(await conn.fetchval("SELECT count(*) FROM app_config"))
        return versions, tables, config_rows
    finally:
        await conn.close()


async def test_migrate_is_idempotent(
    settings: Settings, tmp_path: Path, servers: Servers, empty_database: str
) -> None:
    env = _env(settings, tmp_path, servers.database_url(empty_database))
    first = curhat(env, "migrate")
    assert first.returncode == 0, first.stderr
    assert "migrations applied" in first.stdout
    before = await _schema(servers, empty_database)
    versions, tables, config_rows = before
    assert len(versions) == 1
    assert {"users", "mitras", "payment_sessions", "pairing_failures", "chat_sessions"} <= set(tables)
    assert config_rows == 8

    second = curhat(env, "migrate")
    assert second.returncode == 0, second.stderr
    assert await _schema(servers, empty_database) == before
