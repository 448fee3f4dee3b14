"""Races against the real database: duplicate creates, confirms, free trials, fallback vs operator."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from sqlalchemy import select

from curhat.errors import CurhatError
from curhat.models import PairingFailure
from curhat.payments import service
from curhat.runtime import Runtime
from tests.fixtures.factories import make_customer, make_operator
from tests.integration.test_payments_support import (
    BASE,
    count,
    expire,
    failure_rows,
    insert_payment,
    payment_row,
)
from tests.invariants import assert_invariants


async def test_fifty_concurrent_creates_with_one_key_make_one_session(
    public: httpx.AsyncClient, runtime: Runtime
) -> None:
    customer = await make_customer(runtime)
    headers = {**customer.headers, "Idempotency-Key": f"pay-{uuid.uuid4()}"}
    answers = await asyncio.gather(
        *(public.post(BASE, json={"duration_minutes": 30}, headers=headers) for _ in range(50))
    )
    assert [a.status_code for a in answers] == [201] * 50
    assert len({a.text for a in answers}) == 1
    assert answers[0].json()["status"] == "pending"
    assert await count(runtime, "payment_sessions") == 1
    assert await count(runtime, "idempotency_keys") == 1


async def test_concurrent_confirms_confirm_once(public: httpx.AsyncClient, runtime: Runtime) -> None:
    customer = await make_customer(runtime)
    pid = (await public.post(BASE, json={"duration_minutes": 30}, headers=customer.headers)).json()["id"]
    answers = await asyncio.gather(
        *(public.post(f"{BASE}/{pid}/confirm", headers=customer.headers) for _ in range(20))
    )
    assert {(a.status_code, a.json()["status"]) for a in answers} == {(200, "confirmed")}
    assert (await payment_row(runtime, uuid.UUID(pid))).status == "confirmed"


async def test_confirm_racing_cancel_has_one_outcome(public: httpx.AsyncClient, runtime: Runtime) -> None:
    customer = await make_customer(runtime)
    for _ in range(10):
        pid = (await public.post(BASE, json={"duration_minutes": 30}, headers=customer.headers)).json()["id"]
        confirm, cancel = await asyncio.gather(
            public.post(f"{BASE}/{pid}/confirm", headers=customer.headers),
            public.post(f"{BASE}/{pid}/cancel", headers=customer.headers),
        )
        final = (await payment_row(runtime, uuid.UUID(pid))).status
        if final == "confirmed":
            assert confirm.status_code == 200 and cancel.status_code == 409
        else:
            assert final == "abandoned" and cancel.status_code == 200 and confirm.status_code == 409


async def test_two_free_trials_consumed_in_parallel_only_one_wins(runtime: Runtime) -> None:
    customer = await make_customer(runtime)
    ids = [await insert_payment(runtime, customer, free=True, duration=15) for _ in range(5)]

    async def consume(pid: uuid.UUID) -> str:
        try:
            async with runtime.transaction() as session:
                await service.consume_payment_session(session, pid)
        except CurhatError as exc:
            return exc.code
        return "consumed"

    results = await asyncio.gather(*(consume(pid) for pid in ids))
    assert sorted(results) == ["consumed"] + ["free_trial_already_used"] * 4
    statuses = sorted([(await payment_row(runtime, pid)).status for pid in ids])
    assert statuses == ["confirmed"] * 4 + ["consumed"]


async def test_fallback_racing_an_operator_action_has_exactly_one_winner(
    internal: httpx.AsyncClient, runtime: Runtime
) -> None:
    customer, operator = await make_customer(runtime), await make_operator(runtime)
    outcomes: dict[str, int] = {}
    for _ in range(25):
        pid = await insert_payment(runtime, customer)
        async with runtime.transaction() as session:
            failure = await service.fail_payment_session(session, pid, "targeted_mitra_timeout")
            assert failure is not None
            failure_id = failure.id

        async def fallback(pid: uuid.UUID = pid) -> str:
            try:
                async with runtime.transaction() as session:
                    await service.revive_for_fallback(session, pid, customer.id)
            except CurhatError as exc:
                return exc.code
            return "revived"

        async def action(failure_id: uuid.UUID = failure_id) -> httpx.Response:
            return await internal.post(
                f"/internal/failed-pairings/{failure_id}/action",
                json={"action": "refunded"},
                headers=operator.headers,
            )

        revived, acted = await asyncio.gather(fallback(), action())
        status = (await payment_row(runtime, pid)).status
        rows = await failure_rows(runtime, pid)
        if revived == "revived":
            assert acted.status_code == 404, acted.text
            assert status == "confirmed" and rows == []
            outcomes["fallback"] = outcomes.get("fallback", 0) + 1
        else:
            assert revived == "already_actioned"
            assert acted.status_code == 200 and acted.json()["operator_action"] == "refunded"
            assert status == "failed_pairing" and [r.operator_action for r in rows] == ["refunded"]
            outcomes["operator"] = outcomes.get("operator", 0) + 1
    print("fallback race outcomes", outcomes)
    assert sum(outcomes.values()) == 25
    async with runtime.transaction() as session:
        await assert_invariants(session)
        unactioned = await session.scalars(
            select(PairingFailure).where(PairingFailure.operator_action.is_(None))
        )
        assert list(unactioned) == []


async def test_concurrent_operator_actions_set_one_action(
    internal: httpx.AsyncClient, runtime: Runtime
) -> None:
    customer = await make_customer(runtime)
    operators = [await make_operator(runtime) for _ in range(3)]
    pid = await insert_payment(runtime, customer)
    async with runtime.transaction() as session:
        failure = await service.fail_payment_session(session, pid, "no_mitra_available")
        assert failure is not None
    actions = ["refunded", "credited", "no_action"] * 4
    answers = await asyncio.gather(
        *(
            internal.post(
                f"/internal/failed-pairings/{failure.id}/action",
                json={"action": a},
                headers=operators[i % 3].headers,
            )
            for i, a in enumerate(actions)
        )
    )
    winners = {a.json()["operator_action"] for a in answers if a.status_code == 200}
    assert len(winners) == 1
    winner = winners.pop()
    for a, sent in zip(answers, actions, strict=True):
        assert a.status_code == (200 if sent == winner else 409)
        if a.status_code == 409:
            assert a.json()["error"] == "already_actioned"
    assert [r.operator_action for r in await failure_rows(runtime, pid)] == [winner]


async def test_sweeper_racing_a_consume_never_both(runtime: Runtime) -> None:
    customer = await make_customer(runtime)
    ids = [await insert_payment(runtime, customer) for _ in range(10)]
    for pid in ids:
        await expire(runtime, pid)

    async def consume(pid: uuid.UUID) -> None:
        try:
            async with runtime.transaction() as session:
                await service.consume_payment_session(session, pid)
        except CurhatError:
            pass

    async def sweep() -> None:
        async with runtime.transaction() as session:
            await service.expire_stale_payment_sessions(session)

    await asyncio.gather(sweep(), *(consume(pid) for pid in ids), sweep())
    # A row locked by a racing consume is skipped (SKIP LOCKED) and taken by the next sweep.
    await sweep()
    for pid in ids:
        assert (await payment_row(runtime, pid)).status == "failed_pairing"
    async with runtime.transaction() as session:
        await assert_invariants(session)
