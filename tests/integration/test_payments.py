"""Payment sessions: every transition and refusal of the state machine (data.md), over HTTP
where a route exists and through the service where pairing/extension code calls it."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import httpx
import pytest

from curhat.errors import CurhatError
from curhat.payments import service
from curhat.runtime import Runtime
from tests.fixtures.factories import Account, make_customer, make_mitra, make_operator
from tests.integration.test_payments_support import (
    BASE,
    count,
    expire,
    failure_rows,
    insert_chat,
    insert_payment,
    insert_request,
    now,
    payment_row,
    settled,
    sql,
)

# -- create ---------------------------------------------------------------------------


async def test_create_prices_from_the_tier_and_sets_expiry(
    public: httpx.AsyncClient, runtime: Runtime
) -> None:
    customer = await make_customer(runtime)
    r = await public.post(BASE, json={"duration_minutes": 30}, headers=customer.headers)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["amount"] == 25000 and body["is_free_trial"] is False
    assert body["status"] == "pending" and body["is_extension"] is False
    assert body["duration_minutes"] == 30 and body["targeted_mitra_id"] is None
    created = datetime.fromisoformat(body["created_at"])
    expires = datetime.fromisoformat(body["expires_at"])
    assert expires - created == timedelta(minutes=20)
    row = await payment_row(runtime, uuid.UUID(body["id"]))
    assert row.customer_id == customer.id and row.status == "pending" and row.amount == 25000


async def test_expiry_follows_the_config_key(public: httpx.AsyncClient, runtime: Runtime) -> None:
    customer = await make_customer(runtime)
    await sql(runtime, "UPDATE app_config SET value = '5' WHERE key = 'payment_session_timeout_minutes'")
    runtime.config.invalidate()
    body = (await public.post(BASE, json={"duration_minutes": 30}, headers=customer.headers)).json()
    delta = datetime.fromisoformat(body["expires_at"]) - datetime.fromisoformat(body["created_at"])
    assert delta == timedelta(minutes=5)


async def test_free_trial_for_an_eligible_customer_within_the_limit(
    public: httpx.AsyncClient, runtime: Runtime
) -> None:
    customer = await make_customer(runtime)
    r = await public.post(BASE, json={"duration_minutes": 15}, headers=customer.headers)
    assert r.status_code == 201
    assert r.json()["amount"] == 0 and r.json()["is_free_trial"] is True
    r = await public.post(BASE, json={"duration_minutes": 60}, headers=customer.headers)
    assert r.json()["amount"] == 45000 and r.json()["is_free_trial"] is False


async def test_tier_id_must_match_the_duration(public: httpx.AsyncClient, runtime: Runtime) -> None:
    customer = await make_customer(runtime)
    tiers = (await public.get("/api/client/pricing", headers=customer.headers)).json()["tiers"]
    by_minutes = {t["duration_minutes"]: t["id"] for t in tiers}
    ok = await public.post(
        BASE, json={"duration_minutes": 30, "tier_id": by_minutes[30]}, headers=customer.headers
    )
    assert ok.status_code == 201
    bad = await public.post(
        BASE, json={"duration_minutes": 30, "tier_id": by_minutes[60]}, headers=customer.headers
    )
    assert bad.status_code == 400 and bad.json()["error"] == "validation_error"
    assert bad.json()["fields"][0]["field"] == "tier_id"
    assert await count(runtime, "payment_sessions") == 1


@pytest.mark.parametrize(
    "body",
    [
        {"duration_minutes": 45},
        {"duration_minutes": 0},
        {"duration_minutes": -30},
        {"duration_minutes": 10**30},
        {"duration_minutes": "thirty"},
        {"duration_minutes": 30.5},
        {},
        {"duration_minutes": 30, "surprise": 1},
        {"duration_minutes": 30, "tier_id": "not-a-uuid"},
    ],
)
async def test_bad_create_bodies_are_400_and_write_nothing(
    public: httpx.AsyncClient, runtime: Runtime, body: dict[str, object]
) -> None:
    customer = await make_customer(runtime)
    r = await public.post(BASE, json=body, headers=customer.headers)
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "validation_error"
    assert await count(runtime, "payment_sessions") == 0


async def test_unknown_tier_names_the_duration_field(public: httpx.AsyncClient, runtime: Runtime) -> None:
    customer = await make_customer(runtime)
    r = await public.post(BASE, json={"duration_minutes": 45}, headers=customer.headers)
    assert r.json()["fields"] == [{"field": "duration_minutes", "message": r.json()["fields"][0]["message"]}]


async def test_inactive_tier_cannot_be_bought(public: httpx.AsyncClient, runtime: Runtime) -> None:
    customer = await make_customer(runtime)
    await sql(runtime, "UPDATE price_tiers SET is_active = false WHERE duration_minutes = 30")
    r = await public.post(BASE, json={"duration_minutes": 30}, headers=customer.headers)
    assert r.status_code == 400 and r.json()["fields"][0]["field"] == "duration_minutes"


async def test_create_needs_a_customer_token(public: httpx.AsyncClient, runtime: Runtime) -> None:
    mitra = await make_mitra(runtime)
    assert (await public.post(BASE, json={"duration_minutes": 30})).status_code == 401
    r = await public.post(BASE, json={"duration_minutes": 30}, headers=mitra.headers)
    assert r.status_code == 401
    assert await count(runtime, "payment_sessions") == 0


# -- targeted and extension sessions ---------------------------------------------------------


async def test_targeted_mitra_needs_a_past_chat(public: httpx.AsyncClient, runtime: Runtime) -> None:
    customer, other = await make_customer(runtime), await make_customer(runtime)
    mitra, stranger = await make_mitra(runtime), await make_mitra(runtime)
    await insert_chat(runtime, customer, mitra, active=False)
    await insert_chat(runtime, other, stranger, active=False)
    ok = await public.post(
        BASE, json={"duration_minutes": 30, "targeted_mitra_id": str(mitra.id)}, headers=customer.headers
    )
    assert ok.status_code == 201 and ok.json()["targeted_mitra_id"] == str(mitra.id)
    for target in (stranger.id, uuid.uuid4()):
        r = await public.post(
            BASE, json={"duration_minutes": 30, "targeted_mitra_id": str(target)}, headers=customer.headers
        )
        assert r.status_code == 404 and r.json()["error"] == "mitra_not_found"
    assert await count(runtime, "payment_sessions") == 1


async def test_extension_needs_the_customers_active_chat(public: httpx.AsyncClient, runtime: Runtime) -> None:
    customer, other = await make_customer(runtime), await make_customer(runtime)
    mitra = await make_mitra(runtime)
    active = await insert_chat(runtime, customer, mitra)
    ended = await insert_chat(runtime, customer, mitra, active=False)
    others = await insert_chat(runtime, other, mitra)
    overdue = await insert_chat(runtime, customer, mitra)
    await sql(
        runtime, "UPDATE chat_sessions SET ends_at = now() - interval '1 second' WHERE id = :id", id=overdue
    )

    def ext(chat: uuid.UUID | None) -> dict[str, object]:
        body: dict[str, object] = {"duration_minutes": 15, "is_extension": True}
        if chat:
            body["chat_session_id"] = str(chat)
        return body

    for chat in (None, ended, others, overdue, uuid.uuid4()):
        r = await public.post(BASE, json=ext(chat), headers=customer.headers)
        assert r.status_code == 400 and r.json()["error"] == "chat_session_not_active", chat
    assert await count(runtime, "payment_sessions") == 0

    r = await public.post(BASE, json=ext(active), headers=customer.headers)
    assert r.status_code == 201
    body = r.json()
    # Never a free trial, even for an eligible customer and a tier within the limit.
    assert body["is_extension"] is True and body["is_free_trial"] is False and body["amount"] == 15000
    assert body["chat_session_id"] == str(active)


async def test_chat_session_id_only_on_extensions(public: httpx.AsyncClient, runtime: Runtime) -> None:
    customer, mitra = await make_customer(runtime), await make_mitra(runtime)
    chat = await insert_chat(runtime, customer, mitra)
    r = await public.post(
        BASE, json={"duration_minutes": 30, "chat_session_id": str(chat)}, headers=customer.headers
    )
    assert r.status_code == 400 and r.json()["fields"][0]["field"] == "chat_session_id"
    r = await public.post(
        BASE,
        json={
            "duration_minutes": 30,
            "is_extension": True,
            "chat_session_id": str(chat),
            "targeted_mitra_id": str(mitra.id),
        },
        headers=customer.headers,
    )
    assert r.status_code == 400 and r.json()["fields"][0]["field"] == "targeted_mitra_id"
    assert await count(runtime, "payment_sessions") == 0


# -- confirm / cancel ----------------------------------------------------------------------------


async def _create(public: httpx.AsyncClient, headers: dict[str, str], minutes: int = 30) -> str:
    r = await public.post(BASE, json={"duration_minutes": minutes}, headers=headers)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def test_confirm_then_confirm_again_changes_nothing(
    public: httpx.AsyncClient, runtime: Runtime
) -> None:
    customer = await make_customer(runtime)
    pid = await _create(public, customer.headers)
    r = await public.post(f"{BASE}/{pid}/confirm", headers=customer.headers)
    assert r.status_code == 200 and r.json() == {"id": pid, "status": "confirmed"}
    first = (await payment_row(runtime, uuid.UUID(pid))).confirmed_at
    assert first is not None
    r = await public.post(f"{BASE}/{pid}/confirm", headers=customer.headers)
    assert r.status_code == 200 and r.json() == {"id": pid, "status": "confirmed"}
    assert (await payment_row(runtime, uuid.UUID(pid))).confirmed_at == first


async def test_confirm_refuses_an_expired_session(public: httpx.AsyncClient, runtime: Runtime) -> None:
    await settled(runtime)
    customer = await make_customer(runtime)
    pid = await _create(public, customer.headers)
    await expire(runtime, uuid.UUID(pid))
    r = await public.post(f"{BASE}/{pid}/confirm", headers=customer.headers)
    assert r.status_code == 409 and r.json()["error"] == "payment_session_expired"
    assert (await payment_row(runtime, uuid.UUID(pid))).status == "pending"
    async with runtime.transaction() as session:
        assert await service.expire_stale_payment_sessions(session) == 1
    assert (await payment_row(runtime, uuid.UUID(pid))).status == "expired"
    r = await public.post(f"{BASE}/{pid}/confirm", headers=customer.headers)
    assert r.status_code == 409 and r.json()["error"] == "payment_session_expired"


async def test_confirmed_but_past_expiry_is_expired_on_confirm(
    public: httpx.AsyncClient, runtime: Runtime
) -> None:
    customer = await make_customer(runtime)
    pid = await insert_payment(runtime, customer, status="confirmed", expires_in=timedelta(seconds=-1))
    r = await public.post(f"{BASE}/{pid}/confirm", headers=customer.headers)
    assert r.status_code == 409 and r.json()["error"] == "payment_session_expired"


async def test_cancel_pending_then_everything_refuses(public: httpx.AsyncClient, runtime: Runtime) -> None:
    customer = await make_customer(runtime)
    pid = await _create(public, customer.headers)
    r = await public.post(f"{BASE}/{pid}/cancel", headers=customer.headers)
    assert r.status_code == 200 and r.json() == {"id": pid, "status": "abandoned"}
    r = await public.post(f"{BASE}/{pid}/cancel", headers=customer.headers)
    assert r.status_code == 409 and r.json()["error"] == "payment_session_not_pending"
    r = await public.post(f"{BASE}/{pid}/confirm", headers=customer.headers)
    assert r.status_code == 409 and r.json()["error"] == "payment_session_not_pending"
    assert (await payment_row(runtime, uuid.UUID(pid))).status == "abandoned"


async def test_cancel_refuses_confirmed_and_expired(public: httpx.AsyncClient, runtime: Runtime) -> None:
    await settled(runtime)
    customer = await make_customer(runtime)
    confirmed = await _create(public, customer.headers)
    await public.post(f"{BASE}/{confirmed}/confirm", headers=customer.headers)
    r = await public.post(f"{BASE}/{confirmed}/cancel", headers=customer.headers)
    assert r.status_code == 409 and r.json()["error"] == "payment_session_not_pending"
    assert (await payment_row(runtime, uuid.UUID(confirmed))).status == "confirmed"
    stale = await _create(public, customer.headers)
    await expire(runtime, uuid.UUID(stale))
    r = await public.post(f"{BASE}/{stale}/cancel", headers=customer.headers)
    assert r.status_code == 409 and r.json()["error"] == "payment_session_expired"
    assert (await payment_row(runtime, uuid.UUID(stale))).status == "pending"


@pytest.mark.parametrize("status", ["consumed", "failed_pairing", "voided", "expired"])
async def test_confirm_and_cancel_refuse_terminal_states(
    public: httpx.AsyncClient, runtime: Runtime, status: str
) -> None:
    customer = await make_customer(runtime)
    pid = await insert_payment(runtime, customer, status=status)
    expected = "payment_session_expired" if status == "expired" else "payment_session_not_pending"
    for action in ("confirm", "cancel"):
        r = await public.post(f"{BASE}/{pid}/{action}", headers=customer.headers)
        assert r.status_code == 409 and r.json()["error"] == expected, (action, r.text)
    assert (await payment_row(runtime, pid)).status == status


async def test_someone_elses_session_is_indistinguishable_from_a_missing_one(
    public: httpx.AsyncClient, runtime: Runtime
) -> None:
    owner, intruder = await make_customer(runtime), await make_customer(runtime)
    pid = await _create(public, owner.headers)
    for target in (pid, str(uuid.uuid4())):
        for method, path in (
            ("POST", f"{BASE}/{target}/confirm"),
            ("POST", f"{BASE}/{target}/cancel"),
            ("GET", f"{BASE}/{target}"),
        ):
            r = await public.request(method, path, headers=intruder.headers)
            assert r.status_code == 404, (method, path)
            assert r.json() == {"error": "payment_session_not_found", "message": r.json()["message"]}
    assert (await payment_row(runtime, uuid.UUID(pid))).status == "pending"
    operator = await make_operator(runtime)
    assert (await public.get(f"{BASE}/{pid}", headers=operator.headers)).status_code == 401


async def test_confirm_refuses_a_free_trial_once_the_trial_is_used(
    public: httpx.AsyncClient, runtime: Runtime
) -> None:
    customer = await make_customer(runtime)
    pid = await _create(public, customer.headers, minutes=15)
    await insert_payment(runtime, customer, status="consumed", free=True, duration=15)
    r = await public.post(f"{BASE}/{pid}/confirm", headers=customer.headers)
    assert r.status_code == 409 and r.json()["error"] == "free_trial_already_used"


# -- GET -----------------------------------------------------------------------------------------


async def test_get_returns_the_row_and_the_latest_pairing(
    public: httpx.AsyncClient, runtime: Runtime
) -> None:
    customer, mitra = await make_customer(runtime), await make_mitra(runtime)
    pid = await _create(public, customer.headers)
    body = (await public.get(f"{BASE}/{pid}", headers=customer.headers)).json()
    assert body["pairing"] is None and body["status"] == "pending"
    assert body["customer_id"] == str(customer.id) and body["confirmed_at"] is None
    await public.post(f"{BASE}/{pid}/confirm", headers=customer.headers)
    payment = uuid.UUID(pid)
    await insert_request(
        runtime,
        customer,
        payment,
        status="failed",
        request_type="returning",
        cause_tag="targeted_mitra_timeout",
        created_at=now() - timedelta(minutes=2),
    )
    latest = await insert_request(runtime, customer, payment, status="accepted")
    await sql(
        runtime,
        "UPDATE payment_sessions SET status = 'consumed', consumed_at = now() WHERE id = :id",
        id=payment,
    )
    chat = await insert_chat(runtime, customer, mitra, payment_id=payment)
    r = await public.get(f"{BASE}/{pid}", headers=customer.headers)
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "consumed" and body["consumed_at"] is not None
    pairing = body["pairing"]
    assert pairing["pairing_request_id"] == str(latest)
    assert pairing["request_type"] == "blast" and pairing["status"] == "accepted"
    assert pairing["cause_tag"] is None and pairing["chat_session_id"] == str(chat)
    assert set(body) >= {
        "id",
        "amount",
        "duration_minutes",
        "is_free_trial",
        "is_extension",
        "status",
        "targeted_mitra_id",
        "created_at",
        "confirmed_at",
        "consumed_at",
        "expires_at",
        "pairing",
    }


# -- the transitions pairing and extensions call -----------------------------------------------


async def test_consume_only_a_confirmed_unexpired_session(runtime: Runtime) -> None:
    customer = await make_customer(runtime)
    ok = await insert_payment(runtime, customer)
    async with runtime.transaction() as session:
        consumed = await service.consume_payment_session(session, ok)
        assert consumed.status == "consumed" and consumed.consumed_at is not None
    cases = {
        ok: "payment_session_already_used",
        await insert_payment(runtime, customer, status="pending"): "payment_session_not_confirmed",
        await insert_payment(runtime, customer, expires_in=timedelta(seconds=-1)): "payment_session_expired",
        await insert_payment(runtime, customer, status="expired"): "payment_session_expired",
        await insert_payment(runtime, customer, status="failed_pairing"): "payment_session_not_confirmed",
    }
    for pid, code in cases.items():
        with pytest.raises(CurhatError) as exc:
            async with runtime.transaction() as session:
                await service.consume_payment_session(session, pid)
        assert getattr(exc.value, "code", None) == code, pid
    with pytest.raises(service.PaymentSessionNotFound):
        async with runtime.transaction() as session:
            await service.consume_payment_session(session, uuid.uuid4())


async def test_only_one_free_trial_is_ever_consumed(runtime: Runtime) -> None:
    customer = await make_customer(runtime)
    first = await insert_payment(runtime, customer, free=True, duration=15)
    second = await insert_payment(runtime, customer, free=True, duration=15)
    async with runtime.transaction() as session:
        await service.consume_payment_session(session, first)
    with pytest.raises(service.FreeTrialAlreadyUsed):
        async with runtime.transaction() as session:
            await service.consume_payment_session(session, second)
    assert (await payment_row(runtime, second)).status == "confirmed"


async def test_fail_writes_the_failure_row_and_is_idempotent(runtime: Runtime) -> None:
    customer, mitra = await make_customer(runtime), await make_mitra(runtime)
    pid = await insert_payment(runtime, customer, amount=45000, duration=60, targeted=mitra.id)
    async with runtime.transaction() as session:
        failure = await service.fail_payment_session(session, pid, "targeted_mitra_rejected")
    assert failure is not None
    assert (await payment_row(runtime, pid)).status == "failed_pairing"
    rows = await failure_rows(runtime, pid)
    assert len(rows) == 1
    row = rows[0]
    assert (row.cause_tag, row.amount, row.customer_id, row.targeted_mitra_id) == (
        "targeted_mitra_rejected",
        45000,
        customer.id,
        mitra.id,
    )
    async with runtime.transaction() as session:
        assert await service.fail_payment_session(session, pid, "no_mitra_available") is None
    assert len(await failure_rows(runtime, pid)) == 1


@pytest.mark.parametrize("status", ["pending", "consumed", "abandoned", "expired", "voided"])
async def test_fail_is_a_no_op_unless_confirmed(runtime: Runtime, status: str) -> None:
    customer = await make_customer(runtime)
    pid = await insert_payment(runtime, customer, status=status)
    async with runtime.transaction() as session:
        assert await service.fail_payment_session(session, pid, "no_mitra_available") is None
    assert (await payment_row(runtime, pid)).status == status
    assert await failure_rows(runtime, pid) == []


async def test_fail_rolls_back_with_its_transaction(runtime: Runtime) -> None:
    customer = await make_customer(runtime)
    pid = await insert_payment(runtime, customer)
    with pytest.raises(RuntimeError):
        async with runtime.transaction() as session:
            await service.fail_payment_session(session, pid, "no_mitra_available")
            raise RuntimeError("the caller failed after")
    assert (await payment_row(runtime, pid)).status == "confirmed"
    assert await failure_rows(runtime, pid) == []


async def test_fail_refuses_an_unknown_cause(runtime: Runtime) -> None:
    customer = await make_customer(runtime)
    pid = await insert_payment(runtime, customer)
    with pytest.raises(ValueError):
        async with runtime.transaction() as session:
            await service.fail_payment_session(session, pid, "bad_luck")


async def test_extensions_never_fail_they_are_voided(runtime: Runtime) -> None:
    customer, mitra = await make_customer(runtime), await make_mitra(runtime)
    chat = await insert_chat(runtime, customer, mitra)
    ext = await insert_payment(runtime, customer, extension=True, chat_id=chat, amount=15000, duration=15)
    initial = await insert_payment(runtime, customer)
    async with runtime.transaction() as session:
        assert await service.fail_payment_session(session, ext, "no_mitra_available") is None
        assert await service.void_payment_session(session, initial) is False
        assert await service.void_payment_session(session, ext) is True
        assert await service.void_payment_session(session, ext) is False
    assert (await payment_row(runtime, ext)).status == "voided"
    assert (await payment_row(runtime, initial)).status == "confirmed"
    assert await count(runtime, "pairing_failures") == 0


# -- fallback (product.md decision 1) -----------------------------------------------------------


async def _failed(runtime: Runtime, customer: Account, cause: str) -> uuid.UUID:
    pid = await insert_payment(runtime, customer)
    async with runtime.transaction() as session:
        assert await service.fail_payment_session(session, pid, cause) is not None
    return pid


@pytest.mark.parametrize(
    "cause", ["targeted_mitra_offline", "targeted_mitra_rejected", "targeted_mitra_timeout"]
)
async def test_fallback_revives_a_targeted_failure(runtime: Runtime, cause: str) -> None:
    customer = await make_customer(runtime)
    pid = await _failed(runtime, customer, cause)
    async with runtime.transaction() as session:
        revived = await service.revive_for_fallback(session, pid, customer.id)
        assert revived.status == "confirmed"
    assert (await payment_row(runtime, pid)).status == "confirmed"
    assert await failure_rows(runtime, pid) == []
    # A second fallback finds nothing to revive.
    with pytest.raises(service.FallbackNotAvailable):
        async with runtime.transaction() as session:
            await service.revive_for_fallback(session, pid, customer.id)


@pytest.mark.parametrize("cause", ["no_mitra_available", "all_mitras_rejected", "customer_cancelled"])
async def test_fallback_refuses_non_targeted_causes(runtime: Runtime, cause: str) -> None:
    customer = await make_customer(runtime)
    pid = await _failed(runtime, customer, cause)
    with pytest.raises(service.FallbackNotAvailable):
        async with runtime.transaction() as session:
            await service.revive_for_fallback(session, pid, customer.id)
    assert (await payment_row(runtime, pid)).status == "failed_pairing"
    assert len(await failure_rows(runtime, pid)) == 1


async def test_fallback_refuses_after_expiry_after_action_and_for_others(runtime: Runtime) -> None:
    customer, intruder = await make_customer(runtime), await make_customer(runtime)
    operator = await make_operator(runtime)
    stale = await _failed(runtime, customer, "targeted_mitra_timeout")
    await expire(runtime, stale)
    with pytest.raises(service.PaymentSessionExpired):
        async with runtime.transaction() as session:
            await service.revive_for_fallback(session, stale, customer.id)

    actioned = await _failed(runtime, customer, "targeted_mitra_rejected")
    await sql(
        runtime,
        "UPDATE pairing_failures SET operator_action = 'refunded', actioned_by = :o, actioned_at = now() "
        "WHERE payment_session_id = :p",
        o=operator.id,
        p=actioned,
    )
    with pytest.raises(CurhatError) as exc:
        async with runtime.transaction() as session:
            await service.revive_for_fallback(session, actioned, customer.id)
    assert getattr(exc.value, "code", None) == "already_actioned"
    assert getattr(exc.value, "status", None) == 409

    mine = await _failed(runtime, customer, "targeted_mitra_offline")
    with pytest.raises(service.PaymentSessionNotFound):
        async with runtime.transaction() as session:
            await service.revive_for_fallback(session, mine, intruder.id)
    for pid in (stale, actioned, mine):
        assert (await payment_row(runtime, pid)).status == "failed_pairing"
        assert len(await failure_rows(runtime, pid)) == 1

    confirmed = await insert_payment(runtime, customer)
    with pytest.raises(service.FallbackNotAvailable):
        async with runtime.transaction() as session:
            await service.revive_for_fallback(session, confirmed, customer.id)
