"""Deadlines that fire late get a WARNING line (``deadline.late``), one per batch.

The runner arms a timer per row from the row's due time (``schedule``) and the poll reads due
rows with theirs (``DeadlineKind.due``); this subclass notes each due time on the way in and,
when a batch of that kind fires, how long after the earliest of them it ran. Lateness beyond
a second means the process or the database is overloaded, or a poll stalled.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from curhat.deadlines.runner import DeadlineKind, DeadlineRunner
from curhat.observability import LATE_DEADLINE_SECONDS, events_log, log_event


class ObservedDeadlineRunner(DeadlineRunner):
    """A ``DeadlineRunner`` that says when its deadlines fire late; behaviour unchanged."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # (kind, row id) → when it falls due, for rows armed or found here and not fired yet.
        self._due_at: dict[tuple[str, uuid.UUID], datetime] = {}
        super().__init__(*args, **kwargs)

    def schedule(self, kind: str, row_id: uuid.UUID, when: datetime) -> None:
        self._due_at[(kind, row_id)] = when
        super().schedule(kind, row_id, when)

    def cancel_all(self) -> None:
        super().cancel_all()
        self._due_at.clear()

    def register(self, kind: DeadlineKind) -> None:
        due_at = self._due_at
        name, due, fire = kind.name, kind.due, kind.fire

        async def noted_due(
            session: AsyncSession, horizon: datetime, limit: int
        ) -> list[tuple[uuid.UUID, datetime]]:
            rows = await due(session, horizon, limit)
            for row_id, when in rows:
                due_at[(name, row_id)] = when
            return rows

        async def timed_fire(session: AsyncSession, ids: list[uuid.UUID]) -> int:
            fired = await fire(session, ids)
            whens = [when for row_id in ids if (when := due_at.pop((name, row_id), None)) is not None]
            if fired and whens:
                late = (datetime.now(UTC) - min(whens)).total_seconds()
                if late > LATE_DEADLINE_SECONDS:
                    log_event(
                        events_log,
                        "deadline.late",
                        logging.WARNING,
                        kind=name,
                        late_s=round(late, 2),
                        rows=fired,
                    )
            return fired

        super().register(DeadlineKind(name, noted_due, timed_fire))
