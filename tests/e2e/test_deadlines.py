"""Durable deadlines across crashes and instances; chat end by time."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from curhat.runtime import Runtime
from tests.e2e.flows import Api, Socket, open_chat
from tests.fixtures.factories import make_customer, make_mitra
from tests.fixtures.server import ServerProcess

pytestmark = pytest.mark.e2e


async def test_chat_ends_on_time_for_both_sides_with_a_warning_first(
    seed: Runtime, server: ServerProcess, api: Api, sockets: list[Socket]
) -> None:
    chat = await open_chat(seed, server.ws_url, api, sockets)
    customer, customer_ws, mitra, mitra_ws, chat_id = (
        chat.customer,
        chat.customer_ws,
        chat.mitra,
        chat.mitra_ws,
        chat.id,
    )
    async with seed.transaction() as session:
        await session.execute(
            text("UPDATE chat_sessions SET ends_at = now() + interval '2 seconds' WHERE id = :id"),
            {"id": chat_id},
        )
    for ws in (customer_ws, mitra_ws):
        ending = await ws.expect("CHAT_SESSION_ENDING", timeout=5)
        assert ending["chat_session_id"] == chat_id and ending["seconds_left"] <= 2
    for ws in (customer_ws, mitra_ws):
        ended = await ws.expect("CHAT_SESSION_ENDED", timeout=5)
        assert ended == {"chat_session_id": chat_id, "end_reason": "time_up"}
    r = await api.http.post(
        f"/api/client/chat-sessions/{chat_id}/messages", json={"body": "masih?"}, headers=customer.headers
    )
    assert r.status_code == 409 and r.json()["error"] == "chat_session_ended"
    me = await api.http.get("/api/mitra/me", headers=mitra.headers)
    assert me.json()["active_sessions"] == 0


async def test_window_timeout_survives_sigkill_and_fires_soon_after_restart(
    seed: Runtime, server_factory: type[ServerProcess], sockets: list[Socket]
) -> None:
    first = server_factory().start()
    api = Api(first.public_url)
    try:
        customer = await make_customer(seed)
        pid = await api.paid_session(customer)
        rid = (await api.search(customer, pid))["pairing_request_id"]
        async with seed.transaction() as session:
            await session.execute(
                text("UPDATE pairing_requests SET expires_at = now() + interval '2 seconds' WHERE id = :id"),
                {"id": rid},
            )
        first.kill()  # SIGKILL: no goodbye, timers die with the process
        await asyncio.sleep(2.5)  # the window closes while no process runs
        async with seed.transaction() as session:
            status = await session.scalar(
                text("SELECT status FROM pairing_requests WHERE id = :id"), {"id": rid}
            )
        assert status == "open"
        second = server_factory().start()
        # Due deadlines are fired by the start-up poll, before the listeners open.
        async with seed.transaction() as session:
            row = (
                await session.execute(
                    text(
                        "SELECT p.status, f.cause_tag FROM payment_sessions p LEFT JOIN pairing_failures f "
                        "ON f.payment_session_id = p.id WHERE p.id = :p"
                    ),
                    {"p": pid},
                )
            ).one()
        assert tuple(row) == ("failed_pairing", "no_mitra_available")
        second.stop()
    finally:
        await api.aclose()


async def test_two_instances_customer_on_one_mitra_on_the_other(
    seed: Runtime, server_factory: type[ServerProcess], sockets: list[Socket]
) -> None:
    a, b = server_factory().start(), server_factory().start()
    api_a, api_b = Api(a.public_url), Api(b.public_url)
    try:
        mitra = await make_mitra(seed)
        mitra_ws = await Socket.open(b.ws_url, mitra.token)
        sockets.append(mitra_ws)
        await api_b.go_online(mitra)
        customer = await make_customer(seed)
        customer_ws = await Socket.open(a.ws_url, customer.token)
        sockets.append(customer_ws)
        avail = await api_a.http.get("/api/client/mitra-availability", headers=customer.headers)
        assert avail.json()["available"] is True
        rid = (await api_a.search(customer, await api_a.paid_session(customer)))["pairing_request_id"]
        await mitra_ws.expect("PAIRING_REQUEST", pairing_request_id=rid)
        chat_id = (await api_b.respond(mitra, rid, "accept")).json()["chat_session_id"]
        await customer_ws.expect("PAIRING_MATCHED", chat_session_id=chat_id)
        r = await api_b.http.post(
            f"/api/mitra/chat-sessions/{chat_id}/messages", json={"body": "hai"}, headers=mitra.headers
        )
        assert r.status_code == 201
        assert (await customer_ws.expect("CHAT_MESSAGE"))["message"]["body"] == "hai"
    finally:
        await api_a.aclose()
        await api_b.aclose()
