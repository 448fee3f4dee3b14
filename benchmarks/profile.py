"""Where the server's CPU goes on the two hot paths: a blast, and a chat message.

Runs a workload against a real ``curhat serve`` started under ``pyinstrument`` sampling
on the process's CPU clock (``benchmarks/profiled_serve.py``; py-spy, sampling wall time,
attributes waits to SQLAlchemy's suspended greenlet frames), then prints, for the
functions below the path's entry points only, the top own CPU time (libraries included)
and our own functions including what they call.

    .venv/bin/python benchmarks/profile.py blast     # 200 mitras online, back-to-back blasts + cancels
    .venv/bin/python benchmarks/profile.py chat      # 100 chats, 40 msg/s
    .venv/bin/python benchmarks/profile.py --smoke chat
"""

from __future__ import annotations

import argparse
import asyncio
import re
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import websockets
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
    tokens = [[c.token, m.token] for c, m, _ in chats]
    sockets = [
        list(pair)
        for pair in zip(
            await open_many(server.ws_url, [c for c, _ in tokens]),
            await open_many(server.ws_url, [m for _, m in tokens]),
            strict=True,
        )
    ]
    sent = reopened = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        chat, side = (sent // 2) % chats_n, sent % 2
        frame = {
            "type": "chat.send",
            "chat_session_id": str(chats[chat][2]),
            "body": "hari ini berat",
            "client_msg_id": f"m{sent}",
        }
        try:
            await sockets[chat][side].send(frame)
        except websockets.ConnectionClosed:
            # Refused with 1013 or dropped by an overloaded server: reconnect, like the apps.
            if reopened >= 50:
                print("  workload stopped early: too many sockets closed")
                break
            reopened += 1
            sockets[chat][side] = await Ws.open(server.ws_url, tokens[chat][side])
            continue
        sent += 1
        delay = start + sent / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
    await asyncio.sleep(1)
    await close_many([ws for pair in sockets for ws in pair])
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
    out = Path(tempfile.mkdtemp(prefix="curhat-profile-")) / f"{args.path}.pyisession"
    profiler = [str(Path(__file__).with_name("profiled_serve.py")), str(out)]
    with stack(args.data_dir, **server_settings()) as settings:
        server = Server(settings, python_args=profiler).start(timeout=300)  # slow under the profiler
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


# Where each path's work runs: the request or frame handler, the event bus delivering to
# this instance's sockets, and each socket's writer task.
ROOTS = {
    "blast": ("start_search", "cancel_search", "listen", "_write"),
    "chat": ("_read", "listen", "_write"),
}
ROOT_FILES = ("curhat/pairing/endpoints.py", "curhat/realtime/bus.py", "curhat/realtime/connection.py")


def label(frame: Any) -> str:
    path = frame.file_path or ""
    for marker in ("site-packages/", "/src/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    else:
        path = re.sub(r"^.*/lib/python3\.\d+/", "", path)
    return f"{frame.function} ({path})"


def own_time(frame: Any) -> float:
    """CPU in the frame itself: its time less its callees' and its awaits' (``[self]`` stays)."""
    return float(frame.time - sum(c.time for c in frame.children if c.identifier != "[self]"))


def print_report(path: str, out: Path, top: int) -> None:
    """Own and inclusive time of the functions under the path's entry points only."""
    from pyinstrument.session import Session

    root = Session.load(str(out)).root_frame(trim_stem=False)
    own: Counter[str] = Counter()
    incl: Counter[str] = Counter()

    def subtree(frame: Any) -> float:
        """Accumulate own time per function below ``frame``; the frame's inclusive CPU."""
        if frame.function.startswith("["):
            return float(frame.time) if frame.identifier == "[self]" else 0.0
        mine = own_time(frame)
        own[label(frame)] += mine
        total = mine + sum(subtree(c) for c in frame.children if c.identifier != "[self]")
        incl[label(frame)] += total
        return total

    def find(frame: Any) -> float:
        if frame.function in ROOTS[path] and any(f in (frame.file_path or "") for f in ROOT_FILES):
            return subtree(frame)
        return sum(find(c) for c in frame.children)

    busy = find(root) if root is not None else 0.0
    print_table(
        f"profile of the {path} path: own time of the functions below {', '.join(ROOTS[path])} ({busy:.1f} s of CPU)",
        ["function", "own %"],
        [[name, f"{100 * t / max(busy, 1e-9):.1f}"] for name, t in own.most_common(top)],
    )
    ours = Counter({k: v for k, v in incl.items() if "(curhat/" in k})
    print_table(
        f"profile of the {path} path: our functions, including what they call",
        ["function", "incl %"],
        [[name, f"{100 * t / max(busy, 1e-9):.1f}"] for name, t in ours.most_common(top)],
    )
    print(f"  pyinstrument session: {out} (pyinstrument --load {out} shows the whole tree)")


if __name__ == "__main__":
    raise SystemExit(main())
