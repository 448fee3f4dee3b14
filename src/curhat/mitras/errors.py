"""Errors about mitra accounts, raised by every domain that looks a mitra up."""

from __future__ import annotations

from curhat.errors import NotFound


class MitraNotFound(NotFound):
    code = "mitra_not_found"
    message = "Bestie tidak ditemukan."
