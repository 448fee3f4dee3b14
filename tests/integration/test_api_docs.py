"""API docs that work offline and read well."""

from __future__ import annotations

import re

import httpx


async def test_docs_work_offline(public: httpx.AsyncClient, internal: httpx.AsyncClient) -> None:
    for client in (public, internal):
        await _docs_load_everything_from_this_server(client)


async def test_openapi_reads_well(public: httpx.AsyncClient, internal: httpx.AsyncClient) -> None:
    for client in (public, internal):
        await _openapi_reads_well(client)


async def _docs_load_everything_from_this_server(client: httpx.AsyncClient) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200 and "swagger-ui" in page.text
    urls = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert urls and all(u.startswith("/docs/") for u in urls), urls  # nothing from a CDN
    for url in urls:
        asset = await client.get(url)
        assert asset.status_code == 200 and len(asset.content) > 0, url
    assert "SwaggerUIBundle" in (await client.get("/docs/assets/swagger-ui-bundle.js")).text


async def _openapi_reads_well(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    assert "/metrics" not in schema["paths"]
    declared = {t["name"] for t in schema["tags"]}
    assert all(t.get("description") for t in schema["tags"])
    ids = []
    for path, operations in schema["paths"].items():
        for method, op in operations.items():
            ids.append(op["operationId"])
            assert len(op["operationId"]) <= 40, op["operationId"]
            assert op.get("description"), f"{method} {path} has no description"
            assert set(op["tags"]) <= declared, path
            if op.get("security"):
                assert "401" in op["responses"], f"{method} {path} needs a token but documents no 401"
    assert len(ids) == len(set(ids))
    codes = schema["components"]["schemas"]["Error"]["properties"]["error"]["enum"]
    assert {"validation_error", "already_taken", "payment_session_expired", "phone_taken"} <= set(codes)
