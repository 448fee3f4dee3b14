"""/internal/failed-pairings: the operators' queue over HTTP (filters, paging, actions)."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from curhat.payments import service as payments
from curhat.runtime import Runtime
from tests.fixtures.factories import Account, make_customer, make_mitra, make_operator
from tests.integration.test_payments_support import insert_payment, sql

URL = "/internal/failed-pairings"


async def fail(
    runtime: Runtime,
    customer: Account,
    cause: str,
    *,
    days_ago: int = 0,
    targeted: uuid.UUID | None = None,
    amount: int = 25000,
) -> uuid.UUID:
    pid = await insert_payment(runtime, customer, targeted=targeted, amount=amount)
    async with runtime.transaction() as session:
        f = await payments.fail_payment_session(session, pid, cause)
        assert f is not None
    at = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=days_ago)
    await sql(runtime, "UPDATE pairing_failures SET created_at = :at WHERE id = :id", at=at, id=f.id)
    return f.id


async def test_rows_newest_first_with_people(internal: httpx.AsyncClient, runtime: Runtime) -> None:
    operator = await make_operator(runtime)
    customer = await make_customer(runtime, "Sari")
    mitra = await make_mitra(runtime, "Bestie Ana")
    old = await fail(runtime, customer, "no_mitra_available", days_ago=2)
    new = await fail(runtime, customer, "targeted_mitra_rejected", targeted=mitra.id, amount=45000)
    r = await internal.get(URL, headers=operator.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 2 and [row["id"] for row in body["rows"]] == [str(new), str(old)]
    row = body["rows"][0]
    assert row["customer"] == {"id": str(customer.id), "display_name": "Sari", "phone": customer.phone}
    assert row["targeted_mitra"] == {"id": str(mitra.id), "display_name": "Bestie Ana"}
    assert row["cause_tag"] == "targeted_mitra_rejected" and row["amount"] == 45000
    assert row["operator_action"] is None and row["actioned_by"] is None and row["actioned_at"] is None
    assert body["rows"][1]["targeted_mitra"] is None
    assert set(row) == {
        "id",
        "payment_session_id",
        "customer",
        "targeted_mitra",
        "cause_tag",
        "amount",
        "operator_action",
        "actioned_by",
        "actioned_at",
        "created_at",
    }


async def test_cause_tag_filters_both_spellings(internal: httpx.AsyncClient, runtime: Runtime) -> None:
    operator, customer = await make_operator(runtime), await make_customer(runtime)
    a = await fail(runtime, customer, "no_mitra_available")
    b = await fail(runtime, customer, "customer_cancelled")
    await fail(runtime, customer, "payment_session_expired")

    async def ids(params: list[tuple[str, str]]) -> set[str]:
        r = await internal.get(URL, params=params, headers=operator.headers)
        assert r.status_code == 200, r.text
        assert r.json()["total"] == len(r.json()["rows"])
        return {row["id"] for row in r.json()["rows"]}

    assert await ids([("cause_tags", "no_mitra_available")]) == {str(a)}
    assert await ids([("cause_tags", "no_mitra_available"), ("cause_tags", "customer_cancelled")]) == {
        str(a),
        str(b),
    }
    assert await ids([("cause_tags[]", "no_mitra_available"), ("cause_tags[]", "customer_cancelled")]) == {
        str(a),
        str(b),
    }
    assert await ids([("cause_tags[]", "customer_cancelled"), ("cause_tags", "no_mitra_available")]) == {
        str(a),
        str(b),
    }
    assert len(await ids([])) == 3


async def test_date_range_is_inclusive_utc_days(internal: httpx.AsyncClient, runtime: Runtime) -> None:
    operator, customer = await make_operator(runtime), await make_customer(runtime)
    today = await fail(runtime, customer, "no_mitra_available")
    two = await fail(runtime, customer, "no_mitra_available", days_ago=2)
    five = await fail(runtime, customer, "no_mitra_available", days_ago=5)
    d = datetime.now(UTC).date()

    async def ids(**params: str) -> list[str]:
        r = await internal.get(URL, params=params, headers=operator.headers)
        assert r.status_code == 200, r.text
        return [row["id"] for row in r.json()["rows"]]

    day = timedelta(days=1)
    assert await ids(date_from=str(d - 2 * day), date_to=str(d - 2 * day)) == [str(two)]
    assert await ids(date_from=str(d - 5 * day), date_to=str(d - 2 * day)) == [str(two), str(five)]
    assert await ids(date_from=str(d - day)) == [str(today)]
    assert await ids(date_to=str(d - 3 * day)) == [str(five)]
    assert await ids(date_from=str(d + day)) == []


async def test_actioned_filter_and_paging_total(internal: httpx.AsyncClient, runtime: Runtime) -> None:
    operator, customer = await make_operator(runtime), await make_customer(runtime)
    ids = [await fail(runtime, customer, "no_mitra_available", days_ago=i) for i in range(5)]
    r = await internal.post(f"{URL}/{ids[1]}/action", json={"action": "credited"}, headers=operator.headers)
    assert r.status_code == 200
    done = (await internal.get(URL, params={"actioned": "true"}, headers=operator.headers)).json()
    assert done["total"] == 1 and done["rows"][0]["id"] == str(ids[1])
    open_ = (await internal.get(URL, params={"actioned": "false"}, headers=operator.headers)).json()
    assert open_["total"] == 4 and str(ids[1]) not in {row["id"] for row in open_["rows"]}
    page = (await internal.get(URL, params={"limit": 2, "offset": 2}, headers=operator.headers)).json()
    assert page["total"] == 5 and [row["id"] for row in page["rows"]] == [str(ids[2]), str(ids[3])]
    beyond = (await internal.get(URL, params={"limit": 2, "offset": 10}, headers=operator.headers)).json()
    assert beyond == {"rows": [], "total": 5}


@pytest.mark.parametrize(
    "params",
    [
        {"cause_tags": "bad_luck"},
        {"cause_tags[]": "bad_luck"},
        {"date_from": "yesterday"},
        {"date_to": "2026-13-01"},
        {"date_from": "2026-05-02", "date_to": "2026-05-01"},
        {"actioned": "maybe"},
        {"limit": "0"},
        {"limit": "201"},
        {"offset": "-1"},
    ],
)
async def test_bad_filters_are_400(
    internal: httpx.AsyncClient, runtime: Runtime, params: dict[str, str]
) -> None:
    operator = await make_operator(runtime)
    r = await internal.get(URL, params=params, headers=operator.headers)
    assert r.status_code == 400 and r.json()["error"] == "validation_error", r.text


async def test_action_once_same_again_other_refused(internal: httpx.AsyncClient, runtime: Runtime) -> None:
    first, second = await make_operator(runtime), await make_operator(runtime)
    customer = await make_customer(runtime)
    fid = await fail(runtime, customer, "all_mitras_rejected")
    r = await internal.post(f"{URL}/{fid}/action", json={"action": "refunded"}, headers=first.headers)
    assert r.status_code == 200
    row = r.json()
    assert row["id"] == str(fid) and row["operator_action"] == "refunded"
    assert row["actioned_by"] == {"id": str(first.id), "display_name": "Operator"}
    assert row["actioned_at"] is not None
    again = await internal.post(f"{URL}/{fid}/action", json={"action": "refunded"}, headers=second.headers)
    assert again.status_code == 200 and again.json() == row
    other = await internal.post(f"{URL}/{fid}/action", json={"action": "no_action"}, headers=second.headers)
    assert other.status_code == 409 and other.json()["error"] == "already_actioned"
    listed = (await internal.get(URL, headers=first.headers)).json()["rows"][0]
    assert listed == row


async def test_action_refusals(
    internal: httpx.AsyncClient, public: httpx.AsyncClient, runtime: Runtime
) -> None:
    operator, customer = await make_operator(runtime), await make_customer(runtime)
    fid = await fail(runtime, customer, "no_mitra_available")
    r = await internal.post(
        f"{URL}/{uuid.uuid4()}/action", json={"action": "refunded"}, headers=operator.headers
    )
    assert r.status_code == 404 and r.json()["error"] == "failed_pairing_not_found"
    for body in ({"action": "forgiven"}, {}, {"action": "refunded", "extra": 1}):
        r = await internal.post(f"{URL}/{fid}/action", json=body, headers=operator.headers)
        assert r.status_code == 400 and r.json()["error"] == "validation_error"
    r = await internal.post(f"{URL}/{fid}/action", json={"action": "refunded"}, headers=customer.headers)
    assert r.status_code == 401
    assert (await internal.get(URL, headers=customer.headers)).status_code == 401
    assert (await internal.get(URL)).status_code == 401
    # Never on the public listener.
    assert (await public.get(URL, headers=operator.headers)).status_code == 404
    listed = (await internal.get(URL, headers=operator.headers)).json()["rows"][0]
    assert listed["operator_action"] is None


async def test_an_operator_action_is_one_log_line_naming_the_operator(
    internal: httpx.AsyncClient, runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    operator, customer = await make_operator(runtime), await make_customer(runtime)
    fid = await fail(runtime, customer, "no_mitra_available")
    with caplog.at_level(logging.INFO, logger="curhat.events"):
        r = await internal.post(f"{URL}/{fid}/action", json={"action": "refunded"}, headers=operator.headers)
        assert r.status_code == 200
        refused = await internal.post(
            f"{URL}/{fid}/action", json={"action": "no_action"}, headers=operator.headers
        )
        assert refused.status_code == 409  # refused: no line
    lines = [rec.fields for rec in caplog.records if rec.getMessage() == "failed_pairing.action"]
    assert lines == [
        {
            "event": "failed_pairing.action",
            "failure_id": fid,
            "action": "refunded",
            "operator_id": operator.id,
            "changed": True,
        }
    ]
