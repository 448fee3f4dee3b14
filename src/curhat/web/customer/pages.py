"""The customer app: sign-in pages and the app shell at ``/`` (all screens, driven by ``app.js``)."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from curhat.web.site import Web


def mount(app: FastAPI, web: Web) -> None:
    @app.get("/", include_in_schema=False)
    async def customer_app(request: Request) -> HTMLResponse:
        return web.render(request, "customer/app.html")

    @app.get("/login", include_in_schema=False)
    async def customer_login(request: Request) -> HTMLResponse:
        return web.render(request, "customer/login.html")

    @app.get("/daftar", include_in_schema=False)
    async def customer_register(request: Request) -> HTMLResponse:
        return web.render(request, "customer/register.html")

    @app.get("/register", include_in_schema=False)
    async def register_alias() -> RedirectResponse:
        return RedirectResponse("/daftar", status_code=308)

    @app.get("/manifest.webmanifest", include_in_schema=False)
    async def customer_manifest() -> Response:
        return web.manifest(name="Curhat", short_name="Curhat", start_url="/", scope="/")
