"""The web foundation without a browser: headers, asset caching, templates."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import HTMLResponse

from curhat.web import site
from curhat.web.security import CSP


@pytest.fixture
def web_root(tmp_path: Path) -> Path:
    (tmp_path / "static" / "js").mkdir(parents=True)
    (tmp_path / "static" / "js" / "a.js").write_text("export const a = 1;\n")
    (tmp_path / "static" / "icon.svg").write_text("<svg/>")
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "page.html").write_text(
        '<p>{{ name }}</p><script src="{{ asset("/static/js/a.js") }}">'
    )
    (tmp_path / "customer" / "templates").mkdir(parents=True)
    (tmp_path / "customer" / "templates" / "home.html").write_text("{% include 'page.html' %}")
    (tmp_path / "customer" / "static").mkdir()
    (tmp_path / "customer" / "static" / "app.css").write_text("body{}")
    return tmp_path


@pytest.fixture
async def client(web_root: Path) -> httpx.AsyncClient:
    app = FastAPI()
    web = site.Web(root=web_root)
    site.install(app, web)

    @app.get("/")
    async def home(request: Request) -> HTMLResponse:
        return web.render(request, "customer/home.html", name="<b>Sari</b>")

    @app.get("/docs")
    async def docs() -> HTMLResponse:
        return HTMLResponse("swagger")

    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app.test")


async def test_pages_escape_data_and_link_hashed_assets(client: httpx.AsyncClient) -> None:
    r = await client.get("/")
    assert "<p>&lt;b&gt;Sari&lt;/b&gt;</p>" in r.text
    assert '<script src="/static/js/a.js?v=' in r.text
    assert r.headers["content-security-policy"].startswith("default-src 'none'")
    assert "connect-src 'self' ws://app.test wss://app.test" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"


async def test_swagger_keeps_every_header_but_the_csp(client: httpx.AsyncClient) -> None:
    r = await client.get("/docs")
    assert "content-security-policy" not in r.headers
    assert r.headers["x-content-type-options"] == "nosniff"


async def test_assets_revalidate_by_etag_and_hashed_urls_are_immutable(client: httpx.AsyncClient) -> None:
    plain = await client.get("/static/js/a.js")
    assert plain.status_code == 200 and plain.text == "export const a = 1;\n"
    assert plain.headers["content-type"] == "text/javascript; charset=utf-8"
    assert plain.headers["cache-control"] == "no-cache"
    etag = plain.headers["etag"]
    assert (await client.get("/static/js/a.js", headers={"If-None-Match": etag})).status_code == 304
    assert (await client.get("/static/js/a.js", headers={"If-None-Match": '"other"'})).status_code == 200
    page = await client.get("/")
    url = page.text.split('src="')[1].split('"')[0]
    hashed = await client.get(url)
    assert hashed.headers["cache-control"] == "public, max-age=31536000, immutable"
    stale = await client.get("/static/js/a.js?v=000000000000")
    assert stale.headers["cache-control"] == "no-cache"
    assert (await client.get("/static/customer/app.css")).headers["content-type"].startswith("text/css")
    assert (await client.get("/static/missing.js")).status_code == 404


def test_the_csp_forbids_inline_script_and_html_sinks() -> None:
    assert "require-trusted-types-for 'script'" in CSP
    assert "trusted-types 'none'" in CSP
    assert "unsafe" not in CSP
    assert "frame-ancestors 'none'" in CSP
