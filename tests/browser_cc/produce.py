"""Failed pairings and matches made the way customers and mitras make them: through the public API."""

from __future__ import annotations

import asyncio

from curhat.runtime import Runtime
from tests.e2e.flows import Api, Socket
from tests.fixtures.factories import Account, make_chat, make_customer, make_mitra


async def cancelled_searches(api: Api, customer: Account, n: int) -> list[str]:
    """``n`` paid searches the customer cancels (no mitra online): ``customer_cancelled`` rows."""
    ids = []
    for _ in range(n):
        pid = await api.paid_session(customer)
        await api.search(customer, pid)
        r = await api.http.post(
            "/api/client/chat-requests/cancel", json={"payment_session_id": pid}, headers=customer.headers
        )
        assert r.status_code == 200 and r.json()["cause_tag"] == "customer_cancelled", r.text
        ids.append(pid)
    return ids


async def many_cancelled(seed: Runtime, api: Api, n: int, customers: int = 4) -> list[str]:
    people = [await make_customer(seed, f"Pelanggan Batal {i + 1}") for i in range(customers)]
    shares = [n // customers + (1 if i < n % customers else 0) for i in range(customers)]
    done = await asyncio.gather(*(cancelled_searches(api, c, k) for c, k in zip(people, shares, strict=True)))
    return [pid for batch in done for pid in batch]


async def online_mitra(
    seed: Runtime, api: Api, ws_url: str, sockets: list[Socket], name: str
) -> tuple[Account, Socket]:
    mitra = await make_mitra(seed, name)
    sock = await Socket.open(ws_url, mitra.token)
    sockets.append(sock)
    await api.go_online(mitra)
    return mitra, sock


async def rejected_search(api: Api, customer: Account, mitra: Account, mitra_ws: Socket) -> str:
    """The only online mitra rejects: ``all_mitras_rejected``."""
    pid = await api.paid_session(customer)
    rid = (await api.search(customer, pid))["pairing_request_id"]
    await mitra_ws.expect("PAIRING_REQUEST", pairing_request_id=rid)
    assert (await api.respond(mitra, rid, "reject")).status_code == 200
    assert (await api.payment(customer, pid))["pairing"]["cause_tag"] == "all_mitras_rejected"
    return pid


async def matched_chat(api: Api, customer: Account, mitra: Account, mitra_ws: Socket) -> str:
    """A search the mitra accepts; the customer ends the chat at once, freeing the mitra's slot."""
    pid = await api.paid_session(customer)
    rid = (await api.search(customer, pid))["pairing_request_id"]
    await mitra_ws.expect("PAIRING_REQUEST", pairing_request_id=rid)
    r = await api.respond(mitra, rid, "accept")
    assert r.status_code == 200, r.text
    chat_id = r.json()["chat_session_id"]
    r = await api.http.post(f"/api/client/chat-sessions/{chat_id}/end", headers=customer.headers)
    assert r.status_code == 200, r.text
    return pid


async def targeted_offline(seed: Runtime, api: Api, customer: Account, mitra: Account) -> str:
    """ "Curhat lagi" to a past mitra who is offline: ``targeted_mitra_offline`` at once."""
    await make_chat(seed, customer.id, mitra.id, ended=True, paid=True)
    pid = await api.paid_session(customer, targeted_mitra_id=mitra.id)
    r = await api.http.post(
        "/api/client/chat-requests/returning",
        json={"payment_session_id": pid, "mitra_id": str(mitra.id)},
        headers=customer.headers,
    )
    assert r.status_code == 409 and r.json()["reason"] == "targeted_mitra_offline", r.text
    return pid
