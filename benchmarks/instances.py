"""P8: one instance against two on the same PostgreSQL + Valkey — throughput and server CPU per operation.

The same workload runs twice: first with every socket and request on one ``curhat serve``
(A), then with a second ``curhat serve`` (B) started on the same PostgreSQL + Valkey and
the clients spread over both, as a round-robin proxy would spread them (each socket on A or
B at random, seeded; HTTP requests alternate). Clients connect to each instance directly
(``tests/e2e/test_reverse_proxy.py`` shows the same pair behind nginx). Two phases per run,
each with its own CPU window:

* chat: K chat sessions (both sides' sockets open) relaying ``--rate`` messages per second
  for ``--seconds``, round robin over chats, alternating sides; latency from ``chat.send``
  to the other side's ``CHAT_MESSAGE``. With two instances about half the chats have their
  two sides on different instances: the message is stored by the sender's instance and
  reaches the other side through Valkey (``SPUBLISH`` to the recipient's shard channel,
  heard only by the instance holding that socket).
* blast: M mitras online (sockets spread the same way); ``--blasts`` searches at
  ``--blast-rate`` per second, each cancelled once every mitra got its
  ``PAIRING_REQUEST``; latency from the POST to each delivery.

Server CPU is from /proc/<pid>/stat of each instance: summed, and per instance. On a
2-core machine two instances cannot double throughput (they share the cores with each
other, PostgreSQL, Valkey and the clients); what this measures is the cost of an operation
and what crossing instances adds to it (quality.md P8: CPU per operation with 2 instances
≤ 1.1 × with one).

    .venv/bin/python benchmarks/instances.py                 # K = 200 chats at 40 msg/s for 20 s; M = 100, 20 blasts
    .venv/bin/python benchmarks/instances.py --smoke
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections import defaultdict
from typing import Any

from chat_relay import Relay, seed_chats, stored_messages
from harness import (
    Account,
    Progress,
    Server,
    Ws,
    bench_main,
    close_many,
    go_online,
    http_client,
    loadavg,
    open_many,
    paid_session,
    print_table,
    seed_accounts,
    summary,
    wait_until,
)

TIMEOUT = 30.0


def place(n: int, instances: int, seed: int) -> list[int]:
    """Which instance each of ``n`` sockets opens on (a seeded coin per socket)."""
    rng = random.Random(seed)
    return [rng.randrange(instances) for _ in range(n)]


async def open_placed(servers: list[Server], accounts: list[Account], where: list[int]) -> list[Ws]:
    """One socket per account, each on its instance, in the accounts' order."""
    by_instance: dict[int, list[int]] = defaultdict(list)
    for i, s in enumerate(where):
        by_instance[s].append(i)
    sockets: list[Ws | None] = [None] * len(accounts)
    for s, indexes in by_instance.items():
        opened = await open_many(servers[s].ws_url, [accounts[i].token for i in indexes])
        for i, ws in zip(indexes, opened, strict=True):
            sockets[i] = ws
    return [ws for ws in sockets if ws is not None]


def cpu_all(servers: list[Server]) -> list[float]:
    return [s.cpu() for s in servers]


async def chat_phase(
    servers: list[Server], chats: list[tuple[Account, Account, Any]], args: argparse.Namespace
) -> dict[str, Any]:
    n = len(servers)
    k = len(chats)
    where = place(2 * k, n, args.seed)
    relay = Relay(f"P8 chat, {n} instance(s)")
    customers = await open_placed(servers, [c for c, _, _ in chats], where[:k])
    mitras = await open_placed(servers, [m for _, m, _ in chats], where[k:])
    for ws in customers:
        ws.side = "customer"  # type: ignore[attr-defined]
    for ws in mitras:
        ws.side = "mitra"  # type: ignore[attr-defined]

    def on_frame(ws: Ws, frame: dict[str, Any], t: float) -> None:
        if frame.get("type") == "CHAT_MESSAGE":
            msg = frame["data"]["message"]
            relay.on_frame(
                ws, {"message": {"client_msg_id": msg["client_msg_id"], "from": msg["sender_role"]}}, t
            )

    for ws in customers + mitras:
        ws.on_frame = on_frame
    pairs = [(c, m, str(chat_id)) for c, m, (_, _, chat_id) in zip(customers, mitras, chats, strict=True)]
    crossing = sum(where[i] != where[k + i] for i in range(k))

    def frame(chat_id: str, cmid: str, side: str) -> dict[str, Any]:
        return {
            "type": "chat.send",
            "chat_session_id": chat_id,
            "body": "hari ini berat banget",
            "client_msg_id": cmid,
        }

    await asyncio.sleep(1)
    cpu0, t0 = cpu_all(servers), time.perf_counter()
    sent = await relay.drive(pairs, args.rate, args.seconds, frame)
    elapsed = time.perf_counter() - t0
    cpu = [b - a for a, b in zip(cpu0, cpu_all(servers), strict=True)]
    await close_many(customers + mitras)
    return {
        "ops": sent,
        "done": len(relay.latencies),
        "elapsed": elapsed,
        "lat": list(relay.latencies),
        "cpu": cpu,
        "cross": crossing / k,
    }


async def blast_phase(
    servers: list[Server], mitras: list[Account], customers: list[Account], args: argparse.Namespace
) -> dict[str, Any]:
    n = len(servers)
    where = place(len(mitras), n, args.seed + 1)
    arrivals: dict[str, list[tuple[float, Ws]]] = defaultdict(list)

    def on_frame(ws: Ws, frame: dict[str, Any], t: float) -> None:
        if frame.get("type") == "PAIRING_REQUEST":
            arrivals[str(frame["data"]["pairing_request_id"])].append((t, ws))

    sockets = await open_placed(servers, mitras, where)
    instance_of = {id(ws): s for ws, s in zip(sockets, where, strict=True)}
    for ws in sockets:
        ws.on_frame = on_frame
    https = [http_client(s.public_url, 20) for s in servers]
    try:
        await go_online(https[0], mitras)
        for _ in range(200):
            r = await https[-1].get("/api/client/mitra-availability", headers=customers[0].headers)
            if r.json()["count"] >= len(mitras):
                break
            await asyncio.sleep(0.1)
        payments = [await paid_session(https[0], c) for c in customers]
        latencies: list[float] = []
        crossed = delivered = missing = 0
        progress = Progress(f"P8 blast, {n} instance(s)")

        async def one(i: int, customer: Account, pid: str) -> None:
            nonlocal crossed, delivered, missing
            http = https[i % n]
            t0 = time.perf_counter()
            r = await http.post(
                "/api/client/chat-requests", json={"payment_session_id": pid}, headers=customer.headers
            )
            if r.status_code != 202:
                raise RuntimeError(f"search: {r.status_code} {r.text}")
            rid = str(r.json()["pairing_request_id"])
            await wait_until(lambda: len(arrivals[rid]) >= len(mitras), TIMEOUT, 0.005)
            got = arrivals.pop(rid, [])
            missing += len(mitras) - len(got)
            delivered += len(got)
            crossed += sum(instance_of[id(ws)] != i % n for _, ws in got)
            latencies.extend((t - t0) * 1000 for t, _ in got)
            r = await http.post(
                "/api/client/chat-requests/cancel", json={"payment_session_id": pid}, headers=customer.headers
            )
            if r.status_code != 200:
                raise RuntimeError(f"cancel: {r.status_code} {r.text}")

        await asyncio.sleep(1)
        cpu0, t0 = cpu_all(servers), time.perf_counter()
        tasks = []
        for i, (c, pid) in enumerate(zip(customers, payments, strict=True)):
            tasks.append(asyncio.create_task(one(i, c, pid)))
            progress.show(f"blast {i + 1}/{len(customers)}")
            await asyncio.sleep(1 / args.blast_rate)
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - t0
        cpu = [b - a for a, b in zip(cpu0, cpu_all(servers), strict=True)]
        progress.done()
    finally:
        for http in https:
            await http.aclose()
    await close_many(sockets)
    return {
        "ops": len(customers),
        "done": len(customers),
        "elapsed": elapsed,
        "lat": latencies,
        "cpu": cpu,
        "cross": crossed / delivered if delivered else float("nan"),
        "missing": missing,
    }


async def idle_cpu(servers: list[Server], seconds: float) -> list[float]:
    """CPU ms per second of each instance with no clients (its background loops)."""
    cpu0 = cpu_all(servers)
    await asyncio.sleep(seconds)
    return [1000 * (b - a) / seconds for a, b in zip(cpu0, cpu_all(servers), strict=True)]


async def run(args: argparse.Namespace, server: Server) -> None:
    load_start = loadavg()
    k = args.chats
    chats = await seed_chats(server, k)
    mitras = await seed_accounts(server.settings, "mitra", args.mitras)
    customers = await seed_accounts(server.settings, "customer", 2 * args.blasts)
    stored0 = await stored_messages(server)
    results: dict[int, dict[str, Any]] = {}
    second = Server(server.settings)
    try:
        for n in (1, 2):
            if n == 2:
                second.start()
            servers = [server, second][:n]
            idle = await idle_cpu(servers, args.idle_seconds)
            chat = await chat_phase(servers, chats, args)
            blast = await blast_phase(
                servers, mitras, customers[(n - 1) * args.blasts : n * args.blasts], args
            )
            results[n] = {"chat": chat, "blast": blast, "idle": idle}
    finally:
        second.stop()
    stored = await stored_messages(server) - stored0
    sent = sum(r["chat"]["ops"] for r in results.values())

    def net_ms(n: int, kind: str) -> float:
        """CPU per operation without the instances' idle background loops over the phase."""
        res = results[n][kind]
        busy = 1000 * sum(res["cpu"]) - sum(results[n]["idle"]) * res["elapsed"]
        return busy / res["ops"]

    rows = []
    for kind in ("chat", "blast"):
        for n in (1, 2):
            res = results[n][kind]
            lat = summary(res["lat"])
            per_op = [1000 * c / res["ops"] for c in res["cpu"]]
            rows.append(
                [
                    f"{kind}: {n} instance{'s' if n > 1 else ''}",
                    res["done"] / res["elapsed"],
                    lat["p50"],
                    lat["p99"],
                    sum(per_op),
                    " + ".join(f"{c:.2f}" for c in per_op),
                    net_ms(n, kind),
                    f"{100 * res['cross']:.0f}%",
                    sum(per_op) / (1000 * sum(results[1][kind]["cpu"]) / results[1][kind]["ops"]),
                    net_ms(n, kind) / net_ms(1, kind) if net_ms(1, kind) > 0 else float("nan"),
                ]
            )
    notes = [
        f"chat: {k} chats ({2 * k} sockets), {args.rate:g} msg/s offered for {args.seconds:g} s; "
        f"stored in PostgreSQL: {stored} of {sent} sent; delivered: "
        + ", ".join(
            f"{n} instance(s) {results[n]['chat']['done']}/{results[n]['chat']['ops']}" for n in (1, 2)
        ),
        f"blast: {args.mitras} mitras online, {args.blasts} blasts at {args.blast_rate:g}/s, each cancelled once delivered; "
        "latency per delivery; missing deliveries: "
        + ", ".join(f"{n} instance(s) {results[n]['blast']['missing']}" for n in (1, 2)),
        "cross = messages whose two sides are on different instances / deliveries to a socket on another "
        "instance than the one that took the POST",
        "idle CPU ms/s per instance (background loops: in CPU ms/op, taken out of 'net'): "
        + "; ".join(f"{n}: " + " + ".join(f"{c:.1f}" for c in results[n]["idle"]) for n in (1, 2)),
        f"load average at start {load_start}; target: CPU per operation with 2 instances ≤ 1.1 × with one",
    ]
    print_table(
        "P8 scale-out: one instance vs two on the same PostgreSQL + Valkey",
        [
            "workload",
            "ops/s",
            "p50 ms",
            "p99 ms",
            "CPU ms/op",
            "per instance",
            "net of idle",
            "cross",
            "vs 1",
            "net vs 1",
        ],
        rows,
        notes,
    )


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--chats", type=int, default=200, help="K: chat sessions (2K sockets)")
    p.add_argument("--rate", type=float, default=40.0, help="chat messages per second")
    p.add_argument("--seconds", type=float, default=20.0, help="length of the chat phase")
    p.add_argument("--mitras", type=int, default=100, help="M: mitras online for the blasts")
    p.add_argument("--blasts", type=int, default=20)
    p.add_argument("--blast-rate", type=float, default=2.0, help="blasts per second")
    p.add_argument("--idle-seconds", type=float, default=3.0)
    p.add_argument("--seed", type=int, default=18)


SMOKE = {
    "chats": 6,
    "rate": 20.0,
    "seconds": 1.0,
    "mitras": 6,
    "blasts": 3,
    "blast_rate": 5.0,
    "idle_seconds": 0.5,
}

if __name__ == "__main__":
    raise SystemExit(bench_main(__doc__, add_arguments, SMOKE, run))
