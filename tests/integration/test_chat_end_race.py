"""Both sides end a chat at once: the loser's answer tells the end that happened (found by R1).

``end_if_active`` is an ORM UPDATE … WHERE status = 'active'; the loser's UPDATE matches no
row, but SQLAlchemy's default session synchronisation applied the statement's values to the
chat already loaded in the session, so the loser answered 200 with *its own* end reason
(``customer_ended``) while the database said ``mitra_ended``.
"""

from __future__ import annotations

import httpx

from curhat.auth.tokens import Principal
from curhat.chat import service as chat_service
from curhat.runtime import Runtime
from tests.fixtures.factories import make_chat, make_customer, make_mitra


async def test_the_side_that_ends_second_is_told_the_first_sides_end(runtime: Runtime) -> None:
    customer, mitra = await make_customer(runtime), await make_mitra(runtime)
    chat_id = await make_chat(runtime, customer.id, mitra.id)
    as_customer, as_mitra = Principal(customer.id, "customer"), Principal(mitra.id, "mitra")
    async with runtime.transaction() as late:
        # The customer's request has read the chat (still active; the request holds it) ...
        loaded = await chat_service.get_for(late, as_customer, chat_id)
        # ... when the mitra's end commits.
        async with runtime.transaction() as first:
            await chat_service.end_chat_session(first, runtime.presence, as_mitra, chat_id)
        answered = await chat_service.end_chat_session(late, runtime.presence, as_customer, chat_id)
        assert answered is loaded  # the same row object the request read first
        assert (answered.status, answered.end_reason) == ("ended", "mitra_ended")
    async with runtime.transaction() as check:
        stored = await chat_service.get_for(check, as_customer, chat_id)
        assert (stored.status, stored.end_reason) == ("ended", "mitra_ended")


async def test_ending_an_ended_chat_through_the_api_answers_its_real_end(
    public: httpx.AsyncClient, runtime: Runtime
) -> None:
    customer, mitra = await make_customer(runtime), await make_mitra(runtime)
    chat_id = await make_chat(runtime, customer.id, mitra.id)
    first = await public.post(f"/api/mitra/chat-sessions/{chat_id}/end", headers=mitra.headers)
    assert first.json()["end_reason"] == "mitra_ended"
    again = await public.post(f"/api/client/chat-sessions/{chat_id}/end", headers=customer.headers)
    assert again.status_code == 200
    assert (again.json()["status"], again.json()["end_reason"]) == ("ended", "mitra_ended")
