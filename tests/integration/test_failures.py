"""The failures service (seed §1.3): record, list with filters, operator action once."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest

from curhat.errors import ValidationFailed
from curhat.payments import service as payments
from curhat.payments.failures import service as failures
from curhat.runtime import Runtime
from tests.fixtures.factories import make_customer, make_mitra, make_operator
from tests.integration.test_payments_support import insert_payment, payment_row


async def test_record_failure_copies_the_payment(runtime: Runtime) -> None:
    customer, mitra = await make_customer(runtime), await make_mitra(runtime)
    pid = await insert_payment(runtime, customer, status="failed_pairing", amount=45000, targeted=mitra.id)
    payment = await payment_row(runtime, pid)
    async with runtime.transaction() as session:
        row = await failures.record_failure(session, payment, "targeted_mitra_offline")
    assert (row.payment_session_id, row.customer_id, row.targeted_mitra_id, row.amount) == (
        pid,
        customer.id,
        mitra.id,
        45000,
    )
    assert row.operator_action is None and row.created_at is not None
    with pytest.raises(ValueError):
        async with runtime.transaction() as session:
            await failures.record_failure(session, payment, "bad_luck")


async def test_list_filters_and_pages_in_the_service(runtime: Runtime) -> None:
    customer = await make_customer(runtime)
    operator = await make_operator(runtime)
    ids = []
    for cause in ("no_mitra_available", "customer_cancelled", "no_mitra_available"):
        pid = await insert_payment(runtime, customer)
        async with runtime.transaction() as session:
            f = await payments.fail_payment_session(session, pid, cause)
            assert f is not None
            ids.append(f.id)
    async with runtime.transaction() as session:
        await failures.set_operator_action(session, ids[0], operator.id, "credited")
        rows, total = await failures.list_failures(session, cause_tags=["no_mitra_available"])
        assert total == 2 and {r.failure.id for r in rows} == {ids[0], ids[2]}
        rows, total = await failures.list_failures(session, actioned=False)
        assert total == 2 and ids[0] not in {r.failure.id for r in rows}
        rows, total = await failures.list_failures(session, limit=1, offset=1)
        assert total == 3 and [r.failure.id for r in rows] == [ids[1]]
        today = date.today()
        _, total = await failures.list_failures(session, date_from=today + timedelta(days=2))
        assert total == 0
        _, total = await failures.list_failures(session, date_to=date.max, date_from=date.min)
        assert total == 3
        with pytest.raises(ValidationFailed):
            await failures.list_failures(session, cause_tags=["nope"])
        with pytest.raises(ValidationFailed):
            await failures.list_failures(session, date_from=today, date_to=today - timedelta(days=1))


async def test_set_operator_action_once(runtime: Runtime) -> None:
    customer = await make_customer(runtime)
    first, second = await make_operator(runtime), await make_operator(runtime)
    pid = await insert_payment(runtime, customer)
    async with runtime.transaction() as session:
        f = await payments.fail_payment_session(session, pid, "all_mitras_rejected")
        assert f is not None
        row = await failures.set_operator_action(session, f.id, first.id, "refunded")
        assert row.failure.operator_action == "refunded" and row.operator_name == "Operator"
        stamp = row.failure.actioned_at
    async with runtime.transaction() as session:
        same = await failures.set_operator_action(session, f.id, second.id, "refunded")
        assert same.failure.actioned_by == first.id and same.failure.actioned_at == stamp
        with pytest.raises(failures.AlreadyActioned):
            await failures.set_operator_action(session, f.id, second.id, "no_action")
    async with runtime.transaction() as session:
        with pytest.raises(failures.FailureNotFound):
            await failures.set_operator_action(session, uuid.uuid4(), first.id, "refunded")
        with pytest.raises(ValidationFailed):
            await failures.set_operator_action(session, f.id, first.id, "forgiven")
