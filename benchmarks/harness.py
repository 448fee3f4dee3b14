"""What every benchmark shares: a real ``curhat serve`` over embedded PostgreSQL + Valkey,
accounts seeded in bulk, lean HTTP/WebSocket clients, server CPU and RSS from /proc, and
the result table (always with the machine's load, since these machines are shared).

Everything talks to 127.0.0.1 only; every loop is bounded by a count and a deadline.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import websockets
from websockets.asyncio.client import ClientConnection

from curhat.config import Settings

ROOT = Path(__file__).resolve().parents[1]
CLK_TCK = os.sysconf("SC_CLK_TCK")
OPERATOR_EMAIL = "bench@curhat.test"
OPERATOR_PASSWORD = "bench-operator-123"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def raise_fd_limit() -> int:
    """Soft open-file limit up to the hard one (many sockets); the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# -- /proc ----------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process so far (utime and stime of /proc/<pid>/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def loadavg() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f}/{five:.2f}"


# -- statistics and tables ------------------------------------------------------------------


def pct(samples: Sequence[float], q: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    idx = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[idx]


def summary(samples_ms: Sequence[float]) -> dict[str, float]:
    return {
        "n": len(samples_ms),
        "p50": pct(samples_ms, 50),
        "p95": pct(samples_ms, 95),
        "p99": pct(samples_ms, 99),
        "max": max(samples_ms) if samples_ms else float("nan"),
    }


def fmt(value: Any) -> str:
    if isinstance(value, float):
        if value != value:  # NaN
            return "-"
        return f"{value:,.1f}" if abs(value) >= 100 else f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def print_table(
    title: str, header: Sequence[str], rows: Sequence[Sequence[Any]], notes: Sequence[str] = ()
) -> None:
    cells = [[fmt(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(header)]
    print(f"\n{title}")
    print(
        f"  {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, cpus={os.cpu_count()}, "
        f"python={sys.version.split()[0]}, load(1m/5m) now={loadavg()}"
    )
    print(
        "  "
        + "  ".join(
            h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths, strict=True))
        )
    )
    print("  " + "  ".join("-" * w for w in widths))
    for row in cells:
        print(
            "  "
            + "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    for note in notes:
        print(f"  {note}")
    sys.stdout.flush()


class Progress:
    """One line, rewritten at most every half second (stderr, so tables stay clean)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self._last = 0.0

    def show(self, text: str, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last > 0.5:
            self._last = now
            sys.stderr.write(f"\r  {self.label}: {text}  [load {loadavg()}]\033[K")
            sys.stderr.flush()

    def done(self) -> None:
        sys.stderr.write("\n")
        sys.stderr.flush()


# -- the stack: embedded PostgreSQL + Valkey, migrated -------------------------------------


def prepare(data_dir: str | None, **overrides: Any) -> tuple[Settings, Any]:
    from curhat import migrate
    from curhat.runtime import resolve_urls

    base = Settings(
        data_dir=Path(data_dir or tempfile.mkdtemp(prefix="curhat-bench-")),
        jwt_secret="bench-" + uuid.uuid4().hex,
        valkey_prefix=f"bench{uuid.uuid4().hex[:8]}:",
        log_json=False,
        log_level="WARNING",
        **overrides,
    )
    settings, embedded = resolve_urls(base)
    assert settings.database_url
    migrate.upgrade(settings.database_url)
    return settings, embedded


@dataclass
class Server:
    """A real ``curhat serve`` process (both listeners) on free loopback ports."""

    settings: Settings
    extra_env: dict[str, str] = field(default_factory=dict)
    # e.g. ["-m", "pyinstrument", ...]: what runs the server module (profiling)
    python_args: list[str] = field(default_factory=list)
    public_port: int = field(default_factory=free_port)
    internal_port: int = field(default_factory=free_port)
    proc: subprocess.Popen[str] | None = None
    output: list[str] = field(default_factory=list)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def public_url(self) -> str:
        return f"http://127.0.0.1:{self.public_port}"

    @property
    def internal_url(self) -> str:
        return f"http://127.0.0.1:{self.internal_port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.public_port}/ws"

    def start(self, timeout: float = 90) -> Server:
        s = self.settings
        assert s.database_url and s.valkey_url and s.jwt_secret
        env = {
            **os.environ,
            "CURHAT_DATABASE_URL": s.database_url,
            "CURHAT_VALKEY_URL": s.valkey_url,
            "CURHAT_JWT_SECRET": s.jwt_secret,
            "CURHAT_VALKEY_PREFIX": s.valkey_prefix,
            "CURHAT_DATA_DIR": str(s.data_dir),
            "CURHAT_PRESENCE_TTL_SECONDS": str(s.presence_ttl_seconds),
            "CURHAT_PUBLIC_PORT": str(self.public_port),
            "CURHAT_INTERNAL_PORT": str(self.internal_port),
            "CURHAT_LOG_JSON": "false",
            "CURHAT_SHUTDOWN_DRAIN_SECONDS": "0",
            "CURHAT_LOG_LEVEL": "WARNING",
            "CURHAT_BOOTSTRAP_OPERATOR_EMAIL": OPERATOR_EMAIL,
            "CURHAT_BOOTSTRAP_OPERATOR_PASSWORD": OPERATOR_PASSWORD,
            **self.extra_env,
        }
        self.proc = subprocess.Popen(
            [sys.executable, *self.python_args, "-m", "curhat.cli.main", "serve"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        ready = threading.Event()

        def pump() -> None:
            assert self.proc is not None and self.proc.stdout is not None
            for line in self.proc.stdout:
                if len(self.output) < 2000:
                    self.output.append(line)
                if '"ready"' in line:
                    ready.set()
            ready.set()

        threading.Thread(target=pump, daemon=True).start()
        if not ready.wait(timeout) or self.proc.poll() is not None:
            self.stop()
            raise RuntimeError("server did not start:\n" + "".join(self.output[-40:]))
        return self

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def rss_kib(self) -> int:
        return rss_kib(self.pid)

    def stop(self, timeout: float = 15) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


@contextlib.contextmanager
def stack(data_dir: str | None, **overrides: Any) -> Iterator[Settings]:
    settings, embedded = prepare(data_dir, **overrides)
    try:
        yield settings
    finally:
        if embedded is not None:
            embedded.stop()


# -- accounts, seeded in bulk (one password hash for all) -----------------------------------


@dataclass
class Account:
    id: uuid.UUID
    role: str
    token: str
    display_name: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def seed_accounts(settings: Settings, role: str, n: int) -> list[Account]:
    """``n`` customers or mitras inserted in one statement, with tokens."""
    from sqlalchemy import insert

    from curhat.auth.passwords import PasswordHashing
    from curhat.auth.tokens import TokenSigner
    from curhat.models import Mitra, User
    from curhat.postgres import Database

    assert settings.database_url and settings.jwt_secret
    signer = TokenSigner(settings.jwt_secret, settings.jwt_ttl_seconds)
    digest = await PasswordHashing().hash("rahasia-123")
    prefix = "Bestie" if role == "mitra" else "Pelanggan"
    # Unique within a call; two calls share a batch number once in 10 000.
    batch = uuid.uuid4().int % 10**4
    rows = [
        {
            "id": uuid.uuid4(),
            "phone": f"+628{batch:04d}{i:07d}",
            "display_name": f"{prefix} {i}",
            "password_hash": digest,
        }
        for i in range(n)
    ]
    db = Database(settings.database_url, pool_size=1)
    try:
        async with db.engine.begin() as conn:
            for start in range(0, n, 5000):
                await conn.execute(insert(Mitra if role == "mitra" else User), rows[start : start + 5000])
    finally:
        await db.dispose()
    return [Account(r["id"], role, signer.issue(r["id"], role), r["display_name"]) for r in rows]


# -- clients --------------------------------------------------------------------------------


def http_client(base_url: str, connections: int = 100) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=httpx.Timeout(60.0),
        # Below uvicorn's 5 s keep-alive, so a pooled connection is never reused as it closes.
        limits=httpx.Limits(
            max_connections=connections, max_keepalive_connections=connections, keepalive_expiry=3
        ),
    )


async def operator_headers(server: Server) -> dict[str, str]:
    async with http_client(server.internal_url, 2) as http:
        r = await http.post(
            "/internal/auth/login", json={"email": OPERATOR_EMAIL, "password": OPERATOR_PASSWORD}
        )
        r.raise_for_status()
        return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def set_config(server: Server, values: dict[str, Any]) -> None:
    """Settings through the control center API, as an operator would change them."""
    headers = await operator_headers(server)
    async with http_client(server.internal_url, 2) as http:
        for key, value in values.items():
            r = await http.patch(f"/internal/config/{key}", json={"value": value}, headers=headers)
            if r.status_code != 200:
                raise RuntimeError(f"config {key}={value}: {r.status_code} {r.text}")


async def pool_waits(server: Server) -> dict[str, float]:
    """PostgreSQL pool checkouts from the server's /metrics: count, total and slow waits."""
    async with http_client(server.public_url, 1) as http:
        text = (await http.get("/metrics")).text
    out = {"checkouts": 0.0, "wait_s": 0.0, "over_10ms": 0.0, "over_100ms": 0.0, "timeouts": 0.0}
    le: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("curhat_db_pool_wait_seconds_count"):
            out["checkouts"] = float(line.split()[-1])
        elif line.startswith("curhat_db_pool_wait_seconds_sum"):
            out["wait_s"] = float(line.split()[-1])
        elif line.startswith("curhat_db_pool_wait_seconds_bucket"):
            bound = line.split('le="', 1)[1].split('"', 1)[0]
            le[bound] = float(line.split()[-1])
        elif line.startswith("curhat_db_pool_timeouts_total"):
            out["timeouts"] = float(line.split()[-1])
    out["over_10ms"] = out["checkouts"] - le.get("0.01", out["checkouts"])
    out["over_100ms"] = out["checkouts"] - le.get("0.1", out["checkouts"])
    return out


def pool_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {k: after[k] - before[k] for k in after}


FrameHandler = Callable[["Ws", dict[str, Any], float], None]


class Ws:
    """A lean WebSocket client: frames parsed on arrival with their perf_counter time.

    ``wait(type, **match)`` resolves with the first matching frame (also one that arrived
    before the call: the last ``BACKLOG`` frames are kept).
    """

    BACKLOG = 64

    def __init__(self, conn: ClientConnection, on_frame: FrameHandler | None = None) -> None:
        self.conn = conn
        self.on_frame = on_frame
        self.backlog: list[tuple[dict[str, Any], float]] = []
        self._waiters: list[tuple[str, dict[str, Any], asyncio.Future[tuple[dict[str, Any], float]]]] = []
        self.counts: dict[str, int] = {}
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, url: str, token: str | None = None, on_frame: FrameHandler | None = None) -> Ws:
        full = f"{url}?token={token}" if token else url
        conn = await websockets.connect(
            full, compression=None, max_size=2**20, open_timeout=60, ping_interval=None
        )
        return cls(conn, on_frame)

    async def _read(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed, OSError):
            async for raw in self.conn:
                t = time.perf_counter()
                frame = json.loads(raw)
                kind = frame.get("type", "")
                self.counts[kind] = self.counts.get(kind, 0) + 1
                if self.on_frame is not None:
                    self.on_frame(self, frame, t)
                if self._resolve(frame, t):
                    continue
                self.backlog.append((frame, t))
                if len(self.backlog) > self.BACKLOG:
                    del self.backlog[0]

    def _resolve(self, frame: dict[str, Any], t: float) -> bool:
        data = frame.get("data", {})
        for i, (kind, match, fut) in enumerate(self._waiters):
            if frame.get("type") == kind and all(str(data.get(k)) == str(v) for k, v in match.items()):
                del self._waiters[i]
                if not fut.done():
                    fut.set_result((frame, t))
                return True
        return False

    async def wait(self, kind: str, timeout: float = 30, **match: Any) -> tuple[dict[str, Any], float]:
        for i, (frame, t) in enumerate(self.backlog):
            data = frame.get("data", {})
            if frame.get("type") == kind and all(str(data.get(k)) == str(v) for k, v in match.items()):
                del self.backlog[i]
                return frame, t
        fut: asyncio.Future[tuple[dict[str, Any], float]] = asyncio.get_running_loop().create_future()
        entry = (kind, match, fut)
        self._waiters.append(entry)
        try:
            return await asyncio.wait_for(fut, timeout)
        finally:
            if entry in self._waiters:
                self._waiters.remove(entry)

    async def send(self, frame: dict[str, Any]) -> None:
        await self.conn.send(json.dumps(frame))

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.conn.close(), 5)
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._reader


async def open_many(
    url: str, tokens: Sequence[str | None], on_frame: FrameHandler | None = None, parallel: int = 20
) -> list[Ws]:
    sem = asyncio.Semaphore(parallel)

    async def one(token: str | None) -> Ws:
        async with sem:
            return await Ws.open(url, token, on_frame)

    return list(await asyncio.gather(*(one(t) for t in tokens)))


async def open_urls(
    urls: Sequence[str], on_frame: FrameHandler | None = None, parallel: int = 50
) -> list[Ws]:
    sem = asyncio.Semaphore(parallel)

    async def one(url: str) -> Ws:
        async with sem:
            return await Ws.open(url, None, on_frame)

    return list(await asyncio.gather(*(one(u) for u in urls)))


async def close_many(sockets: Sequence[Ws]) -> None:
    await asyncio.gather(*(s.close() for s in sockets))


async def go_online(http: httpx.AsyncClient, mitras: Sequence[Account], parallel: int = 20) -> None:
    sem = asyncio.Semaphore(parallel)

    async def one(m: Account) -> None:
        async with sem:
            r = await http.post("/api/mitra/status", json={"online": True}, headers=m.headers)
            if r.status_code != 200:
                raise RuntimeError(f"going online: {r.status_code} {r.text}")

    await asyncio.gather(*(one(m) for m in mitras))


async def paid_session(http: httpx.AsyncClient, customer: Account, minutes: int = 30) -> str:
    r = await http.post(
        "/api/client/payment-sessions", json={"duration_minutes": minutes}, headers=customer.headers
    )
    if r.status_code != 201:
        raise RuntimeError(f"payment session: {r.status_code} {r.text}")
    pid = str(r.json()["id"])
    r = await http.post(f"/api/client/payment-sessions/{pid}/confirm", headers=customer.headers)
    if r.status_code != 200:
        raise RuntimeError(f"confirm: {r.status_code} {r.text}")
    return pid


async def wait_until(check: Callable[[], bool], timeout: float, every: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(every)
    return True


def run_main(coro_factory: Callable[[], Any]) -> None:
    try:
        import uvloop

        uvloop.run(coro_factory())
    except ImportError:  # pragma: no cover
        asyncio.run(coro_factory())


def chart(
    path: Path, title: str, xlabel: str, series: dict[str, list[tuple[float, float]]], target: float | None
) -> None:
    """A PNG of latency (ms) against load, one line per series."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=100)
    for name, points in series.items():
        xs, ys = zip(*sorted(points), strict=True) if points else ((), ())
        ax.plot(xs, ys, marker="o", label=name)
    if target is not None:
        ax.axhline(target, linestyle="--", color="grey", label=f"target p99 ≤ {target:g} ms")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("latency, ms (log scale)")
    ax.set_yscale("log")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


@dataclass
class BareServer:
    """``benchmarks/bare.py``: the transport alone, for same-run baselines."""

    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[str] | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def url(self, path: str) -> str:
        return f"ws://127.0.0.1:{self.port}{path}"

    def start(self) -> BareServer:
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "benchmarks" / "bare.py"), str(self.port)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        if self.proc.stdout.readline().strip() != "ready":
            self.stop()
            raise RuntimeError("bare server did not start")
        return self

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def rss_kib(self) -> int:
        return rss_kib(self.pid)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


# -- one shape for every benchmark: parse, start the stack and the server, run ----------------

Runner = Callable[[argparse.Namespace, Server], Awaitable[None]]
ArgsAdder = Callable[[argparse.ArgumentParser], None]


def parser_for(doc: str | None, add_arguments: ArgsAdder) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--smoke", action="store_true", help="tiny sizes: proves the benchmark runs, in seconds")
    p.add_argument("--data-dir", default=None, help="embedded servers' directory (default: a temporary one)")
    p.add_argument("--charts", default=str(ROOT / "docs" / "charts"), help="where PNG charts are written")
    add_arguments(p)
    return p


def server_settings() -> dict[str, Any]:
    # Benchmark clients hold sockets silent for minutes; the default 30 s TTL would close
    # them as idle (the apps send pings). Everything else is as `curhat serve` defaults.
    return {"presence_ttl_seconds": 3600}


def bench_main(doc: str | None, add_arguments: ArgsAdder, smoke: dict[str, Any], run: Runner) -> int:
    args = parser_for(doc, add_arguments).parse_args()
    if args.smoke:
        for key, value in smoke.items():
            setattr(args, key, value)
    raise_fd_limit()
    with stack(args.data_dir, **server_settings()) as settings:
        server = Server(settings).start()
        try:
            run_main(lambda: run(args, server))
        finally:
            server.stop()
    return 0
