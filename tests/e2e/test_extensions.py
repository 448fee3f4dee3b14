"""Extensions end to end: approve, reject, auto-approve with and without the mitra's socket, auto-reject."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from curhat.runtime import Runtime
from tests.e2e.conftest import set_config
from tests.e2e.flows import Api, Chat, Socket, open_chat
from tests.fixtures.server import ServerProcess

pytestmark = pytest.mark.e2e


async def _expire(seed: Runtime, ext_id: str) -> None:
    async with seed.transaction() as session:
        await session.execute(
            text("UPDATE extension_requests SET expires_at = now() WHERE id = :id"), {"id": ext_id}
        )


async def _payment_status(api: Api, chat: Chat, pid: str) -> str:
    return str((await api.payment(chat.customer, pid))["status"])


async def test_mitra_approves_charge_happens_and_time_moves(
    seed: Runtime, server: ServerProcess, api: Api, sockets: list[Socket]
) -> None:
    chat = await open_chat(seed, server.ws_url, api, sockets)
    before = await chat.ends_at()
    pid = await chat.extension_payment(15)
    ext = await chat.request(pid)
    card = await chat.mitra_ws.expect("EXTENSION_REQUEST")
    assert card["default_action"] == "auto_approve" and card["duration_minutes"] == 15
    r = await api.http.post(
        f"/api/mitra/extension-requests/{ext['extension_request_id']}/respond",
        json={"action": "approve"},
        headers=chat.mitra.headers,
    )
    assert r.status_code == 200 and r.json()["status"] == "approved"
    for ws in (chat.customer_ws, chat.mitra_ws):
        approved = await ws.expect("EXTENSION_APPROVED")
        assert approved["resolution"] == "mitra"
    assert await _payment_status(api, chat, pid) == "consumed"
    assert await chat.ends_at() > before
    again = await api.http.post(
        f"/api/mitra/extension-requests/{ext['extension_request_id']}/respond",
        json={"action": "approve"},
        headers=chat.mitra.headers,
    )
    assert again.status_code == 409 and again.json()["error"] == "extension_resolved"


async def test_mitra_rejects_no_charge(
    seed: Runtime, server: ServerProcess, api: Api, sockets: list[Socket]
) -> None:
    chat = await open_chat(seed, server.ws_url, api, sockets)
    before = await chat.ends_at()
    pid = await chat.extension_payment()
    ext = await chat.request(pid)
    r = await api.http.post(
        f"/api/mitra/extension-requests/{ext['extension_request_id']}/respond",
        json={"action": "reject"},
        headers=chat.mitra.headers,
    )
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    await chat.customer_ws.expect("EXTENSION_REJECTED", resolution="mitra")
    assert await _payment_status(api, chat, pid) == "voided"
    assert await chat.ends_at() == before


async def test_one_pending_extension_and_free_trial_or_plain_sessions_refused(
    seed: Runtime, server: ServerProcess, api: Api, sockets: list[Socket]
) -> None:
    chat = await open_chat(seed, server.ws_url, api, sockets)
    await chat.request(await chat.extension_payment())
    second = await chat.extension_payment()
    r = await api.http.post(
        f"/api/client/chat-sessions/{chat.id}/extensions",
        json={"extension_payment_session_id": second},
        headers=chat.customer.headers,
    )
    assert r.status_code == 409 and r.json()["error"] == "extension_pending"
    plain = await api.paid_session(chat.customer)
    r = await api.http.post(
        f"/api/client/chat-sessions/{chat.id}/extensions",
        json={"extension_payment_session_id": plain},
        headers=chat.customer.headers,
    )
    assert r.status_code == 400


async def test_auto_approve_when_mitra_still_connected(
    seed: Runtime, server: ServerProcess, api: Api, sockets: list[Socket]
) -> None:
    chat = await open_chat(seed, server.ws_url, api, sockets)
    pid = await chat.extension_payment()
    ext = await chat.request(pid)
    await _expire(seed, ext["extension_request_id"])
    approved = await chat.customer_ws.expect("EXTENSION_APPROVED", timeout=5)
    assert approved["resolution"] == "auto_approve"
    assert await _payment_status(api, chat, pid) == "consumed"
    late = await api.http.post(
        f"/api/mitra/extension-requests/{ext['extension_request_id']}/respond",
        json={"action": "approve"},
        headers=chat.mitra.headers,
    )
    assert late.status_code == 409


async def test_auto_approve_with_socket_dropped_rejects_without_charge(
    seed: Runtime, server: ServerProcess, api: Api, sockets: list[Socket]
) -> None:
    chat = await open_chat(seed, server.ws_url, api, sockets)
    pid = await chat.extension_payment()
    ext = await chat.request(pid)
    await chat.mitra_ws.expect("EXTENSION_REQUEST")
    await chat.mitra_ws.close()
    sockets.remove(chat.mitra_ws)
    # The server has noticed the goodbye once the mitra reads as offline.
    for _ in range(100):
        me = await api.http.get("/api/mitra/me", headers=chat.mitra.headers)
        if me.json()["online"] is False:
            break
        await asyncio.sleep(0.05)
    assert me.json()["online"] is False
    await _expire(seed, ext["extension_request_id"])
    rejected = await chat.customer_ws.expect("EXTENSION_REJECTED", timeout=5)
    assert rejected["resolution"] == "mitra_offline"
    assert await _payment_status(api, chat, pid) == "voided"


async def test_auto_reject_mode(
    seed: Runtime, server_factory: type[ServerProcess], sockets: list[Socket]
) -> None:
    await set_config(seed, "extension_default_action_on_timeout", "auto_reject")
    server = server_factory().start()
    api = Api(server.public_url)
    try:
        chat = await open_chat(seed, server.ws_url, api, sockets)
        pid = await chat.extension_payment()
        ext = await chat.request(pid)
        card = await chat.mitra_ws.expect("EXTENSION_REQUEST")
        assert card["default_action"] == "auto_reject"
        await _expire(seed, ext["extension_request_id"])
        rejected = await chat.mitra_ws.expect("EXTENSION_REJECTED", timeout=5)
        assert rejected["resolution"] == "auto_reject"
        assert await _payment_status(api, chat, pid) == "voided"
    finally:
        await api.aclose()
