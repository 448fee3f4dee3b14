"""The control center at ``/cc/`` on the internal listener.

Server-rendered pages (Jinja2) over the same services as ``/internal/*``: GET forms keep
filters in the URL, every change is a POST answered by a 303 redirect, operators sign in
with a cookie session. See docs/control-center.md.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from curhat.errors import CurhatError, error_response
from curhat.web.control_center import (
    auth_pages,
    dashboard,
    failed_pairings,
    mitras,
    price_tiers,
    render,
    settings_page,
)
from curhat.web.control_center.security import PREFIX, SecurityHeaders, same_origin
from curhat.web.control_center.sessions import LoginRequired


def router() -> APIRouter:
    cc = APIRouter(prefix=PREFIX, include_in_schema=False, dependencies=[Depends(same_origin)])
    for module in (auth_pages, dashboard, failed_pairings, mitras, price_tiers, settings_page):
        cc.include_router(module.router)
    return cc


def _ours(request: Request) -> bool:
    return request.url.path.startswith(PREFIX + "/")


def mount(app: FastAPI) -> None:
    app.include_router(router())
    app.mount(f"{PREFIX}/static", StaticFiles(directory=render.HERE / "static"), name="cc-static")

    @app.get(PREFIX, include_in_schema=False)
    async def cc_root() -> RedirectResponse:
        return RedirectResponse(f"{PREFIX}/", status_code=308)

    async def on_login_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        if request.url.path.endswith(".json"):
            return JSONResponse({"error": "unauthorized", "message": "Sign in again."}, status_code=401)
        query = (
            "?" + urlencode({"next": exc.next_url}) if exc.next_url not in ("/cc/", "/cc/dashboard") else ""
        )
        return RedirectResponse(f"{PREFIX}/login{query}", status_code=303)

    # Replaces the JSON-only handler: the API keeps its envelope, pages get a page.
    async def on_curhat_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, CurhatError)
        if not _ours(request) or request.url.path.endswith((".json", ".csv")):
            return error_response(exc)
        context = {"operator": None, "message": exc.message, "back": f"{PREFIX}/"}
        return render.page(request, "error.html", context, status=exc.status)

    app.add_exception_handler(LoginRequired, on_login_required)
    app.add_exception_handler(CurhatError, on_curhat_error)
    app.add_middleware(SecurityHeaders)
