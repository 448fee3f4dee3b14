"""Sign in and out."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from curhat.auth import service as auth_service
from curhat.deps import runtime_of
from curhat.errors import TooManyAttempts, Unauthorized
from curhat.postgres import SessionDep
from curhat.web.control_center import render, sessions
from curhat.web.control_center.forms import fields

router = APIRouter()


@router.get("/")
async def home(request: Request) -> RedirectResponse:
    found = await sessions.operator_id(runtime_of(request), request.cookies.get(sessions.COOKIE))
    return RedirectResponse("/cc/dashboard" if found else "/cc/login", status_code=303)


@router.get("/login")
async def login_page(request: Request) -> HTMLResponse:
    next_url = sessions.safe_next(request.query_params.get("next"))
    return render.page(request, "login.html", {"next": next_url, "email": "", "error": None})


@router.post("/login", response_model=None)
async def login(request: Request, session: SessionDep) -> Response:
    form = await fields(request, "email", "password", "next")
    next_url = sessions.safe_next(form["next"])
    runtime = runtime_of(request)
    address = request.client.host if request.client else "unknown"
    error = None
    if not form["email"].strip() or not form["password"] or len(form["email"]) > 254:
        error = "Isi email dan kata sandi."
    else:
        try:
            user = await auth_service.login_operator(
                session,
                runtime.passwords,
                runtime.login_limiter,
                form["email"],
                form["password"][:256],
                address,
            )
        except Unauthorized:
            error = "Email atau kata sandi salah."
        except TooManyAttempts:
            error = "Terlalu banyak percobaan masuk. Coba lagi beberapa menit lagi."
    if error is not None:
        context = {"next": next_url, "email": form["email"], "error": error}
        return render.page(request, "login.html", context, status=400)
    response = render.redirect(request, next_url)
    sessions.set_cookie(response, request, await sessions.start(runtime, user.id))
    return response


@router.post("/logout")
async def logout(request: Request) -> RedirectResponse:
    await sessions.end(runtime_of(request), request.cookies.get(sessions.COOKIE))
    response = render.redirect(request, "/cc/login", success="Signed out.")
    sessions.clear_cookie(response)
    return response
