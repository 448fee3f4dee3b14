"""The shared web foundation of the public listener: templates, static files, headers, manifest.

Each app lives in its own folder beside this one (``customer/``, ``mitra/``) with
``templates/`` (loaded as ``<app>/<name>.html``) and ``static/`` (served at
``/static/<app>/``); shared templates and modules are in ``templates/`` and ``static/``
here. An app's ``pages.mount(app, web)`` adds its routes and renders with ``web.render``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PrefixLoader,
    StrictUndefined,
    select_autoescape,
)
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from curhat.web.assets import AssetStore
from curhat.web.security import SecurityHeadersMiddleware

WEB_DIR = Path(__file__).parent
APPS = ("customer", "mitra")
THEME_COLOR = "#6d28d9"


class Web:
    """Templates and static files of the web apps on one listener."""

    def __init__(self, root: Path = WEB_DIR, apps: tuple[str, ...] = APPS) -> None:
        self.assets = AssetStore()
        self.assets.add_directory("/static/", root / "static")
        prefixed: dict[str, FileSystemLoader] = {}
        for name in apps:
            if (root / name / "templates").is_dir():
                prefixed[name] = FileSystemLoader(root / name / "templates")
            if (root / name / "static").is_dir():
                self.assets.add_directory(f"/static/{name}/", root / name / "static")
        self.env = Environment(
            loader=ChoiceLoader([FileSystemLoader(root / "templates"), PrefixLoader(prefixed)]),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.globals["asset"] = self.assets.url
        self.env.globals["theme_color"] = THEME_COLOR

    def render(self, request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        html = self.env.get_template(template).render(request=request, **context)
        return HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-cache"})

    def manifest(self, *, name: str, short_name: str, start_url: str, scope: str) -> Response:
        """A web app manifest, so the app installs to a phone's home screen."""
        body = {
            "name": name,
            "short_name": short_name,
            "lang": "id",
            "start_url": start_url,
            "scope": scope,
            "display": "standalone",
            "background_color": "#ffffff",
            "theme_color": THEME_COLOR,
            "icons": [
                {"src": self.assets.url("/static/icon.svg"), "sizes": "any", "type": "image/svg+xml"},
                {
                    "src": self.assets.url("/static/icon.svg"),
                    "sizes": "any",
                    "type": "image/svg+xml",
                    "purpose": "maskable",
                },
            ],
        }
        return Response(
            json.dumps(body, ensure_ascii=False),
            media_type="application/manifest+json",
            headers={"Cache-Control": "no-cache"},
        )


def install(app: FastAPI, web: Web) -> None:
    """Headers on every response of this listener, and ``/static/...`` from memory."""
    app.add_middleware(SecurityHeadersMiddleware)

    @app.get("/static/{path:path}", include_in_schema=False)
    async def static(request: Request, path: str) -> Response:
        return web.assets.response(request)
