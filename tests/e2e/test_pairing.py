"""Pairing end to end: the real server process, real WebSocket clients (seed §2.7 and more)."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import text

from curhat.runtime import Runtime
from tests.e2e.conftest import OnlineMitra, set_config
from tests.e2e.flows import Api, Socket, open_chat
from tests.fixtures.factories import Account, insert_mitras, make_customer
from tests.fixtures.server import ServerProcess

pytestmark = pytest.mark.e2e


async def _customer(seed: Runtime, server: ServerProcess, sockets: list[Socket]) -> tuple[Account, Socket]:
    customer = await make_customer(seed)
    sock = await Socket.open(server.ws_url, customer.token)
    sockets.append(sock)
    return customer, sock


async def _expire_now(seed: Runtime, pairing_request_id: str) -> None:
    async with seed.transaction() as session:
        await session.execute(
            text("UPDATE pairing_requests SET expires_at = now() WHERE id = :id"), {"id": pairing_request_id}
        )


async def _failure_row(seed: Runtime, payment_session_id: str) -> dict[str, object] | None:
    async with seed.transaction() as session:
        row = (
            (
                await session.execute(
                    text(
                        "SELECT cause_tag, amount, targeted_mitra_id FROM pairing_failures WHERE payment_session_id = :p"
                    ),
                    {"p": payment_session_id},
                )
            )
            .mappings()
            .one_or_none()
        )
    return dict(row) if row else None


async def test_happy_path_blast_match_chat(
    seed: Runtime, server: ServerProcess, api: Api, sockets: list[Socket], online_mitra: OnlineMitra
) -> None:
    mitra, mitra_ws = await online_mitra("Bestie Ayu")
    customer, customer_ws = await _customer(seed, server, sockets)
    pid = await api.paid_session(customer)
    req = await api.search(customer, pid)
    offer = await mitra_ws.expect("PAIRING_REQUEST", pairing_request_id=req["pairing_request_id"])
    assert offer["request_type"] == "blast" and offer["customer"] == {"display_name": customer.display_name}
    assert 0 < offer["seconds_remaining"] <= 60

    r = await api.respond(mitra, req["pairing_request_id"], "accept")
    assert r.status_code == 200, r.text
    chat_id = r.json()["chat_session_id"]
    matched = await customer_ws.expect("PAIRING_MATCHED")
    assert matched["chat_session_id"] == chat_id and matched["mitra"]["display_name"] == "Bestie Ayu"
    started = await mitra_ws.expect("CHAT_SESSION_STARTED")
    assert started["customer"] == {"display_name": customer.display_name}

    payment = await api.payment(customer, pid)
    assert payment["status"] == "consumed"
    assert payment["pairing"]["status"] == "accepted" and payment["pairing"]["chat_session_id"] == chat_id

    r = await api.http.post(
        f"/api/client/chat-sessions/{chat_id}/messages",
        json={"body": "halo", "client_msg_id": "m1"},
        headers=customer.headers,
    )
    assert r.status_code == 201, r.text
    got = await mitra_ws.expect("CHAT_MESSAGE")
    assert got["message"]["body"] == "halo" and got["message"]["sender_role"] == "customer"
    r = await api.http.post(
        f"/api/client/chat-sessions/{chat_id}/messages",
        json={"body": "halo", "client_msg_id": "m1"},
        headers=customer.headers,
    )
    assert r.status_code == 201
    history = await api.http.get(f"/api/mitra/chat-sessions/{chat_id}/messages", headers=mitra.headers)
    assert [m["body"] for m in history.json()["rows"]] == ["halo"]


async def test_no_mitra_available_when_the_window_ends(
    seed: Runtime, server: ServerProcess, api: Api, sockets: list[Socket]
) -> None:
    customer, customer_ws = await _customer(seed, server, sockets)
    pid = await api.paid_session(customer)
    req = await api.search(customer, pid)
    await _expire_now(seed, req["pairing_request_id"])
    failed = await customer_ws.expect("PAIRING_FAILED", timeout=5)
    assert failed["cause_tag"] == "no_mitra_available" and failed["fallback_offered"] is False
    assert (await api.payment(customer, pid))["status"] == "failed_pairing"
    assert (await _failure_row(seed, pid)) == {
        "cause_tag": "no_mitra_available",
        "amount": 25000,
        "targeted_mitra_id": None,
    }


async def test_all_mitras_rejected(
    seed: Runtime, server: ServerProcess, api: Api, sockets: list[Socket], online_mitra: OnlineMitra
) -> None:
    (m1, ws1), (m2, ws2) = await online_mitra(), await online_mitra()
    customer, customer_ws = await _customer(seed, server, sockets)
    pid = await api.paid_session(customer)
    req = await api.search(customer, pid)
    rid = req["pairing_request_id"]
    await ws1.expect("PAIRING_REQUEST", pairing_request_id=rid)
    await ws2.expect("PAIRING_REQUEST", pairing_request_id=rid)
    assert (await api.respond(m1, rid, "reject")).status_code == 200
    assert (await api.payment(customer, pid))["status"] == "confirmed"
    assert (await api.respond(m2, rid, "reject")).status_code == 200
    failed = await customer_ws.expect("PAIRING_FAILED")
    assert failed["cause_tag"] == "all_mitras_rejected"
    assert (await _failure_row(seed, pid) or {})["cause_tag"] == "all_mitras_rejected"
    assert (await api.respond(m1, rid, "accept")).status_code == 409


async def test_cancel_mid_search_closes_offers(
    seed: Runtime, server: ServerProcess, api: Api, sockets: list[Socket], online_mitra: OnlineMitra
) -> None:
    mitra, mitra_ws = await online_mitra()
    customer, _ = await _customer(seed, server, sockets)
    pid = await api.paid_session(customer)
    req = await api.search(customer, pid)
    await mitra_ws.expect("PAIRING_REQUEST")
    r = await api.http.post(
        "/api/client/chat-requests/cancel", json={"payment_session_id": pid}, headers=customer.headers
    )
    assert r.status_code == 200 and r.json()["cause_tag"] == "customer_cancelled"
    closed = await mitra_ws.expect("PAIRING_REQUEST_CLOSED")
    assert closed == {"pairing_request_id": req["pairing_request_id"], "reason": "cancelled"}
    r = await api.http.post(
        "/api/client/chat-requests/cancel", json={"payment_session_id": pid}, headers=customer.headers
    )
    assert r.status_code == 409 and r.json()["error"] == "no_open_request"
    assert (await api.respond(mitra, req["pairing_request_id"], "accept")).status_code == 409


async def test_search_needs_a_confirmed_unused_payment(seed: Runtime, api: Api) -> None:
    customer = await make_customer(seed)
    other = await make_customer(seed)
    r = await api.http.post("/api/client/chat-requests", json={}, headers=customer.headers)
    assert r.status_code == 400
    r = await api.http.post(
        "/api/client/payment-sessions", json={"duration_minutes": 30}, headers=customer.headers
    )
    pending = r.json()["id"]
    r = await api.http.post(
        "/api/client/chat-requests", json={"payment_session_id": pending}, headers=customer.headers
    )
    assert r.status_code == 409 and r.json()["error"] == "payment_session_not_confirmed"
    pid = await api.paid_session(customer)
    r = await api.http.post(
        "/api/client/chat-requests", json={"payment_session_id": pid}, headers=other.headers
    )
    assert r.status_code == 404
    await api.search(customer, pid)
    r = await api.http.post(
        "/api/client/chat-requests", json={"payment_session_id": pid}, headers=customer.headers
    )
    assert r.status_code == 409
    r = await api.http.post(
        "/api/client/chat-requests", json={"payment_session_id": str(uuid.uuid4())}, headers=customer.headers
    )
    assert r.status_code == 404


async def test_fifty_mitras_accept_at_once_one_chat(
    seed: Runtime, server: ServerProcess, api: Api, sockets: list[Socket]
) -> None:
    # Accounts first, without an argon2 hash each: opening the sockets one after another while
    # hashing 50 passwords took longer than the presence TTL on a busy machine, and the first
    # sockets, which send no frame meanwhile, were closed idle before the search.
    mitras: list[tuple[Account, Socket]] = []
    for mitra in await insert_mitras(seed, 50):
        mitras.append((mitra, await Socket.open(server.ws_url, mitra.token)))
        sockets.append(mitras[-1][1])
        await api.go_online(mitra)
    customer, customer_ws = await _customer(seed, server, sockets)
    pid = await api.paid_session(customer)
    rid = (await api.search(customer, pid))["pairing_request_id"]
    await asyncio.gather(*(ws.expect("PAIRING_REQUEST", 30, pairing_request_id=rid) for _, ws in mitras))
    answers = await asyncio.gather(*(api.respond(m, rid, "accept") for m, _ in mitras))
    codes = sorted(a.status_code for a in answers)
    assert codes.count(200) == 1 and codes.count(409) == 49
    assert {a.json()["error"] for a in answers if a.status_code == 409} == {"already_taken"}
    await customer_ws.expect("PAIRING_MATCHED")
    async with seed.transaction() as session:
        chats = await session.scalar(text("SELECT count(*) FROM chat_sessions"))
    assert chats == 1


async def test_capacity_full_mitra_is_not_offered_and_late_joiner_is(
    seed: Runtime, server_factory: type[ServerProcess], sockets: list[Socket]
) -> None:
    await set_config(seed, "max_customers_per_mitra", 1)
    server = server_factory().start()
    api = Api(server.public_url)
    try:
        from tests.fixtures.factories import make_mitra

        busy = await make_mitra(seed)
        busy_ws = await Socket.open(server.ws_url, busy.token)
        sockets.append(busy_ws)
        await api.go_online(busy)
        first, _ = await _customer(seed, server, sockets)
        rid = (await api.search(first, await api.paid_session(first)))["pairing_request_id"]
        await busy_ws.expect("PAIRING_REQUEST", pairing_request_id=rid)
        assert (await api.respond(busy, rid, "accept")).status_code == 200

        second, second_ws = await _customer(seed, server, sockets)
        rid2 = (await api.search(second, await api.paid_session(second)))["pairing_request_id"]
        # A mitra who comes online during the window gets the open blast.
        late = await make_mitra(seed)
        late_ws = await Socket.open(server.ws_url, late.token)
        sockets.append(late_ws)
        await api.go_online(late)
        await late_ws.expect("PAIRING_REQUEST", pairing_request_id=rid2)
        assert not [e for e in busy_ws.seen("PAIRING_REQUEST") if e["pairing_request_id"] == rid2]
        assert (await api.respond(late, rid2, "accept")).status_code == 200
        await second_ws.expect("PAIRING_MATCHED")
    finally:
        await api.aclose()


async def test_chat_over_websocket_with_resend_dedupe(
    seed: Runtime, server: ServerProcess, api: Api, sockets: list[Socket]
) -> None:
    chat = await open_chat(seed, server.ws_url, api, sockets)
    customer, customer_ws, mitra_ws, chat_id = chat.customer, chat.customer_ws, chat.mitra_ws, chat.id
    frame = {"type": "chat.send", "chat_session_id": chat_id, "body": "<b>halo</b>", "client_msg_id": "c-1"}
    await customer_ws.send(frame)
    await customer_ws.send(frame)
    got = await mitra_ws.expect("CHAT_MESSAGE")
    assert got["message"]["body"] == "<b>halo</b>" and got["message"]["client_msg_id"] == "c-1"
    await customer_ws.expect("CHAT_MESSAGE")
    await customer_ws.expect("CHAT_MESSAGE")  # the resend is acknowledged to the sender only
    await mitra_ws.send({"type": "chat.send", "chat_session_id": chat_id, "body": "", "client_msg_id": "m-1"})
    error = await mitra_ws.expect("ERROR")
    assert error["code"] == "validation_error"
    history = await api.http.get(f"/api/client/chat-sessions/{chat_id}/messages", headers=customer.headers)
    assert [m["body"] for m in history.json()["rows"]] == ["<b>halo</b>"]
