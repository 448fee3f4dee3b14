"""/internal/stats: pairings matched / failed by cause, time-to-pair, open failures, online mitras."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from curhat.internal.service import search_terms, window
from curhat.models import PairingFailure, PairingOffer, PairingRequest, PaymentSession
from curhat.models.pairing_failure import CAUSE_TAGS
from curhat.runtime import Runtime
from tests.fixtures.factories import Account, make_customer, make_mitra, make_operator


class Arrange:
    def __init__(self, runtime: Runtime, customer: Account, mitra: Account) -> None:
        self.runtime, self.customer, self.mitra = runtime, customer, mitra

    async def _payment(self, status: str, at: datetime) -> uuid.UUID:
        async with self.runtime.transaction() as session:
            payment = PaymentSession(
                id=uuid.uuid4(),
                customer_id=self.customer.id,
                amount=15000,
                duration_minutes=30,
                status=status,
                created_at=at,
                expires_at=at + timedelta(minutes=20),
            )
            session.add(payment)
        return payment.id

    async def matched(self, at: datetime, seconds: float) -> None:
        payment_id = await self._payment("consumed", at)
        async with self.runtime.transaction() as session:
            req = PairingRequest(
                id=uuid.uuid4(),
                payment_session_id=payment_id,
                customer_id=self.customer.id,
                request_type="blast",
                status="accepted",
                accepted_mitra_id=self.mitra.id,
                created_at=at,
                expires_at=at + timedelta(seconds=60),
                closed_at=at + timedelta(seconds=seconds),
            )
            session.add(req)
            await session.flush()
            session.add(
                PairingOffer(
                    pairing_request_id=req.id,
                    mitra_id=self.mitra.id,
                    offered_at=at,
                    response="accepted",
                    responded_at=at + timedelta(seconds=seconds),
                )
            )

    async def failed(self, at: datetime, cause: str, *, actioned: bool = False) -> None:
        payment_id = await self._payment("failed_pairing", at)
        async with self.runtime.transaction() as session:
            session.add(
                PairingFailure(
                    id=uuid.uuid4(),
                    payment_session_id=payment_id,
                    customer_id=self.customer.id,
                    cause_tag=cause,
                    amount=15000,
                    operator_action="refunded" if actioned else None,
                    actioned_at=at if actioned else None,
                    created_at=at,
                )
            )


@pytest.fixture
async def arrange(runtime: Runtime) -> Arrange:
    return Arrange(runtime, await make_customer(runtime), await make_mitra(runtime))


def _today_at(hour: int) -> datetime:
    now = datetime.now(UTC)
    at = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    # Keep "today" rows in the past, in case the test runs just after midnight.
    return min(at, now - timedelta(seconds=5))


async def test_empty_day(internal: httpx.AsyncClient, runtime: Runtime) -> None:
    operator = await make_operator(runtime)
    r = await internal.get("/internal/stats", headers=operator.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    today = datetime.now(UTC).date().isoformat()
    assert body["date_from"] == body["date_to"] == today
    assert body["pairings"] == {"matched": 0, "failed": dict.fromkeys(CAUSE_TAGS, 0), "total": 0}
    assert body["time_to_pair_seconds"] == {"p50": None, "p95": None}
    assert body["unactioned_failures"] == 0
    assert body["online_mitras"] == 0


async def test_counts_percentiles_and_date_window(
    internal: httpx.AsyncClient, runtime: Runtime, arrange: Arrange
) -> None:
    operator = await make_operator(runtime)
    yesterday = datetime.now(UTC) - timedelta(days=1)
    await arrange.matched(_today_at(1), 10)
    await arrange.matched(_today_at(1), 30)
    await arrange.matched(yesterday, 50)
    await arrange.failed(_today_at(1), "no_mitra_available")
    await arrange.failed(_today_at(1), "no_mitra_available", actioned=True)
    await arrange.failed(_today_at(1), "customer_cancelled")
    await arrange.failed(yesterday, "targeted_mitra_timeout")
    await arrange.failed(yesterday - timedelta(days=30), "payment_session_expired")

    body = (await internal.get("/internal/stats", headers=operator.headers)).json()
    assert body["pairings"]["matched"] == 2
    assert body["pairings"]["failed"]["no_mitra_available"] == 2
    assert body["pairings"]["failed"]["customer_cancelled"] == 1
    assert body["pairings"]["failed"]["targeted_mitra_timeout"] == 0
    assert body["pairings"]["total"] == 5
    assert body["time_to_pair_seconds"]["p50"] == pytest.approx(20)
    assert body["time_to_pair_seconds"]["p95"] == pytest.approx(29)
    # Awaiting action counts every day.
    assert body["unactioned_failures"] == 4

    params = {"date_from": yesterday.date().isoformat(), "date_to": datetime.now(UTC).date().isoformat()}
    body = (await internal.get("/internal/stats", params=params, headers=operator.headers)).json()
    assert body["date_from"] == params["date_from"]
    assert body["pairings"]["matched"] == 3
    assert body["pairings"]["failed"]["targeted_mitra_timeout"] == 1
    assert body["pairings"]["total"] == 7
    assert body["time_to_pair_seconds"]["p50"] == pytest.approx(30)

    only_yesterday = {"date_from": params["date_from"], "date_to": params["date_from"]}
    body = (await internal.get("/internal/stats", params=only_yesterday, headers=operator.headers)).json()
    assert body["pairings"]["matched"] == 1 and body["pairings"]["total"] == 2
    assert body["time_to_pair_seconds"] == {"p50": pytest.approx(50), "p95": pytest.approx(50)}

    wide = {"date_from": "0001-01-01", "date_to": "9999-12-31"}
    body = (await internal.get("/internal/stats", params=wide, headers=operator.headers)).json()
    assert body["pairings"]["total"] == 8


@pytest.mark.parametrize(
    "params",
    [
        {"date_from": "2026-02-30"},
        {"date_from": "yesterday"},
        {"date_from": "2026-03-02", "date_to": "2026-03-01"},
    ],
)
async def test_bad_dates_are_400(
    internal: httpx.AsyncClient, runtime: Runtime, params: dict[str, str]
) -> None:
    operator = await make_operator(runtime)
    r = await internal.get("/internal/stats", params=params, headers=operator.headers)
    assert r.status_code == 400 and r.json()["error"] == "validation_error"


def test_window_defaults() -> None:
    today = date(2026, 3, 10)
    assert window(None, None, today) == (today, today)
    assert window(date(2026, 3, 1), None, today) == (date(2026, 3, 1), today)
    assert window(None, date(2026, 3, 5), today) == (date(2026, 3, 5), date(2026, 3, 5))


def test_search_terms() -> None:
    assert search_terms(None) == []
    assert search_terms("  ") == []
    assert search_terms("Sari") == ["Sari"]
    assert search_terms("0812-34") == ["0812-34", "+6281234", "081234"]
    assert search_terms("62812") == ["62812", "+62812"]
