"""Indonesian mobile numbers, normalised to E.164 (``0812…`` and ``62812…`` → ``+62812…``)."""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s\-().]")
_E164_ID_MOBILE = re.compile(r"^\+628\d{7,11}$")


def normalise_phone(raw: str) -> str:
    """Return the E.164 form, or raise ValueError."""
    s = _SEPARATORS.sub("", raw.strip())
    if s.startswith("+"):
        candidate = s
    elif s.startswith("62"):
        candidate = "+" + s
    elif s.startswith("0"):
        candidate = "+62" + s[1:]
    elif s.startswith("8"):
        candidate = "+62" + s
    else:
        candidate = s
    if not _E164_ID_MOBILE.match(candidate):
        raise ValueError("Nomor HP harus nomor seluler Indonesia, misalnya 0812xxxxxxxx.")
    return candidate
