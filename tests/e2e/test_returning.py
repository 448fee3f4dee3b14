"""'Curhat lagi' (targeted) end to end: accept, decline, timeout, offline, fallback."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from curhat.runtime import Runtime
from tests.e2e.conftest import OnlineMitra
from tests.e2e.flows import Api, Socket
from tests.fixtures.factories import Account, make_customer, make_operator
from tests.fixtures.server import ServerProcess

pytestmark = pytest.mark.e2e


async def _past_chat(
    seed: Runtime, server: ServerProcess, api: Api, sockets: list[Socket], mitra: Account, mitra_ws: Socket
) -> tuple[Account, Socket]:
    """A customer who chatted with this mitra before (the chat has ended)."""
    customer = await make_customer(seed)
    ws = await Socket.open(server.ws_url, customer.token)
    sockets.append(ws)
    rid = (await api.search(customer, await api.paid_session(customer)))["pairing_request_id"]
    await mitra_ws.expect("PAIRING_REQUEST", pairing_request_id=rid)
    chat_id = (await api.respond(mitra, rid, "accept")).json()["chat_session_id"]
    r = await api.http.post(f"/api/client/chat-sessions/{chat_id}/end", headers=customer.headers)
    assert r.status_code == 200 and r.json()["end_reason"] == "customer_ended"
    await mitra_ws.expect("CHAT_SESSION_ENDED")
    return customer, ws


async def _returning(api: Api, customer: Account, mitra: Account) -> tuple[str, dict[str, object], int]:
    pid = await api.paid_session(customer, targeted_mitra_id=mitra.id)
    r = await api.http.post(
        "/api/client/chat-requests/returning",
        json={"payment_session_id": pid, "mitra_id": str(mitra.id)},
        headers=customer.headers,
    )
    return pid, r.json(), r.status_code


async def test_returning_accept_starts_the_chat(
    seed: Runtime, server: ServerProcess, api: Api, sockets: list[Socket], online_mitra: OnlineMitra
) -> None:
    mitra, mitra_ws = await online_mitra()
    customer, customer_ws = await _past_chat(seed, server, api, sockets, mitra, mitra_ws)
    pid, body, status = await _returning(api, customer, mitra)
    assert status == 202 and body["request_type"] == "returning"
    offer = await mitra_ws.expect("PAIRING_REQUEST", pairing_request_id=body["pairing_request_id"])
    assert offer["request_type"] == "returning" and offer["seconds_remaining"] <= 20
    assert (await api.respond(mitra, str(body["pairing_request_id"]), "accept")).status_code == 200
    await customer_ws.expect("PAIRING_MATCHED")
    assert (await api.payment(customer, pid))["status"] == "consumed"


async def test_returning_decline_then_fallback_then_match(
    seed: Runtime, server: ServerProcess, api: Api, sockets: list[Socket], online_mitra: OnlineMitra
) -> None:
    mitra, mitra_ws = await online_mitra()
    other, other_ws = await online_mitra()
    customer, customer_ws = await _past_chat(seed, server, api, sockets, mitra, mitra_ws)
    other_ws.events.clear()
    pid, body, _ = await _returning(api, customer, mitra)
    rid = str(body["pairing_request_id"])
    await mitra_ws.expect("PAIRING_REQUEST", pairing_request_id=rid)
    assert not other_ws.seen("PAIRING_REQUEST")
    assert (await api.respond(mitra, rid, "reject")).status_code == 200
    rejected = await customer_ws.expect("RETURNING_CHAT_REJECTED")
    assert rejected["fallback_offered"] is True and rejected["mitra_id"] == str(mitra.id)
    assert (await api.payment(customer, pid))["status"] == "failed_pairing"

    r = await api.http.post(f"/api/client/chat-requests/{pid}/fallback-to-blast", headers=customer.headers)
    assert r.status_code == 202, r.text
    rid2 = r.json()["pairing_request_id"]
    await other_ws.expect("PAIRING_REQUEST", pairing_request_id=rid2)
    assert (await api.respond(other, rid2, "accept")).status_code == 200
    await customer_ws.expect("PAIRING_MATCHED")
    payment = await api.payment(customer, pid)
    assert payment["status"] == "consumed" and payment["amount"] == 25000
    async with seed.transaction() as session:
        assert await session.scalar(text("SELECT count(*) FROM pairing_failures")) == 0


async def test_returning_timeout_fires_and_the_card_closes(
    seed: Runtime, server: ServerProcess, api: Api, sockets: list[Socket], online_mitra: OnlineMitra
) -> None:
    mitra, mitra_ws = await online_mitra()
    customer, customer_ws = await _past_chat(seed, server, api, sockets, mitra, mitra_ws)
    pid, body, _ = await _returning(api, customer, mitra)
    async with seed.transaction() as session:
        await session.execute(
            text("UPDATE pairing_requests SET expires_at = now() + interval '1 second' WHERE id = :id"),
            {"id": body["pairing_request_id"]},
        )
    timeout = await customer_ws.expect("RETURNING_CHAT_TIMEOUT", timeout=5)
    assert timeout["pairing_request_id"] == body["pairing_request_id"]
    closed = await mitra_ws.expect("PAIRING_REQUEST_CLOSED", pairing_request_id=body["pairing_request_id"])
    assert closed["reason"] == "expired"
    async with seed.transaction() as session:
        cause = await session.scalar(
            text("SELECT cause_tag FROM pairing_failures WHERE payment_session_id = :p"), {"p": pid}
        )
    assert cause == "targeted_mitra_timeout"


async def test_offline_target_fails_at_once_and_fallback_is_refused_after_an_operator_action(
    seed: Runtime, server: ServerProcess, api: Api, sockets: list[Socket], online_mitra: OnlineMitra
) -> None:
    mitra, mitra_ws = await online_mitra()
    customer, _ = await _past_chat(seed, server, api, sockets, mitra, mitra_ws)
    r = await api.http.post("/api/mitra/status", json={"online": False}, headers=mitra.headers)
    assert r.status_code == 200
    pid, body, status = await _returning(api, customer, mitra)
    assert (
        status == 409
        and body["error"] == "targeted_mitra_offline"
        and body["reason"] == "targeted_mitra_offline"
    )
    assert (await api.payment(customer, pid))["status"] == "failed_pairing"

    operator = await make_operator(seed)
    async with seed.transaction() as session:
        failure_id = await session.scalar(
            text("SELECT id FROM pairing_failures WHERE payment_session_id = :p"), {"p": pid}
        )
        await session.execute(
            text(
                "UPDATE pairing_failures SET operator_action = 'refunded', actioned_by = :o, actioned_at = now() WHERE id = :f"
            ),
            {"o": operator.id, "f": failure_id},
        )
    r = await api.http.post(f"/api/client/chat-requests/{pid}/fallback-to-blast", headers=customer.headers)
    assert r.status_code == 409 and r.json()["error"] == "already_actioned"


async def test_only_past_mitras_can_be_targeted(seed: Runtime, api: Api, online_mitra: OnlineMitra) -> None:
    mitra, _ = await online_mitra()
    customer = await make_customer(seed)
    pid = await api.paid_session(customer)
    r = await api.http.post(
        "/api/client/chat-requests/returning",
        json={"payment_session_id": pid, "mitra_id": str(mitra.id)},
        headers=customer.headers,
    )
    assert r.status_code == 404 and r.json()["error"] == "mitra_not_found"
    assert (await api.payment(customer, pid))["status"] == "confirmed"
