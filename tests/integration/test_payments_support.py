"""Arrangements shared by the payment, pricing and failed-pairing tests (no tests here).

Rows a pairing or a chat would create are inserted directly: these tests are about the
payment rules, not about how pairing gets there.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text

from curhat.models import PairingFailure, PairingRequest, PaymentSession
from curhat.runtime import Runtime
from tests.fixtures.factories import Account, make_chat

BASE = "/api/client/payment-sessions"


def now() -> datetime:
    return datetime.now(UTC)


async def insert_payment(
    runtime: Runtime,
    customer: Account,
    *,
    status: str = "confirmed",
    amount: int = 25000,
    duration: int = 30,
    free: bool = False,
    extension: bool = False,
    chat_id: uuid.UUID | None = None,
    targeted: uuid.UUID | None = None,
    expires_in: timedelta = timedelta(minutes=20),
    created_at: datetime | None = None,
) -> uuid.UUID:
    async with runtime.transaction() as session:
        p = PaymentSession(
            id=uuid.uuid4(),
            customer_id=customer.id,
            amount=0 if free else amount,
            duration_minutes=duration,
            is_free_trial=free,
            status=status,
            targeted_mitra_id=targeted,
            is_extension=extension,
            chat_session_id=chat_id,
            created_at=created_at or now(),
            expires_at=now() + expires_in,
        )
        session.add(p)
    return p.id


async def insert_chat(
    runtime: Runtime,
    customer: Account,
    mitra: Account,
    *,
    active: bool = True,
    payment_id: uuid.UUID | None = None,
) -> uuid.UUID:
    return await make_chat(runtime, customer.id, mitra.id, ended=not active, payment_id=payment_id)


async def insert_request(
    runtime: Runtime,
    customer: Account,
    payment_id: uuid.UUID,
    *,
    status: str = "open",
    request_type: str = "blast",
    cause_tag: str | None = None,
    created_at: datetime | None = None,
) -> uuid.UUID:
    at = created_at or now()
    async with runtime.transaction() as session:
        req = PairingRequest(
            id=uuid.uuid4(),
            payment_session_id=payment_id,
            customer_id=customer.id,
            request_type=request_type,
            status=status,
            cause_tag=cause_tag,
            created_at=at,
            expires_at=at + timedelta(seconds=60),
            closed_at=None if status == "open" else at + timedelta(seconds=5),
        )
        session.add(req)
    return req.id


async def payment_row(runtime: Runtime, payment_id: uuid.UUID) -> PaymentSession:
    async with runtime.transaction() as session:
        p = await session.get(PaymentSession, payment_id)
        assert p is not None
        return p


async def failure_rows(runtime: Runtime, payment_id: uuid.UUID) -> list[PairingFailure]:
    async with runtime.transaction() as session:
        stmt = select(PairingFailure).where(PairingFailure.payment_session_id == payment_id)
        return list((await session.scalars(stmt)).all())


async def count(runtime: Runtime, table: str) -> int:
    async with runtime.transaction() as session:
        return int(await session.scalar(text(f"SELECT count(*) FROM {table}")) or 0)


async def sql(runtime: Runtime, statement: str, **params: Any) -> None:
    async with runtime.transaction() as session:
        await session.execute(text(statement), params)


async def expire(runtime: Runtime, payment_id: uuid.UUID) -> None:
    await sql(
        runtime,
        "UPDATE payment_sessions SET expires_at = now() - interval '1 second' WHERE id = :id",
        id=payment_id,
    )


async def db_now(runtime: Runtime) -> datetime:
    async with runtime.transaction() as session:
        value = await session.scalar(select(func.now()))
        assert isinstance(value, datetime)
        return value


async def settled(runtime: Runtime) -> None:
    """Wait for the runtime's start-up sweep, so a test's own sweep is the only one that counts."""
    await asyncio.wait_for(runtime.sweeper.first_sweep_done.wait(), 10)
