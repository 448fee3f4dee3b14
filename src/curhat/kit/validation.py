"""Input rules shared by every schema and command."""

from __future__ import annotations

import unicodedata


def has_control_chars(value: str, *, allow: str = "\n\t") -> bool:
    """PostgreSQL cannot store NUL, and no name or message needs other control characters."""
    return any(unicodedata.category(ch) == "Cc" and ch not in allow for ch in value)


def reject_control_chars(value: str) -> str:
    """For Pydantic validators: raises ValueError with the Indonesian message."""
    if has_control_chars(value):
        raise ValueError("Tidak boleh berisi karakter kontrol.")
    return value


MESSAGE_MAX_CHARS = 2000


def message_body(value: str) -> str:
    """A chat message's text: no control characters, not blank, at most 2000 characters."""
    reject_control_chars(value)
    if not value.strip():
        raise ValueError("Pesan tidak boleh kosong.")
    if len(value) > MESSAGE_MAX_CHARS:
        raise ValueError("Pesan maksimal 2000 karakter.")
    return value
