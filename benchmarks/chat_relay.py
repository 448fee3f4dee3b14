"""P5: chat relay, stored before it is acknowledged — against a bare relay, same run.

K chat sessions (customer + mitra, both sockets open: 2K sockets). At each rate, for
``--seconds``, messages go out at that total rate, round robin over chats, alternating
sides, as ``{"type": "chat.send", …}`` frames; a message's latency is from sending it to
the other side's socket receiving its ``CHAT_MESSAGE``. The server stores every message
in PostgreSQL before it answers (counted at the end). The baseline is
``benchmarks/bare.py``'s relay (``/relay``: forward to the peer, echo to the sender, no
storage) with the same K pairs and rates. Server CPU per message from /proc/<pid>/stat.

    .venv/bin/python benchmarks/chat_relay.py               # K = 1000, 50/100/200 msg/s, 10 s each
    .venv/bin/python benchmarks/chat_relay.py --smoke
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from harness import (
    BareServer,
    Progress,
    Server,
    Ws,
    bench_main,
    chart,
    close_many,
    loadavg,
    open_many,
    open_urls,
    pool_delta,
    pool_waits,
    print_table,
    seed_accounts,
    summary,
)


class Relay:
    """Sends at a rate over pairs of sockets and times arrival on the other side."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.sent: dict[str, float] = {}
        self.latencies: list[float] = []
        self.acks: list[float] = []

    def on_frame(self, ws: Ws, frame: dict[str, Any], t: float) -> None:
        data = frame.get("data", frame)
        msg = data.get("message", data)
        cmid = msg.get("client_msg_id")
        start = self.sent.get(cmid) if cmid else None
        if start is None:
            return
        # Each message arrives twice: at the peer and back at the sender (the ack).
        if getattr(ws, "side", None) != msg.get("from"):
            self.latencies.append((t - start) * 1000)
        else:
            self.acks.append((t - start) * 1000)

    async def drive(self, pairs: list[tuple[Ws, Ws, str]], rate: float, seconds: float, frame: Any) -> int:
        """Send ``rate`` messages per second for ``seconds``; how many were sent."""
        self.latencies, self.acks = [], []
        total = int(rate * seconds)
        start = time.perf_counter()
        progress = Progress(f"P5 {self.label} {rate:g} msg/s")
        for i in range(total):
            a, b, chat_id = pairs[(i // 2) % len(pairs)]
            ws, side = (a, "customer") if i % 2 == 0 else (b, "mitra")
            cmid = uuid.uuid4().hex
            self.sent[cmid] = time.perf_counter()
            await ws.send(frame(chat_id, cmid, side))
            delay = start + (i + 1) / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            progress.show(f"{i + 1}/{total} sent, {len(self.latencies)} relayed")
        deadline = time.perf_counter() + 30
        while len(self.latencies) < total and time.perf_counter() < deadline:
            await asyncio.sleep(0.02)
        progress.done()
        return total


async def seed_chats(server: Server, k: int) -> list[tuple[Any, Any, uuid.UUID]]:
    from sqlalchemy import insert

    from curhat.models import ChatSession
    from curhat.postgres import Database

    customers = await seed_accounts(server.settings, "customer", k)
    mitras = await seed_accounts(server.settings, "mitra", k)
    now = datetime.now(UTC)
    rows = [
        {
            "id": uuid.uuid4(),
            "customer_id": c.id,
            "mitra_id": m.id,
            "status": "active",
            "started_at": now,
            "ends_at": now + timedelta(hours=2),
            "duration_minutes": 120,
        }
        for c, m in zip(customers, mitras, strict=True)
    ]
    assert server.settings.database_url
    db = Database(server.settings.database_url, pool_size=1)
    try:
        async with db.engine.begin() as conn:
            await conn.execute(insert(ChatSession), rows)
    finally:
        await db.dispose()
    return [(c, m, r["id"]) for c, m, r in zip(customers, mitras, rows, strict=True)]


async def stored_messages(server: Server) -> int:
    from sqlalchemy import text

    from curhat.postgres import Database

    assert server.settings.database_url
    db = Database(server.settings.database_url, pool_size=1)
    try:
        async with db.engine.connect() as conn:
            return int((await conn.execute(text("SELECT count(*) FROM chat_messages"))).scalar_one())
    finally:
        await db.dispose()


async def run(args: argparse.Namespace, server: Server) -> None:
    k = args.chats
    chats = await seed_chats(server, k)
    load_start = loadavg()
    stored_before = await stored_messages(server)

    curhat = Relay("curhat")
    customers = await open_many(server.ws_url, [c.token for c, _, _ in chats], curhat.on_frame)
    mitras = await open_many(server.ws_url, [m.token for _, m, _ in chats], curhat.on_frame)
    for ws in customers:
        ws.side = "customer"  # type: ignore[attr-defined]
    for ws in mitras:
        ws.side = "mitra"  # type: ignore[attr-defined]
    pairs = [(c, m, str(chat_id)) for c, m, (_, _, chat_id) in zip(customers, mitras, chats, strict=True)]

    def curhat_frame(chat_id: str, cmid: str, side: str) -> dict[str, Any]:
        return {
            "type": "chat.send",
            "chat_session_id": chat_id,
            "body": "hari ini berat banget",
            "client_msg_id": cmid,
        }

    # The server's CHAT_MESSAGE says who sent it; the bare relay echoes our frame as is.
    def curhat_on_frame(ws: Ws, frame: dict[str, Any], t: float) -> None:
        if frame.get("type") == "CHAT_MESSAGE":
            msg = frame["data"]["message"]
            frame = {"message": {"client_msg_id": msg["client_msg_id"], "from": msg["sender_role"]}}
            curhat.on_frame(ws, frame, t)

    for ws in customers + mitras:
        ws.on_frame = curhat_on_frame

    results: list[tuple[float, dict[str, Any]]] = []
    sent_total = 0
    for rate in args.rates:
        pool0, cpu0 = await pool_waits(server), server.cpu()
        sent = await curhat.drive(pairs, rate, args.seconds, curhat_frame)
        cpu = server.cpu() - cpu0
        sent_total += sent
        results.append(
            (
                rate,
                {
                    "lat": list(curhat.latencies),
                    "ack": list(curhat.acks),
                    "lost": sent - len(curhat.latencies),
                    "cpu_ms": 1000 * cpu / sent,
                    "pool": pool_delta(pool0, await pool_waits(server)),
                },
            )
        )
    await close_many(customers + mitras)
    stored = await stored_messages(server) - stored_before

    bare = BareServer().start()
    bare_results: dict[float, dict[str, Any]] = {}
    try:
        relay = Relay("bare")
        a_side = await open_urls([bare.url(f"/relay?me=a{i}&peer=b{i}") for i in range(k)], relay.on_frame)
        b_side = await open_urls([bare.url(f"/relay?me=b{i}&peer=a{i}") for i in range(k)], relay.on_frame)
        for a, b in zip(a_side, b_side, strict=True):
            a.side, b.side = "customer", "mitra"  # type: ignore[attr-defined]
        bare_pairs = [(a, b, str(i)) for i, (a, b) in enumerate(zip(a_side, b_side, strict=True))]

        def bare_frame(chat_id: str, cmid: str, side: str) -> dict[str, Any]:
            return {"message": {"client_msg_id": cmid, "from": side, "body": "hari ini berat banget"}}

        for rate in args.rates:
            cpu0 = bare.cpu()
            sent = await relay.drive(bare_pairs, rate, args.seconds, bare_frame)
            bare_results[rate] = {"lat": list(relay.latencies), "cpu_ms": 1000 * (bare.cpu() - cpu0) / sent}
        await close_many(a_side + b_side)
    finally:
        bare.stop()

    rows = []
    for rate, res in results:
        c, ack, b = summary(res["lat"]), summary(res["ack"]), summary(bare_results[rate]["lat"])
        rows.append(
            [
                f"{rate:g}",
                c["p50"],
                c["p99"],
                c["max"],
                ack["p99"],
                b["p50"],
                b["p99"],
                c["p99"] / b["p99"] if b["p99"] else float("nan"),
                res["cpu_ms"],
                bare_results[rate]["cpu_ms"],
                res["lost"],
            ]
        )
    pool = results[-1][1]["pool"]
    print_table(
        f"P5 chat relay: {k} chats ({2 * k} sockets), {args.seconds:g} s per rate, message → other side's socket",
        [
            "msg/s",
            "p50 ms",
            "p99 ms",
            "max ms",
            "ack p99",
            "bare p50",
            "bare p99",
            "p99 ratio",
            "CPU ms/msg",
            "bare CPU",
            "lost",
        ],
        rows,
        [
            f"stored in PostgreSQL: {stored} of {sent_total} sent (each stored before CHAT_MESSAGE leaves)",
            f"PostgreSQL pool at the highest rate: {pool['checkouts']:.0f} checkouts, {pool['over_10ms']:.0f} over 10 ms, "
            f"{pool['timeouts']:.0f} timeouts",
            f"load average at start {load_start}; target p99 ≤ 15 ms at 1 000 chats / 200 msg/s; CPU ≤ 1 ms per message (P9)",
        ],
    )
    path = Path(args.charts) / "p5-chat.png"
    chart(
        path,
        f"P5: chat message → other side's socket ({k} chats)",
        "messages per second",
        {
            "curhat p99": [(r, summary(res["lat"])["p99"]) for r, res in results],
            "curhat p50": [(r, summary(res["lat"])["p50"]) for r, res in results],
            "bare relay p99": [(r, summary(bare_results[r]["lat"])["p99"]) for r, _ in results],
        },
        15.0,
    )
    print(f"  chart: {path}")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--chats", type=int, default=1000, help="K: chat sessions (2K sockets)")
    p.add_argument("--rates", type=lambda s: [float(x) for x in s.split(",")], default=[50.0, 100.0, 200.0])
    p.add_argument("--seconds", type=float, default=10, help="length of each rate's run")


SMOKE = {"chats": 5, "rates": [20.0, 40.0], "seconds": 1.0}

if __name__ == "__main__":
    raise SystemExit(bench_main(__doc__, add_arguments, SMOKE, run))
