"""data.md invariants, checked against the database after tests that change state."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

CHECKS: dict[str, str] = {
    "1 consumed initial payment has exactly one chat session": """
        SELECT p.id FROM payment_sessions p
        WHERE p.status = 'consumed' AND NOT p.is_extension
          AND (SELECT count(*) FROM chat_sessions c WHERE c.payment_session_id = p.id) <> 1""",
    "1 consumed extension payment has exactly one approved extension": """
        SELECT p.id FROM payment_sessions p
        WHERE p.status = 'consumed' AND p.is_extension
          AND (SELECT count(*) FROM extension_requests e
               WHERE e.payment_session_id = p.id AND e.status = 'approved') <> 1""",
    "2 failed_pairing has exactly one failure row": """
        SELECT p.id FROM payment_sessions p
        WHERE p.status = 'failed_pairing'
          AND (SELECT count(*) FROM pairing_failures f WHERE f.payment_session_id = p.id) <> 1""",
    "2 no other status has a failure row": """
        SELECT f.id FROM pairing_failures f JOIN payment_sessions p ON p.id = f.payment_session_id
        WHERE p.status <> 'failed_pairing'""",
    "3 amount = 0 iff free trial; extensions never free": """
        SELECT id FROM payment_sessions WHERE (amount = 0) <> is_free_trial OR (is_extension AND is_free_trial)""",
    "4 a request is accepted at most once": """
        SELECT pairing_request_id FROM pairing_offers WHERE response = 'accepted'
        GROUP BY pairing_request_id HAVING count(*) > 1""",
    "4 an accepted request names its mitra and has one chat": """
        SELECT r.id FROM pairing_requests r
        WHERE r.status = 'accepted' AND (r.accepted_mitra_id IS NULL
          OR (SELECT count(*) FROM chat_sessions c WHERE c.payment_session_id = r.payment_session_id) <> 1)""",
    "6 no chat session for a payment that is not consumed": """
        SELECT c.id FROM chat_sessions c JOIN payment_sessions p ON p.id = c.payment_session_id
        WHERE p.status <> 'consumed'""",
    "9 one consumed free trial per customer": """
        SELECT customer_id FROM payment_sessions WHERE is_free_trial AND status = 'consumed'
        GROUP BY customer_id HAVING count(*) > 1""",
    "at most one open request per payment session": """
        SELECT payment_session_id FROM pairing_requests WHERE status = 'open'
        GROUP BY payment_session_id HAVING count(*) > 1""",
    "5 a mitra never holds more active chats than the cap": """
        SELECT mitra_id FROM chat_sessions WHERE status = 'active' GROUP BY mitra_id
        HAVING count(*) > (SELECT value::int FROM app_config WHERE key = 'max_customers_per_mitra')""",
}


async def assert_invariants(session: AsyncSession) -> None:
    broken = {}
    for name, sql in CHECKS.items():
        rows = (await session.execute(text(sql))).all()
        if rows:
            broken[name] = [str(r[0]) for r in rows[:5]]
    assert not broken, f"invariants violated: {broken}"
