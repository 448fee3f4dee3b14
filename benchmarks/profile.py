"""Where the server's CPU goes on the two hot paths: a blast, and a chat message.

Runs a workload against a real ``curhat serve`` started under ``pyinstrument`` (a
statistical profiler that follows asyncio and SQLAlchemy's greenlets; py-spy attributes
time to suspended greenlet frames), then prints the functions with the most time: by own
time (library code included), and our own functions including their callees. Idle
event-loop time and process start-up are left out.

    .venv/bin/python benchmarks/profile.py blast     # 200 mitras online, back-to-back blasts + cancels
    .venv/bin/python benchmarks/profile.py chat      # 100 chats, 100 msg/s
    .venv/bin/python benchmarks/profile.py --smoke chat
"""

from __future__ import annotations

import argparse
import asyncio
import pstats
import re
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from harness import (
    Server,
    Ws,
    close_many,
    go_online,
    http_client,
    loadavg,
    open_many,
    paid_session,
    print_table,
    raise_fd_limit,
    run_main,
    seed_accounts,
    server_settings,
    stack,
    wait_until,
)

FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>.*?)(?::(?P<line>\d+))?\)$")


def short(frame: str) -> str:
    m = FRAME.match(frame)
    if not m:
        return frame
    path = m.group("file")
    for marker in ("site-packages/", "/src/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    else:
        path = re.sub(r"^.*/lib/python3\.\d+/", "", path)
    return f"{m.group('func')} ({path})"


async def blast_workload(server: Server, seconds: float, mitras_n: int) -> int:
    mitras = await seed_accounts(server.settings, "mitra", mitras_n)
    customers = await seed_accounts(server.settings, "customer", 2000)
    got: Counter[str] = Counter()

    def on_frame(ws: Ws, frame: dict[str, Any], t: float) -> None:
        if frame.get("type") == "PAIRING_REQUEST":
            got[str(frame["data"]["pairing_request_id"])] += 1

    sockets = await open_many(server.ws_url, [m.token for m in mitras], on_frame)
    done = 0
    async with http_client(server.public_url, 20) as http:
        await go_online(http, mitras)
        payments = [await paid_session(http, c) for c in customers[:50]]
        stop = time.monotonic() + seconds
        for c, pid in zip(customers, payments, strict=False):
            if time.monotonic() > stop:
                break
            r = await http.post(
                "/api/client/chat-requests", json={"payment_session_id": pid}, headers=c.headers
            )
            rid = str(r.json()["pairing_request_id"])
            await wait_until(lambda rid=rid: got[rid] >= mitras_n, 30, 0.005)  # type: ignore[misc]
            await http.post(
                "/api/client/chat-requests/cancel", json={"payment_session_id": pid}, headers=c.headers
            )
            done += 1
    await close_many(sockets)
    return done


async def chat_workload(server: Server, seconds: float, chats_n: int, rate: float) -> int:
    from chat_relay import seed_chats

    chats = await seed_chats(server, chats_n)
    customers = await open_many(server.ws_url, [c.token for c, _, _ in chats])
    mitras = await open_many(server.ws_url, [m.token for _, m, _ in chats])
    sent = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        i = sent
        ws = customers[(i // 2) % chats_n] if i % 2 == 0 else mitras[(i // 2) % chats_n]
        chat_id = str(chats[(i // 2) % chats_n][2])
        await ws.send(
            {
                "type": "chat.send",
                "chat_session_id": chat_id,
                "body": "hari ini berat",
                "client_msg_id": f"m{i}",
            }
        )
        sent += 1
        delay = start + sent / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
    await asyncio.sleep(1)
    await close_many(customers + mitras)
    return sent


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("path", choices=["blast", "chat"])
    p.add_argument("--smoke", action="store_true")
    p.add_argument("--seconds", type=float, default=30)
    p.add_argument("--top", type=int, default=15)
    p.add_argument("--data-dir", default=None)
    args = p.parse_args()
    if args.smoke:
        args.seconds = 3
    raise_fd_limit()
    out = Path(tempfile.mkdtemp(prefix="curhat-profile-")) / f"{args.path}.pstats"
    profiler = ["-m", "pyinstrument", "--renderer", "pstats", "--outfile", str(out), "--interval", "0.0005"]
    with stack(args.data_dir, **server_settings()) as settings:
        server = Server(settings, python_args=profiler).start()
        try:
            ops = 0

            async def go() -> None:
                nonlocal ops
                cpu0 = server.cpu()
                if args.path == "blast":
                    ops = await blast_workload(server, args.seconds, 20 if args.smoke else 200)
                else:
                    ops = await chat_workload(
                        server, args.seconds, 10 if args.smoke else 100, 20 if args.smoke else 100
                    )
                cpu = server.cpu() - cpu0
                print(
                    f"\n{args.path}: {ops} operations, server CPU {1000 * cpu / max(ops, 1):.2f} ms each "
                    f"(under the profiler), load {loadavg()}"
                )

            run_main(go)
        finally:
            server.stop(timeout=120)  # the profiler writes its file on the way out
    print_report(args.path, out, args.top)
    return 0


def print_report(path: str, out: Path, top: int) -> None:
    """Top functions of the server's whole run, idle event-loop time left out."""
    stats = pstats.Stats(str(out))
    rows: list[tuple[str, float, float]] = []
    for (file, line, func), (_cc, _nc, tottime, cumtime, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append((short(f"{func} ({file}:{line})"), tottime, cumtime))
    idle = sum(t for name, t, _ in rows if name.startswith(IDLE))
    # Start-up is left out of the denominator too: the roots of start-up work, with callees.
    startup = sum(c for name, _, c in rows if name.startswith(STARTUP_ROOTS))
    busy = sum(t for _, t, _ in rows) - idle - startup
    own = sorted((r for r in rows if not r[0].startswith(IDLE + STARTUP)), key=lambda r: -r[1])[:top]
    # Including callees: our own code only (the libraries' share shows in the first table).
    incl = sorted(
        (r for r in rows if "(curhat/" in r[0] and not r[0].startswith(WRAPPERS + STARTUP)),
        key=lambda r: -r[2],
    )[:top]
    print_table(
        f"profile of the {path} path: top functions by own time ({busy:.1f} s busy; idle loop and start-up excluded)",
        ["function", "own %"],
        [[name, f"{100 * t / busy:.1f}"] for name, t, _ in own],
    )
    print_table(
        f"profile of the {path} path: top functions by time including callees",
        ["function", "incl %"],
        [[name, f"{100 * c / busy:.1f}"] for name, _, c in incl],
    )
    print(f"  pstats file: {out}")


# The event loop waiting for I/O (no Python frame below it).
IDLE = ("run (uvloop/__init__.py)", "run (asyncio/runners.py)", "[await]", "[self]", "[idle]")
# Frames every sample passes through, which say nothing about where the time goes.
WRAPPERS = ("serve (curhat/cli", "main (curhat/cli", "guarded (curhat/runtime.py)")
# Process start-up: imports, schema building, the apps, the bootstrap operator's password.
STARTUP = (
    "<module>",
    "_find_and_load",
    "exec_module",
    "_generate_schema",
    "_populate_api_route_state",
    "Lib.argon2_hash",
    "create_public_app",
    "create_internal_app",
    "bootstrap",
)
STARTUP_ROOTS = ("_find_and_load (<frozen", "create_public_app", "create_internal_app", "bootstrap (curhat")


if __name__ == "__main__":
    raise SystemExit(main())
