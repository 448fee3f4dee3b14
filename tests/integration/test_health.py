import httpx
from sqlalchemy import text

from curhat.runtime import Runtime


async def test_health_ready_metrics_and_openapi_on_both_listeners(
    public: httpx.AsyncClient, internal: httpx.AsyncClient
) -> None:
    for client in (public, internal):
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        ready = await client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["checks"] == {"postgres": "ok", "valkey": "ok"}
        metrics = await client.get("/metrics")
        assert "curhat_http_requests_total" in metrics.text
        assert (await client.get("/openapi.json")).status_code == 200
    assert "/internal/config" not in (await public.get("/openapi.json")).json()["paths"]
    assert "/api/client/auth/register" not in (await internal.get("/openapi.json")).json()["paths"]


async def test_unknown_path_uses_the_error_envelope(public: httpx.AsyncClient) -> None:
    r = await public.get("/api/client/nope")
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    assert r.headers["x-request-id"]


async def test_internal_routes_do_not_answer_on_the_public_listener(public: httpx.AsyncClient) -> None:
    for path in ("/internal/config", "/internal/auth/login"):
        assert (await public.get(path)).status_code == 404


async def test_metrics_report_time_spent_waiting_for_a_pooled_connection(
    public: httpx.AsyncClient, runtime: Runtime
) -> None:
    """The load tool reads pool waits from /metrics: every checkout is counted there."""
    async with runtime.transaction() as session:
        await session.execute(text("SELECT 1"))
    metrics = (await public.get("/metrics")).text
    count = next(
        float(line.split()[-1])
        for line in metrics.splitlines()
        if line.startswith("curhat_db_pool_wait_seconds_count")
    )
    assert count >= 1
    assert "curhat_db_pool_timeouts_total 0.0" in metrics
