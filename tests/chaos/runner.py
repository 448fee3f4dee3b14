"""R1 (quality.md): seeded random operations, many at once, against a real ``curhat serve``.

Customers pay, search (blast and "Curhat lagi"), cancel, fall back to a blast, chat, end
chats and ask for extensions; mitras accept and reject (several at once on one blast),
answer or ignore extensions, drop and reopen their WebSocket, go offline and online; an
operator refunds and credits failed pairings. The windows are set short through the
control-center API (blast 10 s, Curhat lagi 5 s, extension 5 s, payments 1 min, a 1-minute
tier), so deadlines, the payment sweeper and time-ups fire during the run.

Checked:

* every HTTP answer is 2xx or a 4xx that the operation documents in ``/openapi.json``, with
  an ``error`` code of the Error schema — never a 5xx, never a dropped connection;
* every acknowledged answer matches the database afterwards (a 200 accept: that mitra has
  that chat; a 200 refund: the failure row says refunded; a 201 message: the row exists …);
* every frame received validates against ``/asyncapi.json``; every acknowledged match
  reached the customer's socket as ``PAIRING_MATCHED``; one blast never has two winners;
* after the run nothing is stuck (every window closed, extension resolved, chat past its
  end ended, expired payment swept), then data.md's invariants (``tests/invariants.py``).

The kind of every operation and every random choice it makes come from
``random.Random(seed)`` in a fixed order; which state they meet is the machine's
interleaving. Replay a run with ``--seed N``.

    .venv/bin/python -m tests.chaos.runner [--seed N] [--ops 10000] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import random
import re
import secrets
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from curhat.config import Settings
from tests.fixtures.contract import contract_errors
from tests.invariants import CHECKS

ROOT = Path(__file__).resolve().parents[2]


def _load_harness() -> ModuleType:
    """benchmarks/harness.py (real server process, bulk accounts, lean sockets, tables)."""
    if "harness" in sys.modules:
        return sys.modules["harness"]
    spec = importlib.util.spec_from_file_location("harness", ROOT / "benchmarks" / "harness.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["harness"] = module
    spec.loader.exec_module(module)
    return module


harness = _load_harness()

# Short windows so every deadline fires during a run (the smallest values the API allows).
RUN_CONFIG: dict[str, Any] = {
    "pairing_blast_timeout_seconds": 10,
    "returning_chat_confirmation_timeout_seconds": 5,
    "extension_timeout_seconds": 5,
    "payment_session_timeout_minutes": 1,
    "max_customers_per_mitra": 2,
    "chat_end_warning_seconds": 20,
}
SHORT_TIER_MINUTES = 1
# What the server process needs beyond the database and Valkey (the sweeper runs often).
SERVER_ENV = {
    "CURHAT_SWEEPER_INTERVAL_SECONDS": "2",
    "CURHAT_BOOTSTRAP_OPERATOR_EMAIL": harness.OPERATOR_EMAIL,
    "CURHAT_BOOTSTRAP_OPERATOR_PASSWORD": harness.OPERATOR_PASSWORD,
}

OP_WEIGHTS: dict[str, int] = {
    "pay": 6,
    "pay_cancel": 3,
    "blast": 12,
    "returning": 6,
    "cancel_search": 5,
    "fallback": 4,
    "accept_race": 14,
    "reject": 5,
    "message": 16,
    "end_chat": 4,
    "extension": 6,
    "extension_answer": 6,
    "operator": 5,
    "socket_drop": 3,
    "offline_online": 3,
    "read": 4,
    "flip_extension_default": 1,
}
TARGETED_CAUSES = {"targeted_mitra_offline", "targeted_mitra_rejected", "targeted_mitra_timeout"}
BODIES = [
    "halo, aku mau cerita",
    "<b>tebal?</b> <script>alert(1)</script>",
    "capek banget hari ini 😮‍💨",
    "iya, aku dengerin kok",
    "makasih ya 🙏",
    "x" * 1999,
]


@dataclass
class Target:
    """A running server and its database (the runner seeds accounts and checks with SQL)."""

    public_url: str
    internal_url: str
    ws_url: str
    settings: Settings


@dataclass
class Options:
    seed: int
    ops: int = 300
    concurrency: int = 16
    customers: int = 20
    mitras: int = 8
    time_limit: float = 1800.0
    settle_timeout: float = 60.0
    progress: bool = False
    # data.md's invariants are also checked while operations run, every this many operations
    checkpoint_every: int = 1000


@dataclass
class Customer:
    acc: Any
    ws: Any = None
    confirmed: list[str] = field(default_factory=list)
    searching: dict[str, str] = field(default_factory=dict)  # payment id -> request id
    fallback: set[str] = field(default_factory=set)  # payments whose Curhat lagi failed
    past_mitras: set[str] = field(default_factory=set)
    matched: set[str] = field(default_factory=set)  # chats announced by PAIRING_MATCHED


@dataclass
class Mitra:
    acc: Any
    ws: Any = None
    offers: set[str] = field(default_factory=set)
    extensions: set[str] = field(default_factory=set)
    reconnecting: bool = False


@dataclass
class ChatInfo:
    customer: Customer
    mitra_id: str
    active: bool = True


@dataclass
class Report:
    seed: int
    ops: Counter[str] = field(default_factory=Counter)
    answers: Counter[tuple[str, int, str]] = field(default_factory=Counter)
    violations: list[str] = field(default_factory=list)
    invariants: dict[str, int] = field(default_factory=dict)
    acks: Counter[str] = field(default_factory=Counter)
    ack_failures: Counter[str] = field(default_factory=Counter)
    frames: Counter[str] = field(default_factory=Counter)
    ws_errors: Counter[str] = field(default_factory=Counter)
    lateness_ms: list[float] = field(default_factory=list)
    duration: float = 0.0
    notes: list[str] = field(default_factory=list)
    violation_total: int = 0
    shed: int = 0  # 503 service_unavailable + Retry-After: the server shedding load
    checkpoints: int = 0
    live: bool = False  # print each violation to stderr as it is found

    @property
    def ok(self) -> bool:
        return not self.violations

    def violation(self, what: str) -> None:
        self.violation_total += 1
        if len(self.violations) < 200:
            self.violations.append(what)
        if self.live:
            sys.stderr.write(f"\n  violation: {what}\n")

    def failure_message(self) -> str:
        shown = "\n  ".join(self.violations[:30])
        return (
            f"chaos run with seed {self.seed} found {self.violation_total} violation(s) "
            f"(replay: python -m tests.chaos.runner --seed {self.seed}):\n  {shown}"
        )

    def print(self) -> None:
        pt = harness.print_table
        pt(
            f"R1 chaos run, seed {self.seed}: {sum(self.ops.values()):,} operations in {self.duration:.1f} s",
            ["operation", "count"],
            sorted(self.ops.items(), key=lambda kv: -kv[1]),
        )
        pt(
            "HTTP answers by operation, status and error code",
            ["operation", "status", "error", "count"],
            [(op, status, code or "-", n) for (op, status, code), n in sorted(self.answers.items())],
        )
        pt(
            "acknowledged answers checked against the database",
            ["answer", "checked", "mismatched"],
            [(k, n, self.ack_failures[k]) for k, n in sorted(self.acks.items())],
        )
        pt(
            "data.md invariants (SQL over the database after the run)",
            ["invariant", "violating rows"],
            sorted(self.invariants.items()),
        )
        late = sorted(self.lateness_ms)
        notes = [
            f"WebSocket frames received: {sum(self.frames.values()):,} (all validated against /asyncapi.json); "
            f"ERROR frames by code: {dict(self.ws_errors) or 'none'}",
            f"windows that closed by their deadline: {len(late)}, lateness p50 "
            f"{harness.pct(late, 50):.0f} ms, p99 {harness.pct(late, 99):.0f} ms, max "
            f"{(late[-1] if late else float('nan')):.0f} ms",
            f"invariant checkpoints while operations ran: {self.checkpoints}",
            f"answers shed under load (503 service_unavailable + Retry-After, nothing done): {self.shed}",
            *self.notes,
            f"seed {self.seed}; replay: python -m tests.chaos.runner --seed {self.seed}",
        ]
        pt(
            "verdict",
            ["violations", "count"],
            [("total", self.violation_total), *[(v[:100], 1) for v in self.violations[:20]]],
            notes,
        )


class Documented:
    """Which statuses each operation documents, from the two listeners' /openapi.json."""

    def __init__(self, docs: list[dict[str, Any]]) -> None:
        self.routes: list[tuple[str, re.Pattern[str], dict[str, str]]] = []
        self.codes: set[str] = set()
        for doc in docs:
            for path, item in doc["paths"].items():
                pattern = re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$")
                for method, op in item.items():
                    responses = {str(k): str(v.get("description", "")) for k, v in op["responses"].items()}
                    self.routes.append((method.upper(), pattern, responses))
            error = doc.get("components", {}).get("schemas", {}).get("Error", {})
            self.codes.update(error.get("properties", {}).get("error", {}).get("enum", []))

    def problem(self, method: str, url: str, status: int, code: str) -> str | None:
        path = url.split("?", 1)[0]
        for m, pattern, responses in self.routes:
            if m == method and pattern.match(path):
                if str(status) not in responses:
                    return f"{method} {path} answered {status} {code}, not documented ({sorted(responses)})"
                # A code of the shared Error schema, or one the operation names for this status
                # (the Curhat lagi pre-check's own 409 body).
                if status >= 400 and code not in self.codes and code not in responses[str(status)]:
                    return f"{method} {path} answered {status} with error {code!r}, documented nowhere"
                return None
        return f"{method} {path} is not in /openapi.json"


# Nothing may remain past its deadline once the run's windows have run out.
STUCK: dict[str, str] = {
    "open pairing request past its window": """
        SELECT id FROM pairing_requests WHERE status = 'open' AND expires_at < now() - interval '2 s'""",
    "pending extension past its window": """
        SELECT id FROM extension_requests WHERE status = 'pending' AND expires_at < now() - interval '2 s'""",
    "active chat past its end": """
        SELECT id FROM chat_sessions WHERE status = 'active' AND ends_at < now() - interval '2 s'""",
    "pending or unused confirmed payment past its expiry": """
        SELECT p.id FROM payment_sessions p WHERE p.status IN ('pending', 'confirmed')
          AND p.expires_at < now() - interval '5 s'
          AND NOT EXISTS (SELECT 1 FROM pairing_requests r
                          WHERE r.payment_session_id = p.id AND r.status = 'open')""",
}


# Rules of product.md the shared invariants do not cover (checked with them).
CHECKS_EXTRA: dict[str, str] = {
    "one pending extension per chat at a time": """
        SELECT b.id FROM extension_requests a JOIN extension_requests b
          ON b.chat_session_id = a.chat_session_id AND b.id <> a.id
         AND b.created_at >= a.created_at AND b.created_at < coalesce(a.resolved_at, 'infinity')""",
}
ALL_CHECKS = {**CHECKS, **CHECKS_EXTRA}

# One query per kind of acknowledged answer: true when the database agrees with it.
ACK_SQL: dict[str, str] = {
    "confirmed": "SELECT status NOT IN ('pending', 'abandoned') FROM payment_sessions WHERE id = :pid",
    "abandoned": "SELECT status = 'abandoned' FROM payment_sessions WHERE id = :pid",
    "request": """SELECT payment_session_id = :pid AND request_type = :type
                  FROM pairing_requests WHERE id = :rid""",
    # (unless a fallback later revived the payment, which deletes its failure row)
    "targeted_offline": """SELECT EXISTS (SELECT 1 FROM pairing_failures WHERE payment_session_id = :pid
                                          AND cause_tag = 'targeted_mitra_offline')""",
    "search_cancelled": """SELECT EXISTS (SELECT 1 FROM pairing_requests WHERE payment_session_id = :pid
                                          AND status = 'cancelled' AND cause_tag = 'customer_cancelled')""",
    # After a failed Curhat lagi (targeted_mitra_offline makes no request row): a blast now.
    "fallback": """SELECT p.targeted_mitra_id IS NOT NULL AND EXISTS (
                     SELECT 1 FROM pairing_requests r WHERE r.payment_session_id = p.id AND r.request_type = 'blast')
                   FROM payment_sessions p WHERE p.id = :pid""",
    "accepted": """SELECT c.mitra_id = :mitra AND r.status = 'accepted' AND r.accepted_mitra_id = :mitra
                   FROM chat_sessions c JOIN pairing_requests r ON r.payment_session_id = c.payment_session_id
                   WHERE c.id = :chat AND r.id = :rid""",
    "rejected": """SELECT response = 'rejected' FROM pairing_offers
                   WHERE pairing_request_id = :rid AND mitra_id = :mitra""",
    "message": """SELECT count(*) = 1 FROM chat_messages WHERE id = :id AND chat_session_id = :chat
                  AND sender_role = :role AND body = :body AND client_msg_id = :cmid""",
    "ended": """SELECT status = 'ended' AND status = :status AND end_reason IS NOT DISTINCT FROM :end_reason
                FROM chat_sessions WHERE id = :chat""",
    "extension": """SELECT chat_session_id = :chat AND payment_session_id = :pid
                    FROM extension_requests WHERE id = :ext""",
    "extension_answered": """SELECT e.status = :status AND e.resolution IS NOT DISTINCT FROM :resolution
                               AND p.status = CASE WHEN :status = 'approved' THEN 'consumed' ELSE 'voided' END
                             FROM extension_requests e JOIN payment_sessions p ON p.id = e.payment_session_id
                             WHERE e.id = :ext""",
    # An approve the server turned into a rejection (documented in docs/reliability.md): only
    # when the chat had already ended by then, and nothing was charged.
    "approve_became_rejection": """SELECT e.status = 'rejected' AND p.status = 'voided' AND c.status = 'ended'
                                     AND c.ended_at <= e.resolved_at
                                   FROM extension_requests e JOIN payment_sessions p ON p.id = e.payment_session_id
                                   JOIN chat_sessions c ON c.id = e.chat_session_id WHERE e.id = :ext""",
    "operator_action": "SELECT operator_action = :action FROM pairing_failures WHERE id = :failure",
}


# What the database holds, shown beside an acknowledged answer it contradicts.
ACK_SHOW: dict[str, str] = {
    "ended": "SELECT status, end_reason, ended_at FROM chat_sessions WHERE id = :chat",
    "accepted": "SELECT status, accepted_mitra_id, cause_tag FROM pairing_requests WHERE id = :rid",
    "operator_action": "SELECT operator_action, actioned_at FROM pairing_failures WHERE id = :failure",
    "extension_answered": "SELECT status, resolution, resolved_at FROM extension_requests WHERE id = :ext",
    "approve_became_rejection": "SELECT status, resolution, resolved_at FROM extension_requests WHERE id = :ext",
    "confirmed": "SELECT status FROM payment_sessions WHERE id = :pid",
    "abandoned": "SELECT status FROM payment_sessions WHERE id = :pid",
    "fallback": "SELECT status, targeted_mitra_id FROM payment_sessions WHERE id = :pid",
}


class Chaos:
    def __init__(self, target: Target, opts: Options) -> None:
        self.t = target
        self.opts = opts
        self.rng = random.Random(opts.seed)
        self.report = Report(seed=opts.seed, live=opts.progress)
        self.customers: list[Customer] = []
        self.mitras: list[Mitra] = []
        self.chats: dict[str, ChatInfo] = {}
        self.requests: dict[str, tuple[str, Customer]] = {}
        self.durations: list[int] = []
        self.op_headers: dict[str, str] = {}
        self.documented: Documented | None = None
        # (what, details) to verify in SQL after the run
        self.acks: list[tuple[str, dict[str, Any]]] = []
        self.ws_sent: dict[str, dict[str, Any]] = {}  # client_msg_id -> the message sent
        self.background: set[asyncio.Task[None]] = set()
        self.public = harness.http_client(target.public_url, max(20, opts.concurrency * 3))
        self.internal = harness.http_client(target.internal_url, 10)

    # -- HTTP -------------------------------------------------------------------------------

    async def call(
        self,
        op: str,
        method: str,
        url: str,
        headers: dict[str, str],
        body: Any = None,
        *,
        internal: bool = False,
    ) -> tuple[int, dict[str, Any]]:
        http = self.internal if internal else self.public
        try:
            r = await http.request(method, url, json=body, headers=headers)
        except httpx.HTTPError as exc:
            self.report.answers[(op, 0, type(exc).__name__)] += 1
            self.report.violation(f"{op}: {method} {url} raised {type(exc).__name__}: {exc}")
            return 0, {}
        data: dict[str, Any] = {}
        with contextlib.suppress(ValueError):
            parsed = r.json()
            if isinstance(parsed, dict):
                data = parsed
        code = str(data.get("error", "")) if r.status_code >= 400 else ""
        self.report.answers[(op, r.status_code, code)] += 1
        if r.status_code == 503 and code == "service_unavailable" and "retry-after" in r.headers:
            # Load shed by design (issue 18): no pooled connection freed within
            # CURHAT_DB_POOL_TIMEOUT_SECONDS. Nothing happened, so nothing is acknowledged.
            self.report.shed += 1
        elif r.status_code >= 500:
            self.report.violation(f"{op}: {method} {url} answered {r.status_code} {r.text[:200]}")
        elif self.documented is not None:
            problem = self.documented.problem(method, url, r.status_code, code)
            if problem:
                self.report.violation(f"{op}: {problem}")
        return r.status_code, data

    def ack(self, what: str, **details: Any) -> None:
        self.acks.append((what, details))

    # -- sockets ----------------------------------------------------------------------------

    def _frame(self, role: str, who: Customer | Mitra) -> Callable[[Any, dict[str, Any], float], None]:
        def on_frame(ws: Any, frame: dict[str, Any], t: float) -> None:
            kind = str(frame.get("type"))
            self.report.frames[kind] += 1
            for err in contract_errors(frame):
                self.report.violation(f"{role} socket frame breaks /asyncapi.json: {err}")
            data = frame.get("data", {})
            if kind == "CHAT_MESSAGE":
                sent = self.ws_sent.pop(str(data["message"].get("client_msg_id")), None)
                if sent is not None:
                    self.ack("message", **sent, id=str(data["message"]["id"]))
            elif kind == "CHAT_SESSION_ENDED":
                info = self.chats.get(str(data["chat_session_id"]))
                if info is not None:
                    info.active = False
            elif kind == "ERROR":
                self.report.ws_errors[str(data.get("code"))] += 1
            elif isinstance(who, Customer):
                self._customer_event(who, kind, data)
            else:
                self._mitra_event(who, kind, data)

        return on_frame

    def _customer_event(self, c: Customer, kind: str, data: dict[str, Any]) -> None:
        if kind == "PAIRING_MATCHED":
            chat_id = str(data["chat_session_id"])
            c.matched.add(chat_id)
            c.searching.pop(str(data["payment_session_id"]), None)
            self.chat_started(chat_id, c, str(data["mitra"]["id"]))
        elif kind == "PAIRING_FAILED":
            pid = str(data["payment_session_id"])
            c.searching.pop(pid, None)
            if data.get("cause_tag") in TARGETED_CAUSES:
                c.fallback.add(pid)

    def _mitra_event(self, m: Mitra, kind: str, data: dict[str, Any]) -> None:
        if kind == "PAIRING_REQUEST":
            m.offers.add(str(data["pairing_request_id"]))
        elif kind == "PAIRING_REQUEST_CLOSED":
            m.offers.discard(str(data["pairing_request_id"]))
        elif kind == "EXTENSION_REQUEST":
            m.extensions.add(str(data["extension_request_id"]))
        elif kind in ("EXTENSION_APPROVED", "EXTENSION_REJECTED"):
            m.extensions.discard(str(data["extension_request_id"]))

    def chat_started(self, chat_id: str, c: Customer, mitra_id: str) -> None:
        if chat_id not in self.chats:
            self.chats[chat_id] = ChatInfo(c, mitra_id)
        c.past_mitras.add(mitra_id)

    async def open_socket(self, role: str, who: Customer | Mitra) -> Any:
        ws = await harness.Ws.open(self.t.ws_url, who.acc.token, self._frame(role, who))
        self.spawn(self._ping(ws))
        return ws

    async def _ping(self, ws: Any) -> None:
        """What the apps do: a ping every 10 s keeps the socket (and presence) alive."""
        with contextlib.suppress(Exception):
            while not ws._reader.done():
                await asyncio.sleep(10)
                await ws.send({"type": "ping"})

    def spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    # -- set-up -----------------------------------------------------------------------------

    async def setup(self) -> None:
        o = self.opts
        self.op_headers = await harness.operator_headers(self.t)
        for key, value in RUN_CONFIG.items():
            await self.config(key, value)
        await self.config(
            "extension_default_action_on_timeout", self.rng.choice(["auto_approve", "auto_reject"])
        )
        st, _ = await self.call(
            "setup",
            "POST",
            "/internal/price-tiers",
            self.op_headers,
            {"duration_minutes": SHORT_TIER_MINUTES, "amount": 5000},
            internal=True,
        )
        if st not in (201, 409):
            raise RuntimeError(f"could not add the {SHORT_TIER_MINUTES}-minute tier: {st}")
        docs = []
        for http in (self.public, self.internal):
            docs.append((await http.get("/openapi.json")).json())
        self.documented = Documented(docs)
        customers = await harness.seed_accounts(self.t.settings, "customer", o.customers)
        mitras = await harness.seed_accounts(self.t.settings, "mitra", o.mitras)
        st, pricing = await self.call("setup", "GET", "/api/client/pricing", customers[0].headers)
        self.durations = sorted(t["duration_minutes"] for t in pricing["tiers"])
        self.customers = [Customer(a) for a in customers]
        self.mitras = [Mitra(a) for a in mitras]
        for c in self.customers:
            c.ws = await self.open_socket("customer", c)
        for m in self.mitras:
            m.ws = await self.open_socket("mitra", m)
            await self.call("setup", "POST", "/api/mitra/status", m.acc.headers, {"online": True})

    async def config(self, key: str, value: Any) -> None:
        st, body = await self.call(
            "setup", "PATCH", f"/internal/config/{key}", self.op_headers, {"value": value}, internal=True
        )
        if st != 200:
            raise RuntimeError(f"config {key}={value}: {st} {body}")

    # -- the run ------------------------------------------------------------------------------

    async def run(self) -> Report:
        started = time.monotonic()
        phases: list[str] = []

        async def phase(name: str, step: Callable[[], Awaitable[None]]) -> None:
            t = time.monotonic()
            await step()
            phases.append(f"{name} {time.monotonic() - t:.1f} s")

        try:
            await phase("set-up", self.setup)
            await phase("operations", self.operate)
            await phase("settling (windows run out)", self.settle)
            await phase("checks", self.verify)
            self.report.notes.append("phases: " + ", ".join(phases))
        finally:
            for task in list(self.background):
                task.cancel()
            for who in [*self.customers, *self.mitras]:
                if who.ws is not None:
                    await who.ws.close()
            await self.public.aclose()
            await self.internal.aclose()
            self.report.duration = time.monotonic() - started
        return self.report

    async def operate(self) -> None:
        o = self.opts
        kinds, weights = zip(*OP_WEIGHTS.items(), strict=True)
        slots = asyncio.Semaphore(o.concurrency)
        deadline = time.monotonic() + o.time_limit
        running: set[asyncio.Task[None]] = set()
        progress = harness.Progress("chaos") if o.progress else None
        for i in range(o.ops):
            if time.monotonic() > deadline:
                self.report.notes.append(f"time limit of {o.time_limit:.0f} s reached after {i} operations")
                break
            kind = self.rng.choices(kinds, weights)[0]
            r = random.Random(self.rng.getrandbits(64))
            await slots.acquire()
            task = asyncio.create_task(self.one(kind, r))
            running.add(task)
            task.add_done_callback(running.discard)
            task.add_done_callback(lambda _t: slots.release())
            if o.checkpoint_every and (i + 1) % o.checkpoint_every == 0:
                checkpoint = asyncio.create_task(self.checkpoint(i + 1))
                running.add(checkpoint)
                checkpoint.add_done_callback(running.discard)
            if progress is not None:
                progress.show(
                    f"{i + 1:,}/{o.ops:,} operations, {self.report.violation_total} violations, "
                    f"{sum(info.active for info in self.chats.values())} chats active"
                )
        if running:
            await asyncio.gather(*running)
        if progress is not None:
            progress.done()

    async def checkpoint(self, after: int) -> None:
        """data.md's invariants mid-run: each check is one statement, so one consistent snapshot."""
        self.report.checkpoints += 1
        for name, query in ALL_CHECKS.items():
            rows = await self.sql(query)
            if rows:
                self.report.violation(
                    f"invariant {name} (checkpoint after {after} operations): {[str(r[0]) for r in rows[:5]]}"
                )

    async def one(self, kind: str, r: random.Random) -> None:
        self.report.ops[kind] += 1
        try:
            await getattr(self, f"op_{kind}")(r)
        except Exception as exc:
            self.report.violation(f"{kind}: the runner failed: {type(exc).__name__}: {exc}")

    # -- operations ----------------------------------------------------------------------------

    def duration(self, r: random.Random) -> int:
        short = [d for d in self.durations if d == SHORT_TIER_MINUTES]
        return short[0] if short and r.random() < 0.7 else r.choice(self.durations)

    async def pay(
        self, r: random.Random, c: Customer, targeted: str | None = None, confirm: bool = True
    ) -> str | None:
        body: dict[str, Any] = {"duration_minutes": self.duration(r)}
        if targeted is not None:
            body["targeted_mitra_id"] = targeted
        headers = dict(c.acc.headers)
        twice = False
        if r.random() < 0.2:
            headers["Idempotency-Key"] = uuid.UUID(int=r.getrandbits(128)).hex
            twice = r.random() < 0.5
        url = "/api/client/payment-sessions"
        if twice:
            answers = await asyncio.gather(*(self.call("pay", "POST", url, headers, body) for _ in range(2)))
            ids = {b.get("id") for st, b in answers if st == 201}
            if len(ids) > 1:
                self.report.violation(f"one Idempotency-Key made two payment sessions: {ids}")
            st, made = answers[0]
        else:
            st, made = await self.call("pay", "POST", url, headers, body)
        if st != 201:
            return None
        pid = str(made["id"])
        if made["is_free_trial"] != (made["amount"] == 0):
            self.report.violation(
                f"payment {pid}: amount {made['amount']} but is_free_trial {made['is_free_trial']}"
            )
        if not confirm:
            return pid
        st, _ = await self.call("pay", "POST", f"{url}/{pid}/confirm", c.acc.headers)
        if st != 200:
            return None
        self.ack("confirmed", pid=pid)
        return pid

    async def op_pay(self, r: random.Random) -> None:
        c = r.choice(self.customers)
        pid = await self.pay(r, c)
        if pid is not None:
            c.confirmed.append(pid)

    async def op_pay_cancel(self, r: random.Random) -> None:
        """Cancel a pending payment — sometimes racing its own confirm (exactly one may win)."""
        c = r.choice(self.customers)
        pid = await self.pay(r, c, confirm=False)
        if pid is None:
            return
        base = f"/api/client/payment-sessions/{pid}"
        if r.random() < 0.5:
            st, _ = await self.call("pay_cancel", "POST", f"{base}/cancel", c.acc.headers)
            if st == 200:
                self.ack("abandoned", pid=pid)
            return
        (cst, _), (fst, _) = await asyncio.gather(
            self.call("pay_cancel", "POST", f"{base}/cancel", c.acc.headers),
            self.call("pay_cancel", "POST", f"{base}/confirm", c.acc.headers),
        )
        if cst == 200 and fst == 200:
            self.report.violation(f"payment {pid}: both cancel and confirm answered 200")
        if cst == 200:
            self.ack("abandoned", pid=pid)
        if fst == 200:
            self.ack("confirmed", pid=pid)
            c.confirmed.append(pid)

    async def search(self, op: str, r: random.Random, c: Customer, pid: str) -> None:
        body = {"payment_session_id": pid}
        n = 2 if r.random() < 0.1 else 1
        answers = await asyncio.gather(
            *(self.call(op, "POST", "/api/client/chat-requests", c.acc.headers, body) for _ in range(n))
        )
        accepted = [b for st, b in answers if st == 202]
        if len(accepted) > 1:
            self.report.violation(f"payment {pid}: two searches started at once both answered 202")
        for b in accepted:
            self.opened(c, pid, str(b["pairing_request_id"]), "blast")

    def opened(self, c: Customer, pid: str, rid: str, kind: str) -> None:
        self.requests[rid] = (pid, c)
        c.searching[pid] = rid
        self.ack("request", rid=rid, pid=pid, type=kind)

    async def op_blast(self, r: random.Random) -> None:
        c = r.choice(self.customers)
        pid = c.confirmed.pop(r.randrange(len(c.confirmed))) if c.confirmed else await self.pay(r, c)
        if pid is not None:
            await self.search("blast", r, c, pid)

    async def op_returning(self, r: random.Random) -> None:
        """Curhat lagi: a new payment, offered to one past mitra only."""
        known = [c for c in self.customers if c.past_mitras]
        if not known:
            return await self.op_blast(r)
        c = r.choice(known)
        mitra_id = r.choice(sorted(c.past_mitras))
        pid = await self.pay(r, c, targeted=mitra_id if r.random() < 0.5 else None)
        if pid is None:
            return None
        st, b = await self.call(
            "returning",
            "POST",
            "/api/client/chat-requests/returning",
            c.acc.headers,
            {"payment_session_id": pid, "mitra_id": mitra_id},
        )
        if st == 202:
            self.opened(c, pid, str(b["pairing_request_id"]), "returning")
        elif st == 409 and b.get("error") == "targeted_mitra_offline":
            if b.get("reason") != "targeted_mitra_offline":
                self.report.violation(f"targeted_mitra_offline without its reason: {b}")
            self.ack("targeted_offline", pid=pid)
            c.fallback.add(pid)
        return None

    async def op_cancel_search(self, r: random.Random) -> None:
        searching = [c for c in self.customers if c.searching]
        if not searching:
            return
        c = r.choice(searching)
        pid = r.choice(sorted(c.searching))
        st, _ = await self.call(
            "cancel_search",
            "POST",
            "/api/client/chat-requests/cancel",
            c.acc.headers,
            {"payment_session_id": pid},
        )
        if st == 200:
            c.searching.pop(pid, None)
            self.ack("search_cancelled", pid=pid)

    async def op_fallback(self, r: random.Random) -> None:
        waiting = [c for c in self.customers if c.fallback]
        if not waiting:
            return
        c = r.choice(waiting)
        pid = r.choice(sorted(c.fallback))
        c.fallback.discard(pid)
        st, b = await self.call(
            "fallback", "POST", f"/api/client/chat-requests/{pid}/fallback-to-blast", c.acc.headers
        )
        if st == 202:
            self.ack("fallback", pid=pid)
            self.opened(c, pid, str(b["pairing_request_id"]), "blast")

    async def respond(self, op: str, m: Mitra, rid: str, action: str) -> tuple[int, dict[str, Any]]:
        st, b = await self.call(
            op, "POST", f"/api/mitra/pairing-requests/{rid}/respond", m.acc.headers, {"action": action}
        )
        if st == 200:
            m.offers.discard(rid)
            if action == "accept":
                chat_id = str(b["chat_session_id"])
                self.ack("accepted", rid=rid, mitra=str(m.acc.id), chat=chat_id)
                if rid in self.requests:
                    pid, c = self.requests[rid]
                    c.searching.pop(pid, None)
                    self.chat_started(chat_id, c, str(m.acc.id))
            else:
                self.ack("rejected", rid=rid, mitra=str(m.acc.id))
        return st, b

    async def op_accept_race(self, r: random.Random) -> None:
        """Several mitras answer one offer at once; at most one accept may win."""
        offered: dict[str, list[Mitra]] = {}
        for m in self.mitras:
            for rid in m.offers:
                offered.setdefault(rid, []).append(m)
        if not offered:
            return
        rid = r.choice(sorted(offered))
        racers = r.sample(offered[rid], r.randint(1, min(5, len(offered[rid]))))
        actions = ["accept" if r.random() < 0.85 else "reject" for _ in racers]
        answers = await asyncio.gather(
            *(self.respond("accept_race", m, rid, a) for m, a in zip(racers, actions, strict=True))
        )
        winners = [
            m for (st, _), m, a in zip(answers, racers, actions, strict=True) if st == 200 and a == "accept"
        ]
        if len(winners) > 1:
            self.report.violation(f"request {rid}: {len(winners)} accepts answered 200")

    async def op_reject(self, r: random.Random) -> None:
        with_offers = [m for m in self.mitras if m.offers]
        if with_offers:
            m = r.choice(with_offers)
            await self.respond("reject", m, r.choice(sorted(m.offers)), "reject")

    def active_chat(self, r: random.Random) -> tuple[str, ChatInfo] | None:
        active = sorted(cid for cid, info in self.chats.items() if info.active)
        if not active:
            return None
        cid = r.choice(active)
        return cid, self.chats[cid]

    def mitra(self, mitra_id: str) -> Mitra:
        return next(m for m in self.mitras if str(m.acc.id) == mitra_id)

    async def op_message(self, r: random.Random) -> None:
        picked = self.active_chat(r)
        if picked is None:
            return
        cid, info = picked
        role = r.choice(["customer", "mitra"])
        acc_ws = (info.customer.acc, info.customer.ws) if role == "customer" else self._mitra_socket(info)
        acc, ws = acc_ws
        body = r.choice(BODIES)
        cmid = uuid.UUID(int=r.getrandbits(128)).hex
        if ws is not None and r.random() < 0.4:
            self.ws_sent[cmid] = {"chat": cid, "role": role, "body": body, "cmid": cmid}
            self.report.answers[("message", 0, "ws chat.send")] += 1
            with contextlib.suppress(Exception):
                await ws.send(
                    {"type": "chat.send", "chat_session_id": cid, "body": body, "client_msg_id": cmid}
                )
            return
        prefix = "/api/client" if role == "customer" else "/api/mitra"
        st, b = await self.call(
            "message",
            "POST",
            f"{prefix}/chat-sessions/{cid}/messages",
            acc.headers,
            {"body": body, "client_msg_id": cmid},
        )
        if st == 201:
            self.ack("message", chat=cid, role=role, body=body, cmid=cmid, id=str(b["id"]))
        elif st == 409:
            info.active = False

    def _mitra_socket(self, info: ChatInfo) -> tuple[Any, Any]:
        m = self.mitra(info.mitra_id)
        return m.acc, (None if m.reconnecting else m.ws)

    async def op_end_chat(self, r: random.Random) -> None:
        picked = self.active_chat(r)
        if picked is None:
            return
        cid, info = picked
        role = r.choice(["customer", "mitra"])
        acc = info.customer.acc if role == "customer" else self.mitra(info.mitra_id).acc
        prefix = "/api/client" if role == "customer" else "/api/mitra"
        st, b = await self.call("end_chat", "POST", f"{prefix}/chat-sessions/{cid}/end", acc.headers)
        if st == 200:
            info.active = False
            self.ack("ended", chat=cid, status=b.get("status"), end_reason=b.get("end_reason"))

    async def op_extension(self, r: random.Random) -> None:
        """The customer buys more time (sometimes twice at once: one may be pending)."""
        picked = self.active_chat(r)
        if picked is None:
            return
        cid, info = picked
        c = info.customer
        n = 2 if r.random() < 0.15 else 1
        pids = []
        for _ in range(n):
            st, b = await self.call(
                "extension",
                "POST",
                "/api/client/payment-sessions",
                c.acc.headers,
                {"duration_minutes": self.duration(r), "is_extension": True, "chat_session_id": cid},
            )
            if st != 201:
                return
            if b["is_free_trial"] or b["amount"] == 0:
                self.report.violation(f"extension payment {b['id']} is free")
            pid = str(b["id"])
            st, _ = await self.call(
                "extension", "POST", f"/api/client/payment-sessions/{pid}/confirm", c.acc.headers
            )
            if st != 200:
                return
            self.ack("confirmed", pid=pid)
            pids.append(pid)
        answers = await asyncio.gather(
            *(
                self.call(
                    "extension",
                    "POST",
                    f"/api/client/chat-sessions/{cid}/extensions",
                    c.acc.headers,
                    {"extension_payment_session_id": pid},
                )
                for pid in pids
            )
        )
        for pid, (st, b) in zip(pids, answers, strict=True):
            if st == 202:
                self.ack("extension", ext=str(b["extension_request_id"]), chat=cid, pid=pid)
        # Two 202s can both be right (the first was answered before the second arrived);
        # CHECKS_EXTRA says whether two were ever pending at once.

    async def op_extension_answer(self, r: random.Random) -> None:
        asked = [m for m in self.mitras if m.extensions]
        if not asked:
            return
        m = r.choice(asked)
        ext = r.choice(sorted(m.extensions))
        m.extensions.discard(ext)
        roll = r.random()
        if roll < 0.25:  # the mitra lets it run out: the default action fires
            self.report.ops["extension_answer"] -= 1
            self.report.ops["extension_let_expire"] += 1
            return
        action = "approve" if roll < 0.65 else "reject"
        st, b = await self.call(
            "extension_answer",
            "POST",
            f"/api/mitra/extension-requests/{ext}/respond",
            m.acc.headers,
            {"action": action},
        )
        if st == 200:
            self.ack("extension_answered", ext=ext, status=b.get("status"), resolution=b.get("resolution"))
            if action == "approve" and b.get("status") == "rejected":
                self.ack("approve_became_rejection", ext=ext)
            elif b.get("status") != ("approved" if action == "approve" else "rejected"):
                self.report.violation(f"extension {ext}: {action} answered 200 with {b}")

    async def op_operator(self, r: random.Random) -> None:
        """The failed-pairings queue: refund or credit (sometimes two operators at once)."""
        st, page = await self.call(
            "operator",
            "GET",
            "/internal/failed-pairings?actioned=false&limit=50",
            self.op_headers,
            internal=True,
        )
        rows = page.get("rows", []) if st == 200 else []
        if not rows:
            return
        row = r.choice(sorted(rows, key=lambda x: str(x["id"])))
        actions = ["refunded", "credited", "no_action"]
        chosen = [r.choice(actions)] if r.random() < 0.7 else r.sample(actions, 2)
        answers = await asyncio.gather(
            *(
                self.call(
                    "operator",
                    "POST",
                    f"/internal/failed-pairings/{row['id']}/action",
                    self.op_headers,
                    {"action": a},
                    internal=True,
                )
                for a in chosen
            )
        )
        ok = [(a, b) for a, (st, b) in zip(chosen, answers, strict=True) if st == 200]
        for a, b in ok:
            self.ack("operator_action", failure=str(row["id"]), action=a)
            if b.get("operator_action") != a:
                self.report.violation(
                    f"failure {row['id']}: action {a} answered 200 with {b.get('operator_action')}"
                )
        if len(ok) > 1:
            self.report.violation(f"failure {row['id']}: two different actions both answered 200")

    async def op_socket_drop(self, r: random.Random) -> None:
        """A mitra's connection drops; the app reconnects, goes online and re-reads its cards."""
        idle = [m for m in self.mitras if not m.reconnecting]
        if not idle:
            return
        m = r.choice(idle)
        m.reconnecting = True
        try:
            await m.ws.close()
            await asyncio.sleep(r.uniform(0.05, 1.0))
            m.ws = await self.open_socket("mitra", m)
            await self.call("socket_drop", "POST", "/api/mitra/status", m.acc.headers, {"online": True})
            st, b = await self.call("socket_drop", "GET", "/api/mitra/pairing-requests", m.acc.headers)
            if st == 200:
                m.offers = {str(row["pairing_request_id"]) for row in b["rows"]}
        finally:
            m.reconnecting = False

    async def op_offline_online(self, r: random.Random) -> None:
        m = r.choice(self.mitras)
        await self.call("offline_online", "POST", "/api/mitra/status", m.acc.headers, {"online": False})
        await asyncio.sleep(r.uniform(0.05, 0.5))
        await self.call("offline_online", "POST", "/api/mitra/status", m.acc.headers, {"online": True})

    async def op_read(self, r: random.Random) -> None:
        c = r.choice(self.customers)
        m = r.choice(self.mitras)
        roll = r.random()
        if roll < 0.2:
            await self.call("read", "GET", "/api/client/mitra-availability", c.acc.headers)
        elif roll < 0.4:
            st, b = await self.call("read", "GET", "/api/mitra/pairing-requests", m.acc.headers)
            if st == 200 and not m.reconnecting:
                m.offers |= {str(row["pairing_request_id"]) for row in b["rows"]}
        elif roll < 0.55:
            await self.call("read", "GET", "/api/mitra/me", m.acc.headers)
        elif roll < 0.7 and self.chats:
            cid = r.choice(sorted(self.chats))
            info = self.chats[cid]
            await self.call("read", "GET", f"/api/client/chat-sessions/{cid}", info.customer.acc.headers)
            await self.call(
                "read", "GET", f"/api/client/chat-sessions/{cid}/messages?limit=5", info.customer.acc.headers
            )
        elif roll < 0.85 and self.requests:
            pid, owner = self.requests[r.choice(sorted(self.requests))]
            await self.call("read", "GET", f"/api/client/payment-sessions/{pid}", owner.acc.headers)
        else:
            await self.call("read", "GET", "/api/client/chat-sessions?limit=5", c.acc.headers)

    async def op_flip_extension_default(self, r: random.Random) -> None:
        value = r.choice(["auto_approve", "auto_reject"])
        await self.call(
            "flip_extension_default",
            "PATCH",
            "/internal/config/extension_default_action_on_timeout",
            self.op_headers,
            {"value": value},
            internal=True,
        )

    # -- after the run -----------------------------------------------------------------------

    async def sql(self, query: str, **params: Any) -> list[Any]:
        engine = create_async_engine(self.t.settings.database_url or "")
        try:
            async with engine.connect() as conn:
                return list((await conn.execute(text(query), params)).all())
        finally:
            await engine.dispose()

    async def settle(self) -> None:
        """Let every short window run out, then nothing may remain past its deadline."""
        windows = await self.sql(
            """SELECT greatest(
                 (SELECT max(expires_at) FROM pairing_requests WHERE status = 'open'),
                 (SELECT max(expires_at) FROM extension_requests WHERE status = 'pending'))"""
        )
        last = windows[0][0]
        wait_until = time.monotonic() + self.opts.settle_timeout
        if last is not None:
            now = (await self.sql("SELECT now()"))[0][0]
            wait_until = time.monotonic() + max(0.0, (last - now).total_seconds()) + self.opts.settle_timeout
        stuck: dict[str, list[Any]] = {}
        while True:
            open_left = await self.sql(
                """SELECT (SELECT count(*) FROM pairing_requests WHERE status = 'open')
                        + (SELECT count(*) FROM extension_requests WHERE status = 'pending')"""
            )
            stuck = {name: rows for name, q in STUCK.items() if (rows := await self.sql(q))}
            if (not open_left[0][0] and not stuck) or time.monotonic() > wait_until:
                break
            await asyncio.sleep(0.5)
        for name, rows in stuck.items():
            self.report.violation(f"stuck after the run: {name}: {[str(r[0]) for r in rows[:5]]}")
        # Every acknowledged match reaches the customer's socket (customers never drop theirs).
        expected = [
            (d["chat"], self.requests[d["rid"]][1])
            for w, d in self.acks
            if w == "accepted" and d["rid"] in self.requests
        ]
        limit = time.monotonic() + 15
        while any(chat not in c.matched for chat, c in expected) and time.monotonic() < limit:
            await asyncio.sleep(0.2)
        for chat, c in expected:
            self.report.acks["PAIRING_MATCHED reached the customer"] += 1
            if chat not in c.matched:
                self.report.ack_failures["PAIRING_MATCHED reached the customer"] += 1
                self.report.violation(
                    f"chat {chat}: accepted with 200 but no PAIRING_MATCHED reached the customer"
                )
        # Messages sent over a socket are acknowledged by their echo; the rest were refused.
        self.report.notes.append(
            f"chat.send frames without an echo (chat ended meanwhile): {len(self.ws_sent)}"
        )

    async def verify(self) -> None:
        fallbacks = [d["pid"] for w, d in self.acks if w == "fallback"]
        engine = create_async_engine(self.t.settings.database_url or "")
        try:
            async with engine.connect() as conn:
                for what, details in self.acks:
                    row = (await conn.execute(text(ACK_SQL[what]), details)).first()
                    self.report.acks[what] += 1
                    revived = what == "targeted_offline" and details["pid"] in fallbacks
                    if not revived and (row is None or not row[0]):
                        self.report.ack_failures[what] += 1
                        stored = None
                        if what in ACK_SHOW:
                            stored = (await conn.execute(text(ACK_SHOW[what]), details)).first()
                        self.report.violation(
                            f"acknowledged {what} {details} does not match the database "
                            f"(stored: {tuple(stored) if stored else None})"
                        )
                for name, query in ALL_CHECKS.items():
                    rows = (await conn.execute(text(query))).all()
                    self.report.invariants[name] = len(rows)
                    if rows:
                        self.report.violation(f"invariant {name}: {[str(r[0]) for r in rows[:5]]}")
                late = await conn.execute(
                    text(
                        """SELECT extract(epoch FROM closed_at - expires_at) * 1000 FROM pairing_requests
                           WHERE cause_tag IN ('no_mitra_available', 'targeted_mitra_timeout')"""
                    )
                )
                self.report.lateness_ms = [float(v) for (v,) in late.all()]
        finally:
            await engine.dispose()


async def run(target: Target, opts: Options) -> Report:
    return await Chaos(target, opts).run()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seed", type=int, default=None, help="replay a run (default: a new random seed)")
    p.add_argument("--ops", type=int, default=10_000, help="operations to run")
    p.add_argument("--concurrency", type=int, default=24, help="operations in flight at once")
    p.add_argument("--customers", type=int, default=60)
    p.add_argument("--mitras", type=int, default=16)
    p.add_argument("--time-limit", type=float, default=1800.0, help="stop starting operations after this (s)")
    p.add_argument("--checkpoint-every", type=int, default=None, help="invariants mid-run every N operations")
    p.add_argument("--data-dir", default=None, help="embedded servers' directory (default: a temporary one)")
    args = p.parse_args(argv)
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    print(f"R1 chaos run: seed {seed} (replay: python -m tests.chaos.runner --seed {seed})", flush=True)
    opts = Options(
        seed=seed,
        ops=args.ops,
        concurrency=args.concurrency,
        customers=args.customers,
        mitras=args.mitras,
        time_limit=args.time_limit,
        progress=True,
    )
    if args.checkpoint_every is not None:
        opts.checkpoint_every = args.checkpoint_every
    harness.raise_fd_limit()
    with harness.stack(args.data_dir) as settings:
        server = harness.Server(settings, extra_env=dict(SERVER_ENV)).start()
        try:
            target = Target(server.public_url, server.internal_url, server.ws_url, settings)
            report: Report | None = None

            async def go() -> None:
                nonlocal report
                report = await run(target, opts)

            harness.run_main(go)
        finally:
            server.stop()
    assert report is not None
    report.print()
    if not report.ok:
        print("\n" + report.failure_message(), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
