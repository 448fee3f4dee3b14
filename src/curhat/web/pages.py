"""The public listener's pages: the customer app at ``/``, the mitra app at ``/mitra/``
(the control center mounts itself on the internal listener: ``web.control_center``)."""

from __future__ import annotations

from fastapi import FastAPI

from curhat.web import site
from curhat.web.customer import pages as customer_pages
from curhat.web.mitra import pages as mitra_pages


def mount_public(app: FastAPI) -> None:
    web = site.Web()
    site.install(app, web)
    customer_pages.mount(app, web)
    mitra_pages.mount(app, web)
