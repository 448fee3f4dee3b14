"""`curhat serve` raises its soft open-file limit: every idle WebSocket is a descriptor."""

from __future__ import annotations

import resource
from collections.abc import Iterator

import pytest

from curhat.cli.serve import raise_open_file_limit


@pytest.fixture
def low_soft_limit() -> Iterator[int]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    lowered = min(soft, 256)
    resource.setrlimit(resource.RLIMIT_NOFILE, (lowered, hard))
    yield hard
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_the_soft_limit_is_raised_to_the_hard_one(low_soft_limit: int) -> None:
    hard = low_soft_limit
    expected = hard if hard != resource.RLIM_INFINITY else 1 << 20
    assert raise_open_file_limit() == expected
    assert resource.getrlimit(resource.RLIMIT_NOFILE) == (expected, hard)
    # again: nothing left to raise, nothing changes
    assert raise_open_file_limit() == expected
