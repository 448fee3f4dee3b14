"""Small input rules shared by the schemas."""

from __future__ import annotations

import unicodedata


def reject_control_chars(value: str) -> str:
    """PostgreSQL cannot store NUL, and no name or message needs control characters."""
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in value):
        raise ValueError("Tidak boleh berisi karakter kontrol.")
    return value
