"""Settings changed through the control-center API drive the next deadlines (seed checklist)."""

from __future__ import annotations

import time

import httpx
import pytest

from curhat.runtime import Runtime
from tests.e2e.conftest import OnlineMitra
from tests.e2e.flows import Api, Socket, open_chat
from tests.e2e.test_returning import _past_chat, _returning
from tests.fixtures.factories import make_operator
from tests.fixtures.server import ServerProcess

pytestmark = pytest.mark.e2e


async def _patch(server: ServerProcess, seed: Runtime, key: str, value: object) -> None:
    operator = await make_operator(seed)
    async with httpx.AsyncClient(base_url=server.internal_url) as cc:
        r = await cc.patch(f"/internal/config/{key}", json={"value": value}, headers=operator.headers)
        assert r.status_code == 200, r.text


async def test_returning_timeout_follows_the_setting(
    seed: Runtime, server: ServerProcess, api: Api, sockets: list[Socket], online_mitra: OnlineMitra
) -> None:
    mitra, mitra_ws = await online_mitra()
    customer, customer_ws = await _past_chat(seed, server, api, sockets, mitra, mitra_ws)
    await _patch(server, seed, "returning_chat_confirmation_timeout_seconds", 5)
    started = time.monotonic()
    _, body, status = await _returning(api, customer, mitra)
    assert status == 202
    offer = await mitra_ws.expect("PAIRING_REQUEST", pairing_request_id=body["pairing_request_id"])
    assert offer["seconds_remaining"] <= 5
    await customer_ws.expect("RETURNING_CHAT_TIMEOUT", timeout=10)
    elapsed = time.monotonic() - started
    assert 4.0 <= elapsed < 7.0, elapsed


async def test_extension_timeout_follows_the_setting(
    seed: Runtime, server: ServerProcess, api: Api, sockets: list[Socket], online_mitra: OnlineMitra
) -> None:
    await _patch(server, seed, "extension_timeout_seconds", 5)
    await _patch(server, seed, "extension_default_action_on_timeout", "auto_reject")
    chat = await open_chat(seed, server.ws_url, api, sockets)
    pid = await chat.extension_payment()
    started = time.monotonic()
    await chat.request(pid)
    card = await chat.mitra_ws.expect("EXTENSION_REQUEST")
    assert card["default_action"] == "auto_reject"
    rejected = await chat.customer_ws.expect("EXTENSION_REJECTED", timeout=10)
    assert rejected["resolution"] == "auto_reject"
    assert 4.0 <= time.monotonic() - started < 7.0
