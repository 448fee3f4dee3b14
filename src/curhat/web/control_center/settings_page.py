"""Settings: one form per config key, saved on its own."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from curhat.app_config import service
from curhat.app_config.definitions import CONFIG_KEYS, ENUM_LABELS
from curhat.deps import ConfigServiceDep
from curhat.errors import CurhatError, ValidationFailed
from curhat.postgres import SessionDep
from curhat.web.control_center import render
from curhat.web.control_center.forms import fields
from curhat.web.control_center.sessions import CurrentOperatorPage, Operator

router = APIRouter()


async def _page(
    request: Request,
    operator: Operator,
    session: SessionDep,
    *,
    error_key: str | None = None,
    error: str | None = None,
    submitted: str | None = None,
) -> HTMLResponse:
    rows = await service.list_settings(session)
    context = {
        "operator": operator,
        "rows": rows,
        "enum_labels": ENUM_LABELS,
        "error_key": error_key,
        "error": error,
        "submitted": submitted,
        "inline_flash": True,
    }
    return render.page(request, "settings.html", context, status=400 if error else 200, section="settings")


@router.get("/settings")
async def settings(request: Request, operator: CurrentOperatorPage, session: SessionDep) -> HTMLResponse:
    return await _page(request, operator, session)


@router.post("/settings/{key}", response_model=None)
async def save_setting(
    request: Request,
    key: str,
    operator: CurrentOperatorPage,
    session: SessionDep,
    config: ConfigServiceDep,
) -> Response:
    form = await fields(request, "value")
    definition = CONFIG_KEYS.get(key)
    try:
        await config.update(session, key, form["value"], operator.id)
    except ValidationFailed as exc:
        reason = exc.extra["fields"][0]["message"] if exc.extra.get("fields") else exc.message
        error = f"Tidak disimpan: nilai {reason}."
        return await _page(request, operator, session, error_key=key, error=error, submitted=form["value"])
    except CurhatError as exc:
        return await _page(request, operator, session, error_key=key, error=f"Tidak disimpan: {exc.message}")
    label = definition.label if definition else key
    response: RedirectResponse = render.redirect(
        request, f"/cc/settings#setting-{key}", success=f"Disimpan: {label}.", target=key
    )
    return response
