"""The dashboard's distributions: time to pair, abandonment by wait, offers per mitra."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from curhat.internal import service
from curhat.models import PairingOffer, PairingRequest, PaymentSession
from curhat.runtime import Runtime
from tests.fixtures.factories import Account, make_customer, make_mitra

DAY = date(2025, 5, 10)
T0 = datetime(2025, 5, 10, 8, 0, tzinfo=UTC)


class Requests:
    def __init__(self, runtime: Runtime, customer: Account) -> None:
        self.runtime, self.customer = runtime, customer

    async def add(
        self,
        at: datetime,
        status: str,
        *,
        closed_after: float,
        cause: str | None = None,
        accepted_by: uuid.UUID | None = None,
        offers: dict[uuid.UUID, tuple[str | None, float | None]] | None = None,
    ) -> None:
        """One pairing request with its payment and offers {mitra: (response, seconds to respond)}."""
        async with self.runtime.transaction() as session:
            payment = PaymentSession(
                id=uuid.uuid4(),
                customer_id=self.customer.id,
                amount=15000,
                duration_minutes=15,
                status="pending",
                created_at=at,
                expires_at=at + timedelta(minutes=20),
            )
            session.add(payment)
            await session.flush()
            req = PairingRequest(
                id=uuid.uuid4(),
                payment_session_id=payment.id,
                customer_id=self.customer.id,
                request_type="blast",
                status=status,
                cause_tag=cause,
                accepted_mitra_id=accepted_by,
                created_at=at,
                expires_at=at + timedelta(seconds=60),
                closed_at=at + timedelta(seconds=closed_after),
            )
            session.add(req)
            await session.flush()
            for mitra_id, (response, after) in (offers or {}).items():
                session.add(
                    PairingOffer(
                        pairing_request_id=req.id,
                        mitra_id=mitra_id,
                        offered_at=at,
                        response=response,
                        responded_at=at + timedelta(seconds=after) if after is not None else None,
                    )
                )


async def test_histograms_and_offers_per_mitra(runtime: Runtime) -> None:
    customer = await make_customer(runtime)
    a, b = await make_mitra(runtime, "Bestie A"), await make_mitra(runtime, "Bestie B")
    reqs = Requests(runtime, customer)
    for seconds in (3, 7, 45, 90):
        await reqs.add(
            T0, "accepted", closed_after=seconds, accepted_by=a.id, offers={a.id: ("accepted", seconds)}
        )
    for waited in (5, 40, 200):
        await reqs.add(
            T0, "cancelled", closed_after=waited, cause="customer_cancelled", offers={b.id: (None, None)}
        )
    # A ran out unanswered (ignored); A rejected; B was faster than A (A only offered).
    await reqs.add(T0, "failed", closed_after=60, cause="no_mitra_available", offers={a.id: (None, None)})
    await reqs.add(T0, "failed", closed_after=4, cause="all_mitras_rejected", offers={a.id: ("rejected", 4)})
    await reqs.add(
        T0, "accepted", closed_after=2, accepted_by=b.id, offers={a.id: (None, None), b.id: ("accepted", 2)}
    )
    # The next day is outside the range.
    await reqs.add(
        T0 + timedelta(days=1), "accepted", closed_after=1, accepted_by=a.id, offers={a.id: ("accepted", 1)}
    )

    async with runtime.transaction() as session:
        d = await service.dashboard(session, runtime.presence, DAY, DAY)

    assert d.time_to_pair.edges == (5, 10, 20, 30, 60)
    assert d.time_to_pair.counts == [2, 1, 0, 0, 1, 1]  # 2 s and 3 s, 7 s, 45 s, 90 s
    assert d.stats.matched == 5
    assert d.cancel_waits.edges == (10, 30, 60, 120)
    assert d.cancel_waits.counts == [1, 0, 1, 0, 1]
    offers = {o.display_name: (o.offered, o.accepted, o.rejected, o.ignored) for o in d.offers}
    assert offers == {"Bestie A": (7, 4, 1, 1), "Bestie B": (4, 1, 0, 0)}
    assert [o.display_name for o in d.offers] == ["Bestie A", "Bestie B"]


async def test_an_empty_range_has_empty_buckets(runtime: Runtime) -> None:
    async with runtime.transaction() as session:
        d = await service.dashboard(session, runtime.presence, DAY, DAY)
    assert d.time_to_pair.counts == [0] * 6 and d.time_to_pair.total == 0
    assert d.cancel_waits.counts == [0] * 5
    assert d.offers == []
