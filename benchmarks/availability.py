"""P1/P2: ``GET /api/client/mitra-availability`` against a bare constant-JSON endpoint.

One server process (the real public app plus one extra route ``/bench/constant``) over
embedded PostgreSQL + Valkey; this process generates keep-alive HTTP/1.1 load on loopback
with a minimal asyncio client, alternating the two endpoints so noise hits both. Then it
puts N mitras online (10, then 10 000) and measures the endpoint again, plus the cost of
one presence change (``set_active_count``) at each size.

    .venv/bin/python benchmarks/availability.py            # full size
    .venv/bin/python benchmarks/availability.py --smoke    # seconds, proves it works
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import socket
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from curhat.config import Settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- the server process --------------------------------------------------------------------


def _serve(settings_json: str) -> None:
    import uvicorn
    from fastapi import Response

    from curhat.app import create_public_app
    from curhat.runtime import running, start_domain_services

    settings = Settings.model_validate_json(settings_json)

    async def main() -> None:
        async with running(settings) as runtime:
            await start_domain_services(runtime)
            app = create_public_app(runtime)

            @app.get("/bench/constant")
            async def constant() -> Response:
                return Response(content=b'{"available":true,"count":1}', media_type="application/json")

            # First in the routing table, like the availability route is matched early: the
            # baseline must not pay for walking past the page mounts.
            app.router.routes.insert(0, app.router.routes.pop())

            config = uvicorn.Config(
                app,
                host="127.0.0.1",
                port=settings.public_port,
                loop="none",
                http="httptools",
                lifespan="off",
                access_log=False,
                log_config=None,
            )
            await uvicorn.Server(config).serve()

    try:
        import uvloop

        uvloop.run(main())
    except ImportError:  # pragma: no cover
        asyncio.run(main())


# -- the load generator --------------------------------------------------------------------


async def _worker(port: int, path: str, headers: str, until: float, counts: list[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = f"GET {path} HTTP/1.1\r\nHost: bench\r\n{headers}\r\n".encode()
    n = 0
    try:
        while time.perf_counter() < until:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(f"{path}: {head[:80]!r}")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            n += 1
    finally:
        counts.append(n)
        writer.close()


async def rate(port: int, path: str, token: str | None, seconds: float, concurrency: int) -> float:
    headers = f"Authorization: Bearer {token}\r\n" if token else ""
    counts: list[int] = []
    start = time.perf_counter()
    until = start + seconds
    await asyncio.gather(*(_worker(port, path, headers, until, counts) for _ in range(concurrency)))
    return sum(counts) / (time.perf_counter() - start)


async def paired(port: int, token: str, seconds: float, concurrency: int, rounds: int) -> tuple[float, float]:
    """Median req/s of (availability, constant), alternating short runs."""
    avail, const = [], []
    for _ in range(rounds):
        avail.append(await rate(port, "/api/client/mitra-availability", token, seconds, concurrency))
        const.append(await rate(port, "/bench/constant", None, seconds, concurrency))
    return statistics.median(avail), statistics.median(const)


# -- the run -------------------------------------------------------------------------------


async def put_online(runtime: Any, n: int, have: list[uuid.UUID]) -> None:
    sem = asyncio.Semaphore(64)

    async def one() -> None:
        mitra = uuid.uuid4()
        async with sem:
            await runtime.presence.register_connection(mitra, "bench")
            await runtime.presence.set_online(mitra)
        have.append(mitra)

    await asyncio.gather(*(one() for _ in range(n - len(have))))


async def change_cost(runtime: Any, mitra: uuid.UUID, ops: int) -> float:
    """Median ms of one availability-changing presence update (full ↔ free)."""
    cap = runtime.presence.capacity
    samples = []
    for i in range(ops):
        t = time.perf_counter()
        await runtime.presence.set_active_count(mitra, cap if i % 2 == 0 else 0)
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples)


async def wait_ready(port: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            _, w = await asyncio.open_connection("127.0.0.1", port)
            w.close()
            return
        except OSError:
            await asyncio.sleep(0.2)
    raise RuntimeError("server did not start")


def prepare(args: argparse.Namespace) -> tuple[Settings, Any]:
    """Embedded PostgreSQL + Valkey in a (temporary) data directory, migrated."""
    from curhat import migrate
    from curhat.runtime import resolve_urls

    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="curhat-bench-"))
    base = Settings(
        data_dir=data_dir,
        jwt_secret="bench-" + uuid.uuid4().hex,
        valkey_prefix=f"bench{uuid.uuid4().hex[:8]}:",
        presence_ttl_seconds=3600,  # the fake mitras below hold no real socket
        public_port=free_port(),
        log_json=False,
        log_level="WARNING",
    )
    settings, embedded = resolve_urls(base)
    assert settings.database_url
    migrate.upgrade(settings.database_url)
    return settings, embedded


async def run(args: argparse.Namespace, settings: Settings) -> list[tuple[str, str]]:
    from curhat.runtime import running, start_presence

    ctx = multiprocessing.get_context("spawn")
    proc = ctx.Process(target=_serve, args=(settings.model_dump_json(),), daemon=True)
    proc.start()
    rows: list[tuple[str, str]] = []
    try:
        await wait_ready(settings.public_port)
        async with running(settings) as rt:
            await start_presence(rt, (await rt.config.get()).max_customers_per_mitra)
            token = rt.signer.issue(uuid.uuid4(), "customer")
            port = settings.public_port
            # both paths answer what they should
            for path, auth in (("/api/client/mitra-availability", token), ("/bench/constant", None)):
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                extra = f"Authorization: Bearer {auth}\r\n" if auth else ""
                writer.write(f"GET {path} HTTP/1.1\r\nHost: bench\r\n{extra}\r\n".encode())
                head = await reader.readuntil(b"\r\n\r\n")
                assert head.startswith(b"HTTP/1.1 200") and b"application/json" in head, head
                writer.close()
            # warm up both paths
            await rate(port, "/api/client/mitra-availability", token, 0.3, args.concurrency)
            await rate(port, "/bench/constant", None, 0.3, args.concurrency)

            online: list[uuid.UUID] = []
            results: dict[int, tuple[float, float, float]] = {}
            for n in args.mitras:
                await put_online(rt, n, online)
                await asyncio.sleep(0.2)  # let the server's snapshot follow
                cost = await change_cost(rt, online[0], args.ops)
                avail, const = await paired(port, token, args.seconds, args.concurrency, args.rounds)
                results[n] = (avail, const, cost)

            small, large = min(results), max(results)
            for n in sorted(results):
                avail, const, cost = results[n]
                rows.append((f"availability req/s @ {n} online", f"{avail:,.0f}"))
                rows.append((f"constant JSON req/s @ {n} online", f"{const:,.0f}"))
                rows.append((f"ratio availability / constant @ {n}", f"{avail / const:.2f}  (P1 ≥ 0.80)"))
                rows.append((f"presence change p50 ms @ {n}", f"{cost:.3f}"))
            # Cost per request relative to the constant endpoint measured beside it (noise-robust).
            rel = {n: results[n][1] / results[n][0] for n in results}
            rows.append(
                (f"request cost {large} vs {small} online", f"{rel[large] / rel[small]:.2f}×  (P2 ≤ 1.20)")
            )
            c_small, c_large = results[small][2], results[large][2]
            rows.append((f"change cost {large} vs {small} online", f"{c_large / c_small:.2f}×"))
    finally:
        proc.terminate()
        proc.join(10)
    return rows


def print_table(rows: list[tuple[str, str]]) -> None:
    width = max(len(k) for k, _ in rows)
    print(f"\nmitra-availability benchmark  (cpus={os.cpu_count()}, python={sys.version.split()[0]})")
    print(f"{'measure'.ljust(width)}  value")
    print(f"{'-' * width}  {'-' * 24}")
    for key, value in rows:
        print(f"{key.ljust(width)}  {value}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="tiny size: proves the benchmark runs")
    parser.add_argument("--seconds", type=float, default=3.0, help="length of one measured run")
    parser.add_argument("--rounds", type=int, default=3, help="alternating runs per endpoint")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--mitras", type=lambda s: [int(x) for x in s.split(",")], default=[10, 10_000])
    parser.add_argument("--ops", type=int, default=200, help="presence changes timed per size")
    parser.add_argument("--data-dir", default=None, help="embedded servers' directory (default: temp)")
    args = parser.parse_args()
    if args.smoke:
        args.seconds, args.rounds, args.concurrency, args.mitras, args.ops = 0.3, 1, 4, [10, 100], 20
    settings, embedded = prepare(args)
    try:
        print_table(asyncio.run(run(args, settings)))
    finally:
        if embedded is not None:
            embedded.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
