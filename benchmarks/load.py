"""The load tool and operator simulator: clients that behave like the real apps.

Starts embedded PostgreSQL + Valkey and a real ``curhat serve`` process, then runs, on
loopback and bounded in time and count:

* idle customers on the home screen polling ``GET /api/client/mitra-availability``;
* customers arriving at ``--customers-per-minute`` (Poisson): open the app's WebSocket,
  poll availability, read prices, create and confirm a payment session, search (blast),
  maybe cancel, then chat (messages over /ws, answered by the mitra), maybe buy an
  extension, and end the chat;
* ``--mitras`` mitras with a socket, online, answering each ``PAIRING_REQUEST`` after a
  think time: accept with ``--accept``, reject with ``--reject``, else let it lapse;
  replying to every chat message and approving extensions.

Prints a table per operation (count, throughput, p50/p95/p99/max, errors), the server's
CPU per operation (from /proc/<pid>/stat), PostgreSQL pool waits (from /metrics) and, as
the operator simulator, pairings by outcome with time-to-pair — for the settings given
with ``--set key=value`` (as an operator would set them in the control center).

    .venv/bin/python benchmarks/load.py                       # 60 s, 30 customers/min, 20 mitras
    .venv/bin/python benchmarks/load.py --smoke               # seconds, proves it works
    .venv/bin/python benchmarks/load.py --customers-per-minute 120 --mitras 10 \\
        --accept 0.5 --reject 0.2 --think 8 --set pairing_blast_timeout_seconds=20
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import time
import uuid
from collections import Counter, defaultdict
from typing import Any

import httpx
from harness import (
    Account,
    Progress,
    Server,
    Ws,
    bench_main,
    go_online,
    http_client,
    loadavg,
    operator_headers,
    pool_delta,
    pool_waits,
    print_table,
    seed_accounts,
    set_config,
    summary,
)


class Recorder:
    def __init__(self) -> None:
        self.samples: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, Counter[str]] = defaultdict(Counter)
        self.outcomes: Counter[str] = Counter()
        self.time_to_pair: list[float] = []
        # client_msg_id -> (sent at, sender role)
        self.in_flight: dict[str, tuple[float, str]] = {}

    def ok(self, op: str, ms: float) -> None:
        self.samples[op].append(ms)

    def error(self, op: str, code: str) -> None:
        self.errors[op][code] += 1

    async def call(
        self, op: str, http: httpx.AsyncClient, method: str, url: str, expect: int, **kw: Any
    ) -> httpx.Response | None:
        t = time.perf_counter()
        try:
            r = await http.request(method, url, **kw)
        except httpx.HTTPError as exc:
            self.error(op, type(exc).__name__)
            return None
        ms = (time.perf_counter() - t) * 1000
        if r.status_code == expect:
            self.ok(op, ms)
            return r
        code = str(r.status_code)
        with contextlib.suppress(Exception):
            code += " " + str(r.json().get("error"))
        self.error(op, code)
        return r


class Sim:
    def __init__(self, args: argparse.Namespace, server: Server, http: httpx.AsyncClient) -> None:
        self.args = args
        self.server = server
        self.http = http
        self.rec = Recorder()
        self.rng = random.Random(args.seed)
        self.tasks: set[asyncio.Task[None]] = set()
        self.started = 0
        self.finished = 0
        self.messages = 0
        self.blast_timeout = 60

    def spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    # -- mitras -------------------------------------------------------------------------------

    def mitra_frame(self, mitra: Account) -> Any:
        def on_frame(ws: Ws, frame: dict[str, Any], t: float) -> None:
            kind, data = frame.get("type"), frame.get("data", {})
            if kind == "PAIRING_REQUEST":
                self.spawn(self.mitra_answer(mitra, str(data["pairing_request_id"])))
            elif kind == "CHAT_MESSAGE":
                self.message_arrived(data, "mitra", t)
                msg = data["message"]
                if msg["sender_role"] == "customer":
                    self.spawn(self.reply(ws, str(data["chat_session_id"])))
            elif kind == "EXTENSION_REQUEST":
                self.spawn(self.approve(mitra, str(data["extension_request_id"])))

        return on_frame

    async def mitra_answer(self, mitra: Account, request_id: str) -> None:
        a = self.args
        await asyncio.sleep(self.rng.uniform(0, 2 * a.think))
        roll = self.rng.random()
        if roll < a.accept:
            action = "accept"
        elif roll < a.accept + a.reject:
            action = "reject"
        else:
            return  # lets it lapse
        t = time.perf_counter()
        r = await self.http.post(
            f"/api/mitra/pairing-requests/{request_id}/respond",
            json={"action": action},
            headers=mitra.headers,
        )
        ms = (time.perf_counter() - t) * 1000
        if r.status_code == 200:
            self.rec.ok(f"mitra {action}", ms)
        elif r.status_code == 409:
            # a lost race or a closed window is an answer, not an error
            self.rec.ok(f"mitra {action} (409 {r.json().get('error')})", ms)
        else:
            self.rec.error(f"mitra {action}", str(r.status_code))

    async def reply(self, ws: Ws, chat_id: str) -> None:
        await asyncio.sleep(self.rng.uniform(0.05, 0.3))
        await self.send(ws, chat_id, "mitra", "iya, aku dengerin kok")

    async def approve(self, mitra: Account, ext_id: str) -> None:
        await asyncio.sleep(self.rng.uniform(0.2, 1.0))
        await self.rec.call(
            "mitra extension approve",
            self.http,
            "POST",
            f"/api/mitra/extension-requests/{ext_id}/respond",
            200,
            json={"action": "approve"},
            headers=mitra.headers,
        )

    # -- chat messages ---------------------------------------------------------------------------

    async def send(self, ws: Ws, chat_id: str, role: str, body: str) -> None:
        cmid = uuid.uuid4().hex
        self.rec.in_flight[cmid] = (time.perf_counter(), role)
        try:
            await ws.send(
                {"type": "chat.send", "chat_session_id": chat_id, "body": body, "client_msg_id": cmid}
            )
        except Exception:
            self.rec.in_flight.pop(cmid, None)
            self.rec.error("chat message relay", "send failed")

    def message_arrived(self, data: dict[str, Any], at_role: str, t: float) -> None:
        cmid = data.get("message", {}).get("client_msg_id")
        sent = self.rec.in_flight.get(cmid) if cmid else None
        if sent is not None and sent[1] != at_role:
            del self.rec.in_flight[cmid]
            self.rec.ok("chat message relay (ws)", (t - sent[0]) * 1000)
            self.messages += 1

    # -- customers ------------------------------------------------------------------------------

    async def idle_customer(self, customer: Account, until: float) -> None:
        """On the home screen: polls availability every --poll seconds (jittered start)."""
        await asyncio.sleep(self.rng.uniform(0, self.args.poll))
        while time.monotonic() < until:
            await self.rec.call(
                "GET availability",
                self.http,
                "GET",
                "/api/client/mitra-availability",
                200,
                headers=customer.headers,
            )
            await asyncio.sleep(self.args.poll)

    async def customer(self, c: Account) -> None:
        self.started += 1
        ws = await Ws.open(self.server.ws_url, c.token, lambda w, f, t: self.customer_frame(f, t))
        try:
            await self._customer_flow(c, ws)
        finally:
            self.finished += 1
            await ws.close()

    def customer_frame(self, frame: dict[str, Any], t: float) -> None:
        if frame.get("type") == "CHAT_MESSAGE":
            self.message_arrived(frame["data"], "customer", t)

    async def _customer_flow(self, c: Account, ws: Ws) -> None:
        a, rec, http = self.args, self.rec, self.http
        h = c.headers
        for _ in range(a.max_polls):
            r = await rec.call(
                "GET availability", http, "GET", "/api/client/mitra-availability", 200, headers=h
            )
            if r is not None and r.status_code == 200 and r.json()["available"]:
                break
            await asyncio.sleep(a.poll)
        else:
            rec.outcomes["gave up: nobody available"] += 1
            return
        await rec.call("GET pricing", http, "GET", "/api/client/pricing", 200, headers=h)
        r = await rec.call(
            "POST payment-sessions",
            http,
            "POST",
            "/api/client/payment-sessions",
            201,
            json={"duration_minutes": 30},
            headers=h,
        )
        if r is None or r.status_code != 201:
            rec.outcomes["error before search"] += 1
            return
        pid = r.json()["id"]
        r = await rec.call(
            "POST payment confirm",
            http,
            "POST",
            f"/api/client/payment-sessions/{pid}/confirm",
            200,
            headers=h,
        )
        if r is None or r.status_code != 200:
            rec.outcomes["error before search"] += 1
            return
        t0 = time.perf_counter()
        r = await rec.call(
            "POST chat-requests (blast)",
            http,
            "POST",
            "/api/client/chat-requests",
            202,
            json={"payment_session_id": pid},
            headers=h,
        )
        if r is None or r.status_code != 202:
            rec.outcomes["error before search"] += 1
            return
        cancel_after = self.rng.uniform(1, self.blast_timeout) if self.rng.random() < a.cancel else None
        matched = asyncio.create_task(ws.wait("PAIRING_MATCHED", timeout=self.blast_timeout + 30))
        failed = asyncio.create_task(ws.wait("PAIRING_FAILED", timeout=self.blast_timeout + 30))
        waiting = {matched, failed}
        if cancel_after is not None:
            done, _ = await asyncio.wait(waiting, timeout=cancel_after, return_when=asyncio.FIRST_COMPLETED)
            if not done:
                await rec.call(
                    "POST chat-requests/cancel",
                    http,
                    "POST",
                    "/api/client/chat-requests/cancel",
                    200,
                    json={"payment_session_id": pid},
                    headers=h,
                )
        done, pending = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        outcome = next(iter(done))
        if outcome.exception() is not None:
            rec.outcomes["no answer (client timeout)"] += 1
            return
        frame, t = outcome.result()
        if outcome is failed:
            rec.outcomes[f"failed: {frame['data']['cause_tag']}"] += 1
            return
        rec.outcomes["matched"] += 1
        rec.time_to_pair.append(t - t0)
        chat_id = str(frame["data"]["chat_session_id"])
        for i in range(a.messages):
            await self.send(ws, chat_id, "customer", f"pesan ke-{i}: hari ini berat banget")
            await asyncio.sleep(self.rng.uniform(0.5, 1.5) * a.message_interval)
        if self.rng.random() < a.extension:
            await self.extend(c, chat_id, ws)
        await rec.call(
            "POST chat end", http, "POST", f"/api/client/chat-sessions/{chat_id}/end", 200, headers=h
        )

    async def extend(self, c: Account, chat_id: str, ws: Ws) -> None:
        rec, http, h = self.rec, self.http, c.headers
        r = await rec.call(
            "POST payment-sessions",
            http,
            "POST",
            "/api/client/payment-sessions",
            201,
            json={"duration_minutes": 15, "is_extension": True, "chat_session_id": chat_id},
            headers=h,
        )
        if r is None or r.status_code != 201:
            return
        pid = r.json()["id"]
        await rec.call(
            "POST payment confirm",
            http,
            "POST",
            f"/api/client/payment-sessions/{pid}/confirm",
            200,
            headers=h,
        )
        t0 = time.perf_counter()
        r = await rec.call(
            "POST extensions",
            http,
            "POST",
            f"/api/client/chat-sessions/{chat_id}/extensions",
            202,
            json={"extension_payment_session_id": pid},
            headers=h,
        )
        if r is None or r.status_code != 202:
            return
        with contextlib.suppress(TimeoutError):
            _, t = await ws.wait("EXTENSION_APPROVED", timeout=30, chat_session_id=chat_id)
            rec.ok("extension request → approved", (t - t0) * 1000)


async def run(args: argparse.Namespace, server: Server) -> None:
    settings = dict(kv.split("=", 1) for kv in args.set)
    values = {k: (int(v) if v.lstrip("-").isdigit() else v) for k, v in settings.items()}
    if values:
        await set_config(server, values)
    n_customers = int(args.customers_per_minute * args.duration / 60 * 1.5) + 5
    mitras = await seed_accounts(server.settings, "mitra", args.mitras)
    customers = await seed_accounts(server.settings, "customer", n_customers + args.idle_customers)
    async with http_client(server.public_url, 200) as http:
        sim = Sim(args, server, http)
        r = await http.get("/api/client/pricing", headers=customers[0].headers)
        r.raise_for_status()
        cfg = {row["key"]: row["value"] for row in (await _config(server))}
        sim.blast_timeout = int(cfg["pairing_blast_timeout_seconds"])
        mitra_ws = [await Ws.open(server.ws_url, m.token, sim.mitra_frame(m)) for m in mitras]
        await go_online(http, mitras)
        pool0, cpu0, t_start = await pool_waits(server), server.cpu(), time.monotonic()
        load_start = loadavg()
        until = t_start + args.duration
        progress = Progress("load")
        for c in customers[n_customers:]:
            sim.spawn(sim.idle_customer(c, until))
        arrivals = iter(customers[:n_customers])
        next_at = t_start
        while time.monotonic() < until:
            now = time.monotonic()
            if now >= next_at:
                c = next(arrivals, None)
                if c is None:
                    break
                sim.spawn(sim.customer(c))
                next_at = now + sim.rng.expovariate(args.customers_per_minute / 60)
            progress.show(
                f"{now - t_start:5.1f}s customers {sim.started} started / {sim.finished} done, "
                f"matched {sim.rec.outcomes['matched']}, msgs {sim.messages}, "
                f"errors {sum(sum(c.values()) for c in sim.rec.errors.values())}"
            )
            await asyncio.sleep(min(0.05, max(0.0, next_at - time.monotonic())))
        # Let the customers already in a flow finish (bounded), then stop the rest.
        grace_until = time.monotonic() + sim.blast_timeout + 30 + args.messages * args.message_interval * 1.5
        while sim.finished < sim.started and time.monotonic() < grace_until:
            progress.show(f"draining: {sim.started - sim.finished} customers still in a flow")
            await asyncio.sleep(0.2)
        progress.done()
        elapsed = time.monotonic() - t_start
        cpu = server.cpu() - cpu0
        pool = pool_delta(pool0, await pool_waits(server))
        stats = await _stats(server)
        for task in list(sim.tasks):
            task.cancel()
        await asyncio.gather(*sim.tasks, return_exceptions=True)
        for ws in mitra_ws:
            await ws.close()

    rec = sim.rec
    ops = sorted(set(rec.samples) | set(rec.errors))
    rows = []
    total_ops = 0
    for op in ops:
        s = summary(rec.samples.get(op, []))
        errs = rec.errors.get(op, Counter())
        total_ops += int(s["n"])
        rows.append(
            [op, int(s["n"]), s["n"] / elapsed, s["p50"], s["p95"], s["p99"], s["max"], sum(errs.values())]
        )
    print_table(
        f"load: {args.duration:g} s, {args.customers_per_minute:g} customers/min, {args.mitras} mitras, "
        f"{args.idle_customers} idle customers polling every {args.poll:g} s",
        ["operation", "count", "per s", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors"],
        rows,
        [
            f"load average at start {load_start}; the machine is shared, so compare ratios, not absolutes",
            f"server CPU {cpu:.2f} s over {elapsed:.1f} s ({100 * cpu / elapsed:.0f}% of one core): "
            f"{1000 * cpu / max(total_ops, 1):.2f} ms per operation on average ({total_ops} operations)",
            f"PostgreSQL pool: {pool['checkouts']:.0f} checkouts, {pool['wait_s'] * 1000:.0f} ms waited in total, "
            f"{pool['over_10ms']:.0f} over 10 ms, {pool['over_100ms']:.0f} over 100 ms, {pool['timeouts']:.0f} timeouts",
            *(f"errors {op}: {dict(c)}" for op, c in rec.errors.items() if c),
        ],
    )
    ttp = summary([x * 1000 for x in rec.time_to_pair])
    total = sum(rec.outcomes.values())
    print_table(
        "operator simulator: pairings "
        f"(accept {args.accept:.0%}, reject {args.reject:.0%}, think ≤ {2 * args.think:g} s, cancel {args.cancel:.0%}, "
        f"settings {values or 'defaults'})",
        ["outcome", "count", "share"],
        [[k, v, f"{100 * v / max(total, 1):.0f}%"] for k, v in rec.outcomes.most_common()],
        [
            f"time to pair (search → PAIRING_MATCHED): p50 {ttp['p50'] / 1000:.2f} s, p95 {ttp['p95'] / 1000:.2f} s, "
            f"max {ttp['max'] / 1000:.2f} s",
            f"server's own dashboard (GET /internal/stats): {stats}",
        ],
    )


async def _config(server: Server) -> list[dict[str, Any]]:
    headers = await operator_headers(server)
    async with http_client(server.internal_url, 1) as http:
        r = await http.get("/internal/config", headers=headers)
        r.raise_for_status()
        return list(r.json()["rows"])


async def _stats(server: Server) -> dict[str, Any]:
    headers = await operator_headers(server)
    async with http_client(server.internal_url, 1) as http:
        r = await http.get("/internal/stats", headers=headers)
        if r.status_code != 200:
            return {"error": r.status_code}
        body = r.json()
        pairings = body["pairings"]
        failed = {k: v for k, v in pairings["failed"].items() if v}
        return {
            "matched": pairings["matched"],
            "failed": failed,
            "time_to_pair_s": body["time_to_pair_seconds"],
        }


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--duration", type=float, default=60, help="seconds of arrivals")
    p.add_argument("--customers-per-minute", type=float, default=30)
    p.add_argument("--idle-customers", type=int, default=50, help="customers only polling availability")
    p.add_argument("--poll", type=float, default=5, help="availability poll period, seconds")
    p.add_argument("--max-polls", type=int, default=6, help="polls before a customer gives up waiting")
    p.add_argument("--mitras", type=int, default=20)
    p.add_argument("--accept", type=float, default=0.6, help="probability a mitra accepts an offer")
    p.add_argument(
        "--reject", type=float, default=0.2, help="probability a mitra rejects (else lets it lapse)"
    )
    p.add_argument("--think", type=float, default=3, help="mean seconds a mitra takes to answer")
    p.add_argument("--cancel", type=float, default=0.05, help="probability a customer cancels the search")
    p.add_argument("--messages", type=int, default=6, help="messages a customer sends per chat")
    p.add_argument("--message-interval", type=float, default=2, help="mean seconds between them")
    p.add_argument("--extension", type=float, default=0.3, help="probability a chat buys an extension")
    p.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="a setting, as in the control center"
    )
    p.add_argument("--seed", type=int, default=1)


SMOKE = {
    "duration": 4,
    "customers_per_minute": 120,
    "mitras": 4,
    "idle_customers": 5,
    "poll": 1,
    "max_polls": 3,
    "think": 0.3,
    "messages": 2,
    "message_interval": 0.2,
    "accept": 0.9,
    "reject": 0.1,
    "cancel": 0.0,
    "extension": 0.5,
    # the shortest window the settings allow, in case every mitra lets an offer lapse
    "set": ["pairing_blast_timeout_seconds=10"],
}

if __name__ == "__main__":
    raise SystemExit(bench_main(__doc__, add_arguments, SMOKE, run))
