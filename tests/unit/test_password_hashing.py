"""Hashing is capped: a burst cannot hold more than ``concurrency`` hashes at once."""

from __future__ import annotations

import asyncio
import threading

import pytest

from curhat.auth import passwords
from curhat.auth.passwords import PasswordHashing, PasswordHashingBusy


class GatedHasher:
    """Stands in for argon2: each hash blocks until the test opens the gate."""

    def __init__(self, expected_inside: int) -> None:
        self.gate = threading.Event()
        self.inside = 0
        self.most_inside = 0
        self._lock = threading.Lock()
        self._expected = expected_inside
        self.all_inside = threading.Event()

    def hash(self, password: str) -> str:
        with self._lock:
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
            if self.inside >= self._expected:
                self.all_inside.set()
        self.gate.wait(timeout=30)
        with self._lock:
            self.inside -= 1
        return f"hashed:{password}"


async def test_a_third_hash_waits_then_answers_busy_while_two_are_running(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = GatedHasher(expected_inside=2)
    monkeypatch.setattr(passwords, "_hasher", fake)
    hashing = PasswordHashing(concurrency=2, wait_seconds=0.05)
    try:
        running = [asyncio.create_task(hashing.hash(f"pw{i}")) for i in range(2)]
        assert await asyncio.to_thread(fake.all_inside.wait, 30)

        with pytest.raises(PasswordHashingBusy) as busy:
            await hashing.hash("third")
        assert busy.value.status == 503 and busy.value.code == "service_unavailable"
        assert "Retry-After" in (busy.value.headers or {})

        fake.gate.set()
        assert await asyncio.gather(*running) == ["hashed:pw0", "hashed:pw1"]
        # The slots came back: the next caller is served.
        assert await hashing.hash("later") == "hashed:later"
    finally:
        fake.gate.set()
        hashing.close()


async def test_real_argon2_round_trip() -> None:
    hashing = PasswordHashing(concurrency=1)
    try:
        digest = await hashing.hash("rahasia-123")
        assert await hashing.verify(digest, "rahasia-123")
        assert not await hashing.verify(digest, "salah-sekali")
        assert not await hashing.verify(None, "rahasia-123")
    finally:
        hashing.close()
