"""Transaction-scoped advisory locks: serialise work that has no row to lock yet."""

from __future__ import annotations

import hashlib

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


def lock_key(*parts: str) -> int:
    """A signed 64-bit advisory-lock key from text parts."""
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


async def advisory_xact_lock(session: AsyncSession, key: int) -> None:
    """Held until the transaction ends; another transaction asking for ``key`` waits."""
    await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})
