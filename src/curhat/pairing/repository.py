from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import case, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from curhat.kit.sql import any_of
from curhat.models import Mitra, PairingOffer, PairingRequest, PaymentSession, User
from curhat.models.enums import CauseTag, OfferResponse, RequestStatus, RequestType


async def insert_request(
    session: AsyncSession,
    *,
    payment_session_id: uuid.UUID,
    customer_id: uuid.UUID,
    request_type: str,
    targeted_mitra_id: uuid.UUID | None,
    created_at: datetime,
    expires_at: datetime,
) -> PairingRequest:
    req = PairingRequest(
        id=uuid.uuid4(),
        payment_session_id=payment_session_id,
        customer_id=customer_id,
        request_type=request_type,
        targeted_mitra_id=targeted_mitra_id,
        status="open",
        created_at=created_at,
        expires_at=expires_at,
    )
    session.add(req)
    await session.flush()
    return req


async def add_offers(
    session: AsyncSession, request_id: uuid.UUID, mitra_ids: list[uuid.UUID]
) -> list[uuid.UUID]:
    """Offers that did not exist yet (a mitra is offered a request at most once)."""
    if not mitra_ids:
        return []
    stmt = (
        insert(PairingOffer)
        .values([{"pairing_request_id": request_id, "mitra_id": m} for m in mitra_ids])
        .on_conflict_do_nothing()
        .returning(PairingOffer.mitra_id)
    )
    return list((await session.scalars(stmt)).all())


# One statement, compiled once, whatever the number of recipients: the ids stay one array
# parameter (no bind parameter, ORM row or UUID object built per mitra in Python), and the
# "still active" filter is the same statement's join instead of a query of its own.
_OFFER_TO_ACTIVE = text(
    """
    INSERT INTO pairing_offers (pairing_request_id, mitra_id)
    SELECT :request_id, m.id FROM mitras m
    WHERE m.id = ANY(CAST(:mitra_ids AS uuid[])) AND m.is_active
    ON CONFLICT DO NOTHING
    RETURNING mitra_id
    """
)


async def offer_to_active_mitras(
    session: AsyncSession, request_id: uuid.UUID, mitra_ids: list[str]
) -> list[uuid.UUID]:
    """Offer the request to those of ``mitra_ids`` (as text, straight from presence) whose
    account is active; the ids actually offered (each mitra is offered a request once)."""
    if not mitra_ids:
        return []
    result = await session.execute(_OFFER_TO_ACTIVE, {"request_id": request_id, "mitra_ids": mitra_ids})
    return list(result.scalars().all())


@dataclass(frozen=True)
class AcceptCheck:
    """What an accept needs to know before it takes any row lock (one unlocked read)."""

    status: str
    accepted_mitra_id: uuid.UUID | None
    expired: bool
    responded: bool
    mitra_active: bool
    active_chats: int
    # Whether this transaction now holds the request's accept claim (None: not attempted).
    claimed: bool | None


# The claim is a transaction-scoped advisory lock taken with the *try* variant: it never
# waits, so it can be first in any lock order without ever being part of a deadlock, and at
# most one accept per request goes on to queue for the row locks. The claim is only tried
# when this accept could succeed as far as an unlocked read can tell, so an accept bound to
# fail (responded, at capacity, inactive) never makes the others lose.
_ACCEPT_CHECK = text(
    """
    WITH r AS (
        SELECT r.status, r.accepted_mitra_id, r.expires_at <= now() AS expired,
               o.response IS NOT NULL AS responded, m.is_active AS mitra_active,
               (SELECT count(*) FROM chat_sessions c
                WHERE c.mitra_id = :mitra_id AND c.status = 'active') AS active_chats
        FROM pairing_requests r
        JOIN pairing_offers o ON o.pairing_request_id = r.id AND o.mitra_id = :mitra_id
        JOIN mitras m ON m.id = o.mitra_id
        WHERE r.id = :request_id
    )
    SELECT status, accepted_mitra_id, expired, responded, mitra_active, active_chats,
           CASE WHEN CAST(:claim_key AS bigint) IS NOT NULL AND status = 'open' AND NOT expired AND NOT responded
                     AND mitra_active AND active_chats < :capacity
                THEN pg_try_advisory_xact_lock(CAST(:claim_key AS bigint)) END AS claimed
    FROM r
    """
)


async def check_before_accept(
    session: AsyncSession,
    request_id: uuid.UUID,
    mitra_id: uuid.UUID,
    *,
    capacity: int,
    claim_key: int | None,
) -> AcceptCheck | None:
    """The request as this mitra's offer sees it, unlocked; with ``claim_key``, also try to
    take the accept claim. None when the request or the offer does not exist."""
    row = (
        await session.execute(
            _ACCEPT_CHECK,
            {"request_id": request_id, "mitra_id": mitra_id, "capacity": capacity, "claim_key": claim_key},
        )
    ).one_or_none()
    return None if row is None else AcceptCheck(*row)


async def active_mitra_ids(session: AsyncSession, mitra_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    if not mitra_ids:
        return []
    stmt = select(Mitra.id).where(Mitra.id.in_(mitra_ids), Mitra.is_active.is_(True))
    return list((await session.scalars(stmt)).all())


async def get_request(
    session: AsyncSession, request_id: uuid.UUID, *, for_update: bool = False, skip_locked: bool = False
) -> PairingRequest | None:
    stmt = select(PairingRequest).where(PairingRequest.id == request_id)
    if for_update:
        # Locked reads refresh a row this session may have read before taking the lock.
        stmt = stmt.with_for_update(skip_locked=skip_locked).execution_options(populate_existing=True)
    return (await session.scalars(stmt)).one_or_none()


async def open_request_for_payment(
    session: AsyncSession, payment_session_id: uuid.UUID, *, for_update: bool = False
) -> PairingRequest | None:
    stmt = select(PairingRequest).where(
        PairingRequest.payment_session_id == payment_session_id, PairingRequest.status == "open"
    )
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.scalars(stmt)).one_or_none()


async def get_offer(session: AsyncSession, request_id: uuid.UUID, mitra_id: uuid.UUID) -> PairingOffer | None:
    return await session.get(PairingOffer, (request_id, mitra_id))


async def offers(session: AsyncSession, request_id: uuid.UUID) -> list[PairingOffer]:
    stmt = (
        select(PairingOffer)
        .where(PairingOffer.pairing_request_id == request_id)
        .execution_options(populate_existing=True)
    )
    return list((await session.scalars(stmt)).all())


_UNANSWERED = text(
    "SELECT mitra_id FROM pairing_offers WHERE pairing_request_id = :request_id AND response IS NULL"
)


async def unanswered_offer_mitra_ids(session: AsyncSession, request_id: uuid.UUID) -> list[uuid.UUID]:
    """Who still has the request's card open (one column, no ORM row per mitra)."""
    return list((await session.execute(_UNANSWERED, {"request_id": request_id})).scalars().all())


async def set_offer_response(
    session: AsyncSession, request_id: uuid.UUID, mitra_id: uuid.UUID, response: OfferResponse
) -> None:
    await session.execute(
        update(PairingOffer)
        .where(PairingOffer.pairing_request_id == request_id, PairingOffer.mitra_id == mitra_id)
        .values(response=response, responded_at=func.now())
    )


async def close_request(
    session: AsyncSession,
    req: PairingRequest,
    *,
    status: RequestStatus,
    cause_tag: CauseTag | None = None,
    accepted_mitra_id: uuid.UUID | None = None,
) -> None:
    req.status = status
    req.cause_tag = cause_tag
    req.accepted_mitra_id = accepted_mitra_id
    req.closed_at = datetime.now(UTC)
    await session.flush()


async def lock_mitra(session: AsyncSession, mitra_id: uuid.UUID) -> Mitra | None:
    """Serialises accepts by one mitra, so the capacity check and the insert are atomic."""
    return (await session.scalars(select(Mitra).where(Mitra.id == mitra_id).with_for_update())).one_or_none()


async def open_offers_for_mitra(
    session: AsyncSession, mitra_id: uuid.UUID
) -> list[tuple[PairingRequest, str, int]]:
    """(request, customer's display name, duration in minutes) of every offer still open."""
    stmt = (
        select(PairingRequest, User.display_name, PaymentSession.duration_minutes)
        .join(PairingOffer, PairingOffer.pairing_request_id == PairingRequest.id)
        .join(User, User.id == PairingRequest.customer_id)
        .join(PaymentSession, PaymentSession.id == PairingRequest.payment_session_id)
        .where(
            PairingOffer.mitra_id == mitra_id,
            PairingOffer.response.is_(None),
            PairingRequest.status == "open",
            PairingRequest.expires_at > func.now(),
        )
        .order_by(PairingRequest.created_at)
    )
    return [(r, name, minutes) for r, name, minutes in (await session.execute(stmt)).all()]


async def open_blasts_not_offered_to(session: AsyncSession, mitra_id: uuid.UUID) -> list[PairingRequest]:
    offered = select(PairingOffer.pairing_request_id).where(PairingOffer.mitra_id == mitra_id)
    stmt = (
        select(PairingRequest)
        .where(
            PairingRequest.status == "open",
            PairingRequest.request_type == "blast",
            PairingRequest.expires_at > func.now(),
            PairingRequest.id.not_in(offered),
        )
        .order_by(PairingRequest.created_at)
        .limit(100)
    )
    return list((await session.scalars(stmt)).all())


async def customer_name(session: AsyncSession, customer_id: uuid.UUID) -> str:
    user = await session.get(User, customer_id)
    return user.display_name if user else ""


# -- the window's end, set-based (the deadline runner fires due windows in batches) ----------


async def due_windows(
    session: AsyncSession, horizon: datetime, limit: int
) -> list[tuple[uuid.UUID, datetime]]:
    stmt = (
        select(PairingRequest.id, PairingRequest.expires_at)
        .where(PairingRequest.status == "open", PairingRequest.expires_at <= horizon)
        .order_by(PairingRequest.expires_at)
        .limit(limit)
    )
    return [(row_id, when) for row_id, when in (await session.execute(stmt)).all()]


@dataclass(frozen=True)
class ClosedWindow:
    id: uuid.UUID
    payment_session_id: uuid.UUID
    customer_id: uuid.UUID
    request_type: RequestType
    targeted_mitra_id: uuid.UUID | None
    cause_tag: CauseTag
    expires_at: datetime


async def fail_due_windows(session: AsyncSession, ids: list[uuid.UUID], now: datetime) -> list[ClosedWindow]:
    """open → failed for every request of ``ids`` still open and due, with its payment row and
    its own row locked by this statement. Both locks are SKIP LOCKED — a request or payment
    someone holds (an accept, a cancel, another instance's batch) is left for the next poll —
    so this never waits on a lock and cannot join a deadlock, whatever order the rows are
    locked in; the payment is then updated under the lock it already holds."""
    due = (
        select(PairingRequest.id)
        .join(PaymentSession, PaymentSession.id == PairingRequest.payment_session_id)
        .where(
            any_of(PairingRequest.id, ids), PairingRequest.status == "open", PairingRequest.expires_at <= now
        )
        .with_for_update(of=[PaymentSession, PairingRequest], skip_locked=True)
        .cte("due")
    )
    cause = case(
        (PairingRequest.request_type == RequestType.RETURNING, CauseTag.TARGETED_MITRA_TIMEOUT.value),
        else_=CauseTag.NO_MITRA_AVAILABLE.value,
    )
    stmt = (
        update(PairingRequest)
        .where(PairingRequest.id == due.c.id)
        .values(status=RequestStatus.FAILED, cause_tag=cause, accepted_mitra_id=None, closed_at=now)
        .returning(
            PairingRequest.id,
            PairingRequest.payment_session_id,
            PairingRequest.customer_id,
            PairingRequest.request_type,
            PairingRequest.targeted_mitra_id,
            PairingRequest.cause_tag,
            PairingRequest.expires_at,
        )
        .execution_options(synchronize_session=False)
    )
    return [
        ClosedWindow(rid, pid, customer, kind, mitra, CauseTag(str(cause)), due)
        for rid, pid, customer, kind, mitra, cause, due in (await session.execute(stmt)).all()
    ]


async def pending_offers_of(
    session: AsyncSession, request_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """request id → mitras whose offer is still unanswered."""
    if not request_ids:
        return {}
    stmt = select(PairingOffer.pairing_request_id, PairingOffer.mitra_id).where(
        any_of(PairingOffer.pairing_request_id, request_ids), PairingOffer.response.is_(None)
    )
    pending: dict[uuid.UUID, list[uuid.UUID]] = {}
    for request_id, mitra_id in (await session.execute(stmt)).all():
        pending.setdefault(request_id, []).append(mitra_id)
    return pending
