"""P3: a blast reaches every online mitra's WebSocket — against a bare broadcast, same run.

For each size N (mitras online, each with a live socket), ``--blasts`` searches are
started at ``--rate`` per second by customers with confirmed payment sessions; the
latency of one delivery is from sending ``POST /api/client/chat-requests`` to that
mitra's socket receiving the ``PAIRING_REQUEST``; each blast is then cancelled. The
baseline is ``benchmarks/bare.py``: a trigger socket's frame wrapped once and written to N
listener sockets, at the same rate. Server CPU per blast (blast + cancel) comes from
/proc/<pid>/stat of each server.

    .venv/bin/python benchmarks/blast.py                 # N = 100, 300, 1000; 20 blasts each at 10/s
    .venv/bin/python benchmarks/blast.py --smoke
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

from harness import (
    Account,
    BareServer,
    Progress,
    Server,
    Ws,
    bench_main,
    chart,
    close_many,
    go_online,
    http_client,
    loadavg,
    open_many,
    paid_session,
    pool_delta,
    pool_waits,
    print_table,
    seed_accounts,
    summary,
    wait_until,
)

TIMEOUT = 30.0


async def curhat_size(
    server: Server,
    http: Any,
    mitras: list[Account],
    n_online: int,
    previous: list[Ws],
    customers: list[Account],
    args: argparse.Namespace,
) -> dict[str, Any]:
    """``mitras`` come online now, joining those already online (``n_online`` in all)."""
    arrivals: dict[str, list[float]] = defaultdict(list)

    def on_frame(ws: Ws, frame: dict[str, Any], t: float) -> None:
        if frame.get("type") == "PAIRING_REQUEST":
            arrivals[str(frame["data"]["pairing_request_id"])].append(t)

    sockets = await open_many(server.ws_url, [m.token for m in mitras], on_frame)
    for ws in previous:
        ws.on_frame = on_frame
    await go_online(http, mitras)
    # Availability must count everyone before the first blast (it is what the blast reads).
    for _ in range(100):
        r = await http.get("/api/client/mitra-availability", headers=customers[0].headers)
        if r.json()["count"] >= n_online:
            break
        await asyncio.sleep(0.1)
    payments = [await paid_session(http, c) for c in customers]
    latencies: list[float] = []
    posts: list[float] = []
    missing = 0
    n_all = n_online
    progress = Progress(f"P3 curhat N={n_all}")

    async def one(customer: Account, pid: str) -> None:
        nonlocal missing
        t0 = time.perf_counter()
        r = await http.post(
            "/api/client/chat-requests", json={"payment_session_id": pid}, headers=customer.headers
        )
        if r.status_code != 202:
            raise RuntimeError(f"search: {r.status_code} {r.text}")
        posts.append((time.perf_counter() - t0) * 1000)
        rid = str(r.json()["pairing_request_id"])
        await wait_until(lambda: len(arrivals[rid]) >= n_all, TIMEOUT, 0.005)
        got = arrivals.pop(rid, [])
        missing += n_all - len(got)
        latencies.extend((t - t0) * 1000 for t in got)
        r = await http.post(
            "/api/client/chat-requests/cancel", json={"payment_session_id": pid}, headers=customer.headers
        )
        if r.status_code != 200:
            raise RuntimeError(f"cancel: {r.status_code} {r.text}")

    pool0, cpu0 = await pool_waits(server), server.cpu()
    tasks = []
    for i, (c, pid) in enumerate(zip(customers, payments, strict=True)):
        tasks.append(asyncio.create_task(one(c, pid)))
        progress.show(f"blast {i + 1}/{len(customers)}")
        await asyncio.sleep(1 / args.rate)
    await asyncio.gather(*tasks)
    cpu = server.cpu() - cpu0
    pool = pool_delta(pool0, await pool_waits(server))
    progress.done()
    # The sockets stay open: the next size adds mitras to these.
    return {
        "lat": latencies,
        "post": posts,
        "missing": missing,
        "cpu_ms": 1000 * cpu / len(customers),
        "pool": pool,
        "sockets": sockets,
    }


async def bare_size(
    bare: BareServer, n_new: int, listeners: list[Ws], args: argparse.Namespace, blasts: int
) -> dict[str, Any]:
    arrivals: dict[str, list[float]] = defaultdict(list)

    def on_frame(ws: Ws, frame: dict[str, Any], t: float) -> None:
        arrivals[str(frame["data"]["pairing_request_id"])].append(t)

    listeners += await open_many(bare.url("/listen"), [None] * n_new, None)
    for ws in listeners:
        ws.on_frame = on_frame
    trigger = await Ws.open(bare.url("/trigger"))
    await asyncio.sleep(0.2)
    n = len(listeners)
    latencies: list[float] = []
    missing = 0

    async def one() -> None:
        nonlocal missing
        rid = uuid.uuid4().hex
        t0 = time.perf_counter()
        await trigger.send(
            {
                "pairing_request_id": rid,
                "request_type": "blast",
                "customer": {"display_name": "Pelanggan 1"},
                "duration_minutes": 30,
                "expires_at": "2026-11-24T10:00:00Z",
                "seconds_remaining": 60,
            }
        )
        await wait_until(lambda: len(arrivals[rid]) >= n, TIMEOUT, 0.005)
        got = arrivals.pop(rid, [])
        missing += n - len(got)
        latencies.extend((t - t0) * 1000 for t in got)

    cpu0 = bare.cpu()
    tasks = []
    for _ in range(blasts):
        tasks.append(asyncio.create_task(one()))
        await asyncio.sleep(1 / args.rate)
    await asyncio.gather(*tasks)
    cpu = bare.cpu() - cpu0
    await trigger.close()
    return {"lat": latencies, "missing": missing, "cpu_ms": 1000 * cpu / blasts}


async def run(args: argparse.Namespace, server: Server) -> None:
    total = max(args.sizes)
    mitras = await seed_accounts(server.settings, "mitra", total)
    customers = await seed_accounts(server.settings, "customer", args.blasts * len(args.sizes) + 1)
    results = []
    load_start = loadavg()
    bare = BareServer().start()
    listeners: list[Ws] = []
    sockets: list[Ws] = []
    try:
        async with http_client(server.public_url, 50) as http:
            have = 0
            for i, n in enumerate(args.sizes):
                batch = customers[1 + i * args.blasts : 1 + (i + 1) * args.blasts]
                res = await curhat_size(server, http, mitras[have:n], n, sockets, batch, args)
                sockets += res.pop("sockets")
                # The delivery measured above was to every socket open so far, not only the new ones.
                base = await bare_size(bare, n - have, listeners, args, args.blasts)
                have = n
                results.append((n, res, base))
    finally:
        await close_many(sockets)
        await close_many(listeners)
        bare.stop()

    rows = []
    for n, res, base in results:
        c, b = summary(res["lat"]), summary(base["lat"])
        rows.append(
            [
                n,
                c["p50"],
                c["p99"],
                c["max"],
                summary(res["post"])["p50"],
                b["p50"],
                b["p99"],
                c["p99"] / b["p99"] if b["p99"] else float("nan"),
                res["cpu_ms"],
                base["cpu_ms"],
                res["missing"],
            ]
        )
    pool = results[-1][1]["pool"]
    print_table(
        f"P3 blast fan-out: search → PAIRING_REQUEST on every mitra socket ({args.blasts} blasts per size at {args.rate:g}/s)",
        [
            "N sockets",
            "p50 ms",
            "p99 ms",
            "max ms",
            "POST p50",
            "bare p50",
            "bare p99",
            "p99 ratio",
            "CPU ms/blast",
            "bare CPU",
            "missing",
        ],
        rows,
        [
            f"load average at start {load_start}; target: p99 ≤ 30 ms at N = 1 000; CPU ≤ 5 ms + 0.05 ms × N per blast (P9)",
            "POST p50: the search request's own answer time (its transaction) — delivery starts after it commits",
            "CPU ms/blast is the serve process over the blast phase (search + fan-out + cancel) divided by blasts",
            f"PostgreSQL pool at the largest size: {pool['checkouts']:.0f} checkouts, {pool['over_10ms']:.0f} over 10 ms, "
            f"{pool['timeouts']:.0f} timeouts",
        ],
    )
    chart(
        Path(args.charts) / "p3-blast.png",
        "P3: search → PAIRING_REQUEST on every mitra socket",
        "online mitras (sockets)",
        {
            "curhat p99": [(n, summary(r["lat"])["p99"]) for n, r, _ in results],
            "curhat p50": [(n, summary(r["lat"])["p50"]) for n, r, _ in results],
            "bare websockets p99": [(n, summary(b["lat"])["p99"]) for n, _, b in results],
        },
        30.0,
    )
    print(f"  chart: {Path(args.charts) / 'p3-blast.png'}")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=[100, 300, 1000])
    p.add_argument("--blasts", type=int, default=20, help="blasts per size")
    p.add_argument("--rate", type=float, default=10, help="blasts started per second")


SMOKE = {"sizes": [5, 20], "blasts": 3}

if __name__ == "__main__":
    raise SystemExit(bench_main(__doc__, add_arguments, SMOKE, run))
