"""R1 at CI size: a few hundred seeded random operations, many at once, against a real server.

``make chaos`` runs the same runner at full size (docs/reliability.md). A failure names its
seed; ``CHAOS_SEED=N`` replays it here, ``python -m tests.chaos.runner --seed N`` at full size.
"""

from __future__ import annotations

import os
import secrets

import pytest

from curhat.config import Settings
from tests.chaos.runner import SERVER_ENV, Options, Target, run
from tests.fixtures.server import ServerProcess


@pytest.mark.e2e
@pytest.mark.timeout(240)
async def test_random_interleavings_keep_every_answer_true_and_every_invariant(
    server_factory: type[ServerProcess], settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    seed = int(os.environ.get("CHAOS_SEED") or secrets.randbelow(2**31))
    server = server_factory(**SERVER_ENV).start()
    report = await run(
        Target(server.public_url, server.internal_url, server.ws_url, settings),
        Options(seed=seed, ops=300, concurrency=24, customers=20, mitras=8),
    )
    report.print()  # shown by pytest when the test fails
    assert report.ok, report.failure_message()
    assert sum(report.ops.values()) == 300, report.ops
    # The run did what it is for: races were run and lost, chats were opened and used,
    # windows ran out, and the answers were checked against the database.
    assert report.acks["accepted"] > 0 and report.acks["request"] > report.acks["accepted"]
    assert report.acks["message"] > 0 and report.acks["confirmed"] > 0
    assert any(code == "already_taken" for (_, _, code) in report.answers), report.answers
    assert report.lateness_ms, "no window ran out during the run"
    assert set(report.invariants) and not any(report.invariants.values())
