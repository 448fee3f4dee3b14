"""The control center's API over the real ``curhat serve`` process (both listeners, real CORS)."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.fixtures.server import ServerProcess
from tests.fixtures.ws import WsClient, eventually

pytestmark = pytest.mark.e2e

CC = "http://cc.example"


@pytest.fixture
def cc_server(server_factory: type[ServerProcess]) -> ServerProcess:
    return server_factory(
        CURHAT_BOOTSTRAP_OPERATOR_EMAIL="ops@curhat.test",
        CURHAT_BOOTSTRAP_OPERATOR_PASSWORD="rahasia-operator",
        CURHAT_CC_ORIGINS=CC,
    ).start()


async def test_operator_runs_mitra_accounts_and_reads_the_dashboard(cc_server: ServerProcess) -> None:
    async with (
        httpx.AsyncClient(base_url=cc_server.internal_url, timeout=20) as internal,
        httpx.AsyncClient(base_url=cc_server.public_url, timeout=20) as public,
    ):
        r = await internal.post(
            "/internal/auth/login", json={"email": "ops@curhat.test", "password": "rahasia-operator"}
        )
        assert r.status_code == 200, r.text
        h = {"Authorization": f"Bearer {r.json()['access_token']}"}

        r = await internal.post(
            "/internal/mitras",
            json={"phone": "0812 7777 0001", "display_name": "Bestie Rina", "password": "rahasia-123"},
            headers=h,
        )
        assert r.status_code == 201, r.text
        rina = r.json()
        assert rina["online"] is False and rina["capacity"] == 3

        # The new mitra signs in on the public listener; the internal API is not there.
        r = await public.post(
            "/api/mitra/auth/login", json={"phone": "081277770001", "password": "rahasia-123"}
        )
        assert r.status_code == 200
        mitra_token = {"Authorization": f"Bearer {r.json()['access_token']}"}
        assert (await public.get("/internal/mitras", headers=h)).status_code == 404
        # ... and a mitra token is no good on the internal one.
        assert (await internal.get("/internal/mitras", headers=mitra_token)).status_code == 401

        r = await public.post(
            "/api/client/auth/register",
            json={"phone": "081277770002", "password": "rahasia-123", "display_name": "Sari"},
        )
        assert r.status_code == 201
        customers = (await internal.get("/internal/customers?q=0812777", headers=h)).json()
        assert [c["display_name"] for c in customers["rows"]] == ["Sari"]

        r = await internal.patch(f"/internal/mitras/{rina['id']}", json={"is_active": False}, headers=h)
        assert r.status_code == 200 and r.json()["is_active"] is False
        r = await public.post(
            "/api/mitra/auth/login", json={"phone": "081277770001", "password": "rahasia-123"}
        )
        assert r.status_code == 401
        r = await internal.patch(f"/internal/mitras/{uuid.uuid4()}", json={"is_active": False}, headers=h)
        assert r.status_code == 404

        stats = (await internal.get("/internal/stats", headers=h)).json()
        assert stats["pairings"]["total"] == 0 and stats["unactioned_failures"] == 0
        sessions = (await internal.get("/internal/chat-sessions?status=active", headers=h)).json()
        assert sessions == {"rows": [], "total": 0}


async def test_browser_preflight_over_the_wire(cc_server: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=cc_server.internal_url, timeout=20) as internal:
        for method in ("PATCH", "PUT", "DELETE"):
            r = await internal.options(
                "/internal/mitras/00000000-0000-0000-0000-000000000000",
                headers={
                    "Origin": CC,
                    "Access-Control-Request-Method": method,
                    "Access-Control-Request-Headers": "authorization, content-type",
                },
            )
            assert r.status_code == 200, r.text
            assert r.headers["access-control-allow-origin"] == CC
            assert method in r.headers["access-control-allow-methods"]
        r = await internal.options(
            "/internal/mitras",
            headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "PATCH"},
        )
        assert r.status_code == 400 and "access-control-allow-origin" not in r.headers


async def test_operator_sees_a_mitra_online_and_deactivation_takes_them_offline(
    cc_server: ServerProcess,
) -> None:
    async with (
        httpx.AsyncClient(base_url=cc_server.internal_url, timeout=20) as internal,
        httpx.AsyncClient(base_url=cc_server.public_url, timeout=20) as public,
    ):
        r = await internal.post(
            "/internal/auth/login", json={"email": "ops@curhat.test", "password": "rahasia-operator"}
        )
        h = {"Authorization": f"Bearer {r.json()['access_token']}"}
        r = await internal.post(
            "/internal/mitras",
            json={"phone": "081277770003", "display_name": "Bestie Online", "password": "rahasia-123"},
            headers=h,
        )
        mitra_id = r.json()["id"]
        r = await public.post(
            "/api/mitra/auth/login", json={"phone": "081277770003", "password": "rahasia-123"}
        )
        token = r.json()["access_token"]
        mh = {"Authorization": f"Bearer {token}"}
        sock = await WsClient.open(cc_server.ws_url, token)
        try:
            r = await public.post("/api/mitra/status", json={"online": True}, headers=mh)
            assert r.status_code == 200, r.text

            async def online(expected: bool) -> bool:
                rows = (await internal.get("/internal/mitras", headers=h)).json()["rows"]
                stats = (await internal.get("/internal/stats", headers=h)).json()
                row = next(row for row in rows if row["id"] == mitra_id)
                return bool(row["online"] is expected and stats["online_mitras"] == int(expected))

            await eventually(lambda: online(True))
            r = await internal.patch(f"/internal/mitras/{mitra_id}", json={"is_active": False}, headers=h)
            assert r.status_code == 200 and r.json()["online"] is False
            await eventually(lambda: online(False))
            assert (await public.get("/api/mitra/me", headers=mh)).json()["online"] is False
            r = await public.post("/api/mitra/status", json={"online": True}, headers=mh)
            assert r.status_code == 403
        finally:
            await sock.close()
