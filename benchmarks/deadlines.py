"""P7: N blast windows ending within the same second — against a bare SKIP LOCKED queue.

N customers with confirmed payment sessions and open blast requests are written straight
into PostgreSQL while ``curhat serve`` runs (creating 10 000 through the API would take
many minutes), then one statement moves all their ``expires_at`` into one second, 1.5 s
ahead. No process armed a timer when these rows were written, so this measures the runner's
durable path: the poll sees them falling due and arms timers, which fire set-based batches
(requests failed with ``no_mitra_available``, payments ``failed_pairing``, failure rows,
events). Lateness = ``closed_at − expires_at``; exactly once = one failure row per payment
session.

The baseline: a bare ``FOR UPDATE SKIP LOCKED`` job table in the same PostgreSQL, N jobs
due in the same second, 4 workers polling at the server's poll interval, firing in
batches of 100 (``fired_at = clock_timestamp()``); nothing else per job.

    .venv/bin/python benchmarks/deadlines.py                # N = 1 000, 10 000
    .venv/bin/python benchmarks/deadlines.py --smoke
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from harness import (
    Progress,
    Server,
    bench_main,
    loadavg,
    pool_delta,
    pool_waits,
    print_table,
    seed_accounts,
    summary,
)
from sqlalchemy import insert, text

from curhat.models import PairingRequest, PaymentSession
from curhat.postgres import Database

LEAD_SECONDS = 1.5
WAIT_SECONDS = 300.0


async def curhat_burst(server: Server, db: Database, n: int) -> dict[str, Any]:
    customers = await seed_accounts(server.settings, "customer", n)
    now = datetime.now(UTC)
    payments = [
        {
            "id": uuid.uuid4(),
            "customer_id": c.id,
            "amount": 25000,
            "duration_minutes": 30,
            "status": "confirmed",
            "confirmed_at": now,
            "expires_at": now + timedelta(hours=1),
        }
        for c in customers
    ]
    requests = [
        {
            "id": uuid.uuid4(),
            "payment_session_id": p["id"],
            "customer_id": p["customer_id"],
            "request_type": "blast",
            "status": "open",
            "created_at": now,
            "expires_at": now + timedelta(hours=1),
        }
        for p in payments
    ]
    ids = [r["id"] for r in requests]
    async with db.engine.begin() as conn:
        for start in range(0, n, 5000):
            await conn.execute(insert(PaymentSession), payments[start : start + 5000])
            await conn.execute(insert(PairingRequest), requests[start : start + 5000])
    pool0, cpu0 = await pool_waits(server), server.cpu()
    async with db.engine.begin() as conn:
        # All N windows end within one second, LEAD_SECONDS from now.
        await conn.execute(
            text(
                "UPDATE pairing_requests r SET expires_at = clock_timestamp() + make_interval(secs => :lead)"
                " + make_interval(secs => 0.999 * o.i / :n)"
                " FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS i FROM pairing_requests"
                "       WHERE id = ANY(:ids)) o WHERE r.id = o.id"
            ),
            {"lead": LEAD_SECONDS, "n": n, "ids": ids},
        )
    progress = Progress(f"P7 curhat N={n}")
    deadline = time.monotonic() + LEAD_SECONDS + WAIT_SECONDS
    open_left = n
    while time.monotonic() < deadline:
        async with db.engine.connect() as conn:
            open_left = int(
                (
                    await conn.execute(
                        text(
                            "SELECT count(*) FROM pairing_requests WHERE id = ANY(:ids) AND status = 'open'"
                        ),
                        {"ids": ids},
                    )
                ).scalar_one()
            )
        progress.show(f"{n - open_left}/{n} fired")
        if open_left == 0:
            break
        await asyncio.sleep(0.2)
    progress.done()
    cpu = server.cpu() - cpu0
    pool = pool_delta(pool0, await pool_waits(server))
    async with db.engine.connect() as conn:
        lateness = [
            float(x) * 1000
            for x in (
                await conn.execute(
                    text(
                        "SELECT extract(epoch FROM closed_at - expires_at) FROM pairing_requests"
                        " WHERE id = ANY(:ids) AND closed_at IS NOT NULL"
                    ),
                    {"ids": ids},
                )
            ).scalars()
        ]
        failures = dict(
            (
                await conn.execute(
                    text(
                        "SELECT count(*) AS count FROM pairing_failures WHERE payment_session_id = ANY(:ids)"
                    ),
                    {"ids": [p["id"] for p in payments]},
                )
            )
            .mappings()
            .one()
        )
    return {
        "lat": lateness,
        "open_left": open_left,
        "failure_rows": failures["count"],
        "cpu_ms": 1000 * cpu / n,
        "pool": pool,
    }


async def bare_burst(db: Database, n: int, poll: float, workers: int = 4, batch: int = 100) -> dict[str, Any]:
    table = f"bench_jobs_{uuid.uuid4().hex[:8]}"
    async with db.engine.begin() as conn:
        await conn.execute(
            text(
                f"CREATE TABLE {table} (id serial PRIMARY KEY, due_at timestamptz NOT NULL, fired_at timestamptz, fired int NOT NULL DEFAULT 0)"
            )
        )
        await conn.execute(text(f"CREATE INDEX ON {table} (due_at) WHERE fired_at IS NULL"))
        await conn.execute(
            text(
                f"INSERT INTO {table} (due_at) SELECT clock_timestamp() + make_interval(secs => :lead)"
                " + make_interval(secs => 0.999 * g / :n) FROM generate_series(0, :n - 1) g"
            ),
            {"lead": LEAD_SECONDS, "n": n},
        )
    fire = text(
        f"UPDATE {table} j SET fired_at = clock_timestamp(), fired = fired + 1 FROM ("
        f" SELECT id FROM {table} WHERE fired_at IS NULL AND due_at <= clock_timestamp()"
        "  ORDER BY due_at LIMIT :batch FOR UPDATE SKIP LOCKED) due WHERE j.id = due.id RETURNING j.id"
    )
    done = 0
    stop_at = time.monotonic() + LEAD_SECONDS + WAIT_SECONDS

    async def worker() -> None:
        nonlocal done
        async with db.engine.connect() as conn:
            while done < n and time.monotonic() < stop_at:
                got = len((await conn.execute(fire, {"batch": batch})).all())
                await conn.commit()
                done += got
                if got < batch:
                    await asyncio.sleep(poll)

    await asyncio.gather(*(worker() for _ in range(workers)))
    async with db.engine.begin() as conn:
        lateness = [
            float(x) * 1000
            for x in (
                await conn.execute(
                    text(
                        f"SELECT extract(epoch FROM fired_at - due_at) FROM {table} WHERE fired_at IS NOT NULL"
                    )
                )
            ).scalars()
        ]
        twice = int((await conn.execute(text(f"SELECT count(*) FROM {table} WHERE fired > 1"))).scalar_one())
        await conn.execute(text(f"DROP TABLE {table}"))
    return {"lat": lateness, "twice": twice}


async def run(args: argparse.Namespace, server: Server) -> None:
    assert server.settings.database_url
    db = Database(server.settings.database_url, pool_size=5)
    poll = server.settings.deadline_poll_interval_seconds
    load_start = loadavg()
    rows = []
    notes = []
    try:
        for n in args.sizes:
            res = await curhat_burst(server, db, n)
            base = await bare_burst(db, n, poll)
            c, b = summary(res["lat"]), summary(base["lat"])
            once = res["failure_rows"] == n and res["open_left"] == 0
            rows.append(
                [
                    n,
                    c["p50"],
                    c["p99"],
                    c["max"],
                    b["p50"],
                    b["p99"],
                    c["p99"] / b["p99"] if b["p99"] else float("nan"),
                    res["cpu_ms"],
                    "yes"
                    if once
                    else f"no ({res['failure_rows']} failure rows, {res['open_left']} still open)",
                ]
            )
            pool = res["pool"]
            notes.append(
                f"N={n}: PostgreSQL pool {pool['checkouts']:.0f} checkouts, {pool['over_10ms']:.0f} over 10 ms, "
                f"{pool['over_100ms']:.0f} over 100 ms, {pool['timeouts']:.0f} timeouts; bare queue fired twice: {base['twice']}"
            )
    finally:
        await db.dispose()
    print_table(
        f"P7 deadlines: N blast windows ending within one second (runner poll every {poll:g} s, same for the bare queue)",
        [
            "N",
            "late p50 ms",
            "late p99 ms",
            "late max ms",
            "bare p50",
            "bare p99",
            "p99 ratio",
            "CPU ms/deadline",
            "each fired once",
        ],
        rows,
        [
            *notes,
            f"load average at start {load_start}; target: 10 000 due together, each once, p99 lateness ≤ 250 ms",
        ],
    )


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=[1000, 10000])


SMOKE = {"sizes": [50]}

if __name__ == "__main__":
    raise SystemExit(bench_main(__doc__, add_arguments, SMOKE, run))
