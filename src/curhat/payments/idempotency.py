"""``Idempotency-Key`` on create: the same key and body within 24 h replays the first answer.

Requests with one (customer, key) are serialised by a transaction-scoped advisory lock, so
of N concurrent duplicates exactly one creates; the others wait for its commit and then
read the stored answer. Errors are not stored: a failed attempt may be retried with the key.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from curhat.kit.locks import advisory_xact_lock, lock_key
from curhat.models import IdempotencyKey
from curhat.payments.errors import IdempotencyKeyReused

TTL = timedelta(hours=24)


@dataclass(frozen=True)
class StoredAnswer:
    status_code: int
    body: dict[str, Any]


def request_hash(body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def run_once(
    session: AsyncSession,
    customer_id: uuid.UUID,
    key: str,
    body: dict[str, Any],
    produce: Callable[[], Awaitable[StoredAnswer]],
) -> StoredAnswer:
    """The stored answer for (customer, key), or ``produce()``'s, stored in this transaction."""
    digest = request_hash(body)
    await advisory_xact_lock(session, lock_key("idempotency", str(customer_id), key))
    row = (
        await session.scalars(
            select(IdempotencyKey)
            .where(IdempotencyKey.customer_id == customer_id, IdempotencyKey.key == key)
            .execution_options(populate_existing=True)
        )
    ).one_or_none()
    if row is not None:
        fresh = row.created_at > datetime.now(UTC) - TTL
        if fresh and row.response is not None and row.status_code is not None:
            if row.request_hash != digest:
                raise IdempotencyKeyReused()
            return StoredAnswer(row.status_code, dict(row.response))
        await session.execute(
            delete(IdempotencyKey).where(IdempotencyKey.customer_id == customer_id, IdempotencyKey.key == key)
        )
    answer = await produce()
    await session.execute(
        insert(IdempotencyKey).values(
            customer_id=customer_id,
            key=key,
            request_hash=digest,
            response=answer.body,
            status_code=answer.status_code,
        )
    )
    return answer


async def purge_expired(session: AsyncSession) -> int:
    """Keys older than 24 h answer nothing any more; the sweeper deletes them."""
    result = await session.execute(
        delete(IdempotencyKey)
        .where(IdempotencyKey.created_at <= func.now() - TTL)
        .returning(IdempotencyKey.key)
    )
    return len(result.all())
