"""The mitra app: the sign-in page and the app shell at ``/mitra/`` (all screens, driven by ``app.js``)."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from curhat.web.site import Web


def mount(app: FastAPI, web: Web) -> None:
    @app.get("/mitra/", include_in_schema=False)
    async def mitra_app(request: Request) -> HTMLResponse:
        return web.render(request, "mitra/app.html")

    @app.get("/mitra", include_in_schema=False)
    async def mitra_slash() -> RedirectResponse:
        return RedirectResponse("/mitra/", status_code=308)

    @app.get("/mitra/login", include_in_schema=False)
    async def mitra_login(request: Request) -> HTMLResponse:
        return web.render(request, "mitra/login.html")

    @app.get("/mitra/manifest.webmanifest", include_in_schema=False)
    async def mitra_manifest() -> Response:
        return web.manifest(name="Curhat Bestie", short_name="Bestie", start_url="/mitra/", scope="/mitra/")
