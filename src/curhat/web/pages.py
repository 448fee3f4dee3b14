"""Server-rendered pages for the three apps: the customer app at ``/``, the mitra app at ``/mitra/``."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from curhat.web import site
from curhat.web.customer import pages as customer_pages
from curhat.web.mitra import pages as mitra_pages

_SHELL = """<!doctype html><html lang="id"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title></head>
<body><main><h1>{title}</h1><p>{body}</p></main></body></html>"""


def _page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(_SHELL.format(title=title, body=body))


def mount_public(app: FastAPI) -> None:
    web = site.Web()
    site.install(app, web)
    customer_pages.mount(app, web)
    mitra_pages.mount(app, web)


def mount_internal(app: FastAPI) -> None:
    @app.get("/cc/", include_in_schema=False)
    async def cc_home() -> HTMLResponse:
        return _page("Curhat — Control Center", "Control center sedang disiapkan.")
