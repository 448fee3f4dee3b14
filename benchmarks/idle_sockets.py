"""P6: idle WebSockets — RSS per socket of ``curhat serve`` against a bare ``websockets`` server.

Opens N authenticated customer sockets on the real server (after one warm-up socket, so
lazily loaded code is not counted), waits, and checks a sample still answers a ping; the
server's RSS growth divided by N is the cost of one idle socket. Then the same N sockets
on ``benchmarks/bare.py`` (``/idle``). Both servers have per-message compression off.
The machine's open-file limit bounds N (both ends of every socket are on this machine).

    .venv/bin/python benchmarks/idle_sockets.py             # N = 15 000 (one size per server: freed memory is reused)
    .venv/bin/python benchmarks/idle_sockets.py --smoke
    .venv/bin/python benchmarks/idle_sockets.py --trace --sizes 2000   # where the memory goes

``--trace`` runs a second server under tracemalloc (``benchmarks/traced_serve.py``) and prints
the allocation sites that grew between a snapshot before and one after the N sockets opened,
in bytes per socket (traced sizes: Python objects only, not libuv's or the kernel's buffers).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path
from typing import Any

from harness import (
    ROOT,
    BareServer,
    Progress,
    Server,
    Ws,
    bench_main,
    close_many,
    loadavg,
    open_urls,
    print_table,
    raise_fd_limit,
)

from curhat.auth.tokens import TokenSigner


def fd_limit(pid: int) -> str:
    with open(f"/proc/{pid}/limits") as f:
        for line in f:
            if line.startswith("Max open files"):
                return line.split()[3]
    return "?"


async def measure(
    label: str, urls: list[str], rss: Any, ping: dict[str, Any], pong: str, sample_all: bool
) -> tuple[int, float, int]:
    """(sockets open, KiB of RSS per socket, sampled sockets that answered a ping)."""
    warm = await Ws.open(urls[0])
    await warm.send(ping)
    await warm.wait(pong, timeout=10)
    await warm.close()
    await asyncio.sleep(1)
    before = rss()
    progress = Progress(f"P6 {label}")
    sockets: list[Ws] = []
    for start in range(0, len(urls), 500):
        sockets += await open_urls(urls[start : start + 500], None)
        progress.show(f"{len(sockets)}/{len(urls)} open, RSS {rss() / 1024:.0f} MiB")
    await asyncio.sleep(2)
    after = rss()
    progress.done()
    # The bare /idle sockets answer nothing; only the server under test is sampled.
    sample = sockets[:: max(1, len(sockets) // 20)] if sample_all else sockets[:1]
    answered = 0
    for ws in sample:
        await ws.send(ping)
        try:
            await ws.wait(pong, timeout=10)
            answered += 1
        except TimeoutError:
            pass
    await close_many(sockets)
    return len(sockets), (after - before) / len(sockets), answered * 100 // len(sample)


async def snapshot(server: Server, prefix: str, k: int) -> tracemalloc.Snapshot:
    os.kill(server.pid, signal.SIGUSR1)
    done = Path(f"{prefix}.{k}.done")
    deadline = time.monotonic() + 300
    while not await asyncio.to_thread(done.exists):
        if time.monotonic() > deadline:
            raise TimeoutError("no tracemalloc snapshot from the server")
        await asyncio.sleep(0.2)
    return tracemalloc.Snapshot.load(f"{prefix}.{k}")


def short(filename: str) -> str:
    for marker in ("/site-packages/", "/src/", "/lib/python3"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


async def trace(args: argparse.Namespace, server: Server, signer: TokenSigner) -> None:
    """Allocation sites that grew with N idle sockets, per socket, on a tracemalloc'd server."""
    prefix = str(Path(tempfile.mkdtemp(prefix="curhat-p6-")) / "snap")
    traced = Server(server.settings, python_args=[str(ROOT / "benchmarks" / "traced_serve.py"), prefix])
    traced.start()
    try:
        n = args.sizes[0]
        urls = [f"{traced.ws_url}?token={signer.issue(uuid.uuid4(), 'customer')}" for _ in range(n + 1)]
        warm = await Ws.open(urls[0])
        await warm.send({"type": "ping"})
        await warm.wait("pong", timeout=30)
        await asyncio.sleep(1)
        before = await snapshot(traced, prefix, 0)
        sockets = await open_urls(urls[1:], None, parallel=10)
        await asyncio.sleep(2)
        after = await snapshot(traced, prefix, 1)
        await close_many([*sockets, warm])
    finally:
        traced.stop()
    ignore = [tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, "<frozen *>")]
    diff = after.filter_traces(ignore).compare_to(before.filter_traces(ignore), "traceback")
    total = sum(d.size_diff for d in diff)
    by_line: dict[str, float] = {}
    for stat in diff:
        frame = stat.traceback[-1]  # the allocating line (tracebacks are oldest first)
        key = f"{short(frame.filename)}:{frame.lineno}"
        by_line[key] = by_line.get(key, 0) + stat.size_diff / n
    ours: dict[str, float] = {}
    for stat in diff:
        # The innermost frame in our own code: which of our lines caused the allocation.
        mine = [f for f in stat.traceback if "/curhat/" in f.filename]
        key = f"{short(mine[-1].filename)}:{mine[-1].lineno}" if mine else "(no curhat frame)"
        ours[key] = ours.get(key, 0) + stat.size_diff / n
    rows = [[site, size] for site, size in sorted(by_line.items(), key=lambda kv: -kv[1])[: args.top]]
    print_table(
        f"P6 idle WebSockets: traced allocation sites, N={n}",
        ["allocating line", "B/socket"],
        rows,
        [f"all traced Python allocations: {total / n:.0f} B per socket"],
    )
    rows = [[site, size] for site, size in sorted(ours.items(), key=lambda kv: -kv[1])[: args.top]]
    print_table(
        f"P6 idle WebSockets: by the innermost curhat frame, N={n}", ["curhat line", "B/socket"], rows
    )
    sys.stdout.flush()


async def run(args: argparse.Namespace, server: Server) -> None:
    assert server.settings.jwt_secret
    if args.trace:
        await trace(args, server, TokenSigner(server.settings.jwt_secret, server.settings.jwt_ttl_seconds))
        return
    signer = TokenSigner(server.settings.jwt_secret, server.settings.jwt_ttl_seconds)
    load_start = loadavg()
    limit = raise_fd_limit()
    rows = []
    for n in args.sizes:
        if 2 * n + 200 > limit and n + 200 > limit:
            raise SystemExit(f"N={n} needs more open files than the limit {limit}")
        urls = [f"{server.ws_url}?token={signer.issue(uuid.uuid4(), 'customer')}" for _ in range(n)]
        opened, per, ok = await measure(f"curhat N={n}", urls, server.rss_kib, {"type": "ping"}, "pong", True)
        bare = BareServer().start()
        try:
            # The bare server echoes nothing on /idle; a /relay socket answers its own ping.
            b_urls = [bare.url("/idle")] * n
            b_urls[0] = bare.url("/relay?me=p&peer=q")
            b_opened, b_per, _ = await measure(
                f"bare N={n}", b_urls, bare.rss_kib, {"type": "pong"}, "pong", False
            )
        finally:
            bare.stop()
        rows.append([n, opened, per, b_opened, b_per, per / b_per if b_per > 0 else float("nan"), f"{ok}%"])
    print_table(
        "P6 idle WebSockets: server RSS per open socket",
        ["N", "curhat open", "KiB/socket", "bare open", "bare KiB/socket", "ratio", "sample answered ping"],
        rows,
        [
            f"open-file limit: this process {limit}, the server {fd_limit(server.pid)} (both ends are local)",
            f"load average at start {load_start}; target ≥ 25 000 sockets at ≤ 24 KiB each",
        ],
    )


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=[15000])
    p.add_argument("--trace", action="store_true", help="allocation sites per socket (tracemalloc), no RSS")
    p.add_argument("--top", type=int, default=25, help="--trace: how many sites to print")


SMOKE = {"sizes": [200]}

if __name__ == "__main__":
    raise SystemExit(bench_main(__doc__, add_arguments, SMOKE, run))
