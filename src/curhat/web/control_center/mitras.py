"""Mitras: accounts (create, deactivate, reset password) with live presence and load."""

from __future__ import annotations

import math
import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from curhat.auth.service import PhoneTaken
from curhat.deps import ConfigDep, PresenceDep, runtime_of
from curhat.kit.pagination import Page
from curhat.mitras import service
from curhat.mitras.schemas import MitraCreateIn, MitraPatchIn
from curhat.postgres import SessionDep
from curhat.web.control_center import render
from curhat.web.control_center.forms import fields, parse
from curhat.web.control_center.sessions import CurrentOperatorPage, Operator

router = APIRouter()

PAGE_SIZE = 50


def _page_number(request: Request) -> int:
    try:
        return max(1, min(int(request.query_params.get("page", "1")), 1_000_000))
    except ValueError:
        return 1


def _page(number: int) -> Page:
    return Page(PAGE_SIZE, (number - 1) * PAGE_SIZE)


async def _list_page(
    request: Request,
    operator: Operator,
    session: SessionDep,
    presence: PresenceDep,
    config: ConfigDep,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    number = _page_number(request)
    rows, total = await service.list_mitras(session, presence, config, _page(number))
    context: dict[str, Any] = {
        "operator": operator,
        "rows": rows,
        "total": total,
        "page": number,
        "pages": max(1, math.ceil(total / PAGE_SIZE)),
        "online_now": await presence.online_count(),
        "form": form or {"phone": "", "display_name": ""},
        "errors": errors or {},
        "live_url": f"/cc/mitras/live.json?page={number}",
    }
    return render.page(request, "mitras.html", context, status=400 if errors else 200, section="mitras")


@router.get("/mitras")
async def mitras(
    request: Request,
    operator: CurrentOperatorPage,
    session: SessionDep,
    presence: PresenceDep,
    config: ConfigDep,
) -> HTMLResponse:
    return await _list_page(request, operator, session, presence, config)


@router.get("/mitras/live.json")
async def live(
    request: Request,
    operator: CurrentOperatorPage,
    session: SessionDep,
    presence: PresenceDep,
    config: ConfigDep,
) -> dict[str, Any]:
    """What the page's script refreshes every few seconds: presence and load of the rows shown."""
    rows, _ = await service.list_mitras(session, presence, config, _page(_page_number(request)))
    return {
        "online_now": await presence.online_count(),
        "rows": [
            {
                "id": str(r.mitra.id),
                "online": r.online,
                "active_sessions": r.active_sessions,
                "capacity": r.capacity,
            }
            for r in rows
        ],
    }


@router.post("/mitras", response_model=None)
async def create(
    request: Request,
    operator: CurrentOperatorPage,
    session: SessionDep,
    presence: PresenceDep,
    config: ConfigDep,
) -> Response:
    passwords = runtime_of(request).passwords
    form = await fields(request, "phone", "display_name", "password")
    body, errors = parse(MitraCreateIn, dict(form))
    if body is not None:
        try:
            row = await service.create_mitra(
                session, presence, config, passwords, body.phone, body.display_name, body.password
            )
        except PhoneTaken:
            errors = {"phone": "Nomor HP ini sudah dipakai bestie lain."}
        else:
            message = f"Mitra “{row.mitra.display_name}” created; they can sign in with {row.mitra.phone}."
            return render.redirect(request, "/cc/mitras", success=message, target=str(row.mitra.id))
    shown = {"phone": form["phone"], "display_name": form["display_name"]}
    return await _list_page(request, operator, session, presence, config, form=shown, errors=errors)


@router.get("/mitras/{mitra_id}/deactivate")
async def confirm_deactivate(
    request: Request,
    mitra_id: uuid.UUID,
    operator: CurrentOperatorPage,
    session: SessionDep,
    presence: PresenceDep,
    config: ConfigDep,
) -> HTMLResponse:
    row = await service.get_mitra(session, presence, config, mitra_id)
    return render.page(request, "mitra_deactivate.html", {"operator": operator, "row": row}, section="mitras")


async def _set_active(
    request: Request,
    session: SessionDep,
    presence: PresenceDep,
    config: ConfigDep,
    mitra_id: uuid.UUID,
    active: bool,
) -> RedirectResponse:
    # A deactivated mitra is taken offline by the service once the change has committed.
    changes = service.MitraChanges(is_active=active)
    row = await service.update_mitra(
        session, presence, config, runtime_of(request).passwords, mitra_id, changes
    )
    name = row.mitra.display_name
    message = f"“{name}” is active again." if active else f"“{name}” deactivated and taken offline."
    return render.redirect(request, "/cc/mitras", success=message, target=str(mitra_id))


@router.post("/mitras/{mitra_id}/deactivate")
async def deactivate(
    request: Request,
    mitra_id: uuid.UUID,
    operator: CurrentOperatorPage,
    session: SessionDep,
    presence: PresenceDep,
    config: ConfigDep,
) -> RedirectResponse:
    return await _set_active(request, session, presence, config, mitra_id, False)


@router.post("/mitras/{mitra_id}/activate")
async def activate(
    request: Request,
    mitra_id: uuid.UUID,
    operator: CurrentOperatorPage,
    session: SessionDep,
    presence: PresenceDep,
    config: ConfigDep,
) -> RedirectResponse:
    return await _set_active(request, session, presence, config, mitra_id, True)


@router.get("/mitras/{mitra_id}/password")
async def password_page(
    request: Request,
    mitra_id: uuid.UUID,
    operator: CurrentOperatorPage,
    session: SessionDep,
    presence: PresenceDep,
    config: ConfigDep,
) -> HTMLResponse:
    row = await service.get_mitra(session, presence, config, mitra_id)
    return render.page(
        request, "mitra_password.html", {"operator": operator, "row": row, "error": None}, section="mitras"
    )


@router.post("/mitras/{mitra_id}/password", response_model=None)
async def reset_password(
    request: Request,
    mitra_id: uuid.UUID,
    operator: CurrentOperatorPage,
    session: SessionDep,
    presence: PresenceDep,
    config: ConfigDep,
) -> Response:
    form = await fields(request, "password")
    body, errors = parse(MitraPatchIn, {"password": form["password"]})
    if body is None or body.password is None:
        row = await service.get_mitra(session, presence, config, mitra_id)
        error = errors.get("password", "Kata sandi minimal 8 karakter.")
        context = {"operator": operator, "row": row, "error": error}
        return render.page(request, "mitra_password.html", context, status=400, section="mitras")
    changes = service.MitraChanges(password=body.password)
    passwords = runtime_of(request).passwords
    row = await service.update_mitra(session, presence, config, passwords, mitra_id, changes)
    message = f"New password set for “{row.mitra.display_name}”. Give it to them privately."
    return render.redirect(request, "/cc/mitras", success=message, target=str(mitra_id))
