"""P4: M mitras accept one blast at the same instant — against M concurrent ``/healthz``.

Each race: a customer searches; once the ``PAIRING_REQUEST`` is on all M mitra sockets,
all M send ``POST …/respond {"action": "accept"}`` together. Exactly one must get 200 (the
others 409 ``already_taken``); every answer's latency is recorded. The winner's chat is
then ended (outside the timing) so capacity never runs out. The baseline, measured right
after each race with the same client: M concurrent ``GET /healthz``.

    .venv/bin/python benchmarks/accept_race.py              # M = 50, 200 races
    .venv/bin/python benchmarks/accept_race.py --smoke
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter
from typing import Any

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
    pool_delta,
    pool_waits,
    print_table,
    seed_accounts,
    summary,
    wait_until,
)


async def run(args: argparse.Namespace, server: Server) -> None:
    m = args.mitras
    mitras = await seed_accounts(server.settings, "mitra", m)
    customers = await seed_accounts(server.settings, "customer", args.races)
    offered: Counter[str] = Counter()

    def on_frame(ws: Ws, frame: dict[str, Any], t: float) -> None:
        if frame.get("type") == "PAIRING_REQUEST":
            offered[str(frame["data"]["pairing_request_id"])] += 1

    sockets = await open_many(server.ws_url, [x.token for x in mitras], on_frame)
    answers: list[float] = []
    healthz: list[float] = []
    outcomes: Counter[str] = Counter()
    bad_races = 0
    cpu_races = 0.0
    load_start = loadavg()
    async with http_client(server.public_url, m + 10) as http:
        await go_online(http, mitras)
        payments = [await paid_session(http, c) for c in customers]

        async def accept(mitra: Account, rid: str) -> tuple[int, str, str | None, float]:
            t = time.perf_counter()
            r = await http.post(
                f"/api/mitra/pairing-requests/{rid}/respond", json={"action": "accept"}, headers=mitra.headers
            )
            ms = (time.perf_counter() - t) * 1000
            body = r.json()
            return r.status_code, str(body.get("error", "")), body.get("chat_session_id"), ms

        async def health() -> float:
            t = time.perf_counter()
            r = await http.get("/healthz")
            r.raise_for_status()
            return (time.perf_counter() - t) * 1000

        pool0 = await pool_waits(server)
        progress = Progress(f"P4 M={m}")
        for i, (customer, pid) in enumerate(zip(customers, payments, strict=True)):
            r = await http.post(
                "/api/client/chat-requests", json={"payment_session_id": pid}, headers=customer.headers
            )
            r.raise_for_status()
            rid = str(r.json()["pairing_request_id"])
            if not await wait_until(lambda rid=rid: offered[rid] >= m, 30, 0.005):  # type: ignore[misc]
                raise RuntimeError(f"race {i}: only {offered[rid]} of {m} mitras got the offer")
            cpu0 = server.cpu()
            results = await asyncio.gather(*(accept(x, rid) for x in mitras))
            cpu_races += server.cpu() - cpu0
            winners = [res for res in results if res[0] == 200]
            bad_races += len(winners) != 1
            for status, error, _, ms in results:
                outcomes[f"{status} {error}".strip()] += 1
                answers.append(ms)
            healthz.extend(await asyncio.gather(*(health() for _ in range(m))))
            for status, _, chat_id, _ in winners:
                if status == 200 and chat_id:
                    winner = mitras[[res[2] for res in results].index(chat_id)]
                    await http.post(f"/api/mitra/chat-sessions/{chat_id}/end", headers=winner.headers)
            progress.show(f"race {i + 1}/{args.races}, {bad_races} without exactly one winner")
        progress.done()
        pool = pool_delta(pool0, await pool_waits(server))
    await close_many(sockets)

    a, h = summary(answers), summary(healthz)
    print_table(
        f"P4 accept race: {m} mitras accept one blast at once, {args.races} races",
        ["measure", "p50 ms", "p95 ms", "p99 ms", "max ms"],
        [
            ["every accept answer (winner and losers)", a["p50"], a["p95"], a["p99"], a["max"]],
            [f"baseline: {m} concurrent GET /healthz", h["p50"], h["p95"], h["p99"], h["max"]],
            [
                "ratio accept / healthz",
                a["p50"] / h["p50"],
                a["p95"] / h["p95"],
                a["p99"] / h["p99"],
                a["max"] / h["max"],
            ],
        ],
        [
            f"races with exactly one winner: {args.races - bad_races}/{args.races} (target: all); answers {dict(outcomes)}",
            f"server CPU per race ({m} accepts): {1000 * cpu_races / args.races:.1f} ms; "
            f"per accept answer {1000 * cpu_races / max(len(answers), 1):.2f} ms",
            f"PostgreSQL pool: {pool['checkouts']:.0f} checkouts, {pool['wait_s'] * 1000:.0f} ms waited, "
            f"{pool['over_10ms']:.0f} over 10 ms, {pool['over_100ms']:.0f} over 100 ms, {pool['timeouts']:.0f} timeouts",
            f"load average at start {load_start}; target p99 ≤ 25 ms, exactly one winner in each of 1 000 races",
        ],
    )
    if bad_races:
        raise SystemExit(f"{bad_races} races did not have exactly one winner")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--mitras", type=int, default=50, help="M: mitras racing for each blast")
    p.add_argument("--races", type=int, default=200)


SMOKE = {"mitras": 10, "races": 3}

if __name__ == "__main__":
    raise SystemExit(bench_main(__doc__, add_arguments, SMOKE, run))
