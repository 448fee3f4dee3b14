"""Templates, flash messages carried across a POST-redirect-GET, and the redirect itself."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from curhat.web.control_center import labels
from curhat.web.control_center.sessions import COOKIE_PATH

HERE = Path(__file__).parent
FLASH_COOKIE = "cc_flash"

templates = Jinja2Templates(directory=HERE / "templates")
templates.env.filters["rupiah"] = labels.rupiah
templates.env.filters["when"] = labels.when
templates.env.filters["seconds"] = labels.seconds
templates.env.filters["cause_label"] = labels.cause_label
templates.env.filters["action_label"] = labels.action_label

NAV = [
    ("dashboard", "Dashboard", "/cc/dashboard"),
    ("failed", "Failed Pairings", "/cc/failed-pairings"),
    ("mitras", "Mitras", "/cc/mitras"),
    ("tiers", "Price tiers", "/cc/price-tiers"),
    ("settings", "Settings", "/cc/settings"),
]


def _read_flash(request: Request) -> dict[str, str] | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(raw.encode()))
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("kind") not in ("success", "error"):
        return None
    return {
        "kind": str(data["kind"]),
        "text": str(data.get("text", ""))[:300],
        "for": str(data.get("for", "")),
    }


def page(
    request: Request, template: str, context: dict[str, Any], *, status: int = 200, section: str = ""
) -> HTMLResponse:
    flash = _read_flash(request)
    response = templates.TemplateResponse(
        request, template, {"nav": NAV, "section": section, "flash": flash, **context}, status_code=status
    )
    if flash is not None:
        response.delete_cookie(FLASH_COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict")
    return response


def redirect(
    request: Request, url: str, *, success: str | None = None, error: str | None = None, target: str = ""
) -> RedirectResponse:
    """303 to a GET page, with a one-shot message that the next page shows (autoescaped there)."""
    response = RedirectResponse(url, status_code=303)
    if success or error:
        payload = {"kind": "success" if success else "error", "text": success or error, "for": target}
        response.set_cookie(
            FLASH_COOKIE,
            base64.urlsafe_b64encode(json.dumps(payload).encode()).decode(),
            max_age=60,
            path=COOKIE_PATH,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
    return response
