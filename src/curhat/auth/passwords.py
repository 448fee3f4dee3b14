"""argon2id hashing, off the event loop and capped.

A hash costs tens of milliseconds of CPU and 64 MiB of memory. Unbounded, a burst of
sign-ups or logins would fill the default thread pool (which DNS look-ups and other
``to_thread`` calls share) and starve the event loop that carries every socket, so
hashing gets its own small pool and a bounded wait: past it the caller answers 503.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from curhat.errors import ServiceUnavailable

_hasher = PasswordHasher()
# Verified against when the account does not exist, so both paths cost the same.
_DUMMY_HASH = _hasher.hash("curhat-dummy-password")

MIN_PASSWORD_LENGTH = 8

T = TypeVar("T")


class PasswordHashingBusy(ServiceUnavailable):
    message = "Server sedang sibuk; coba lagi sebentar."


class PasswordHashing:
    """At most ``concurrency`` hashes at once; a caller waits ``wait_seconds`` for a slot."""

    def __init__(self, *, concurrency: int = 2, wait_seconds: float = 30.0) -> None:
        self._slots = asyncio.Semaphore(concurrency)
        self._executor = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="argon2")
        self._wait_seconds = wait_seconds

    async def _run(self, work: Callable[[], T]) -> T:
        try:
            async with asyncio.timeout(self._wait_seconds):
                await self._slots.acquire()
        except TimeoutError:
            raise PasswordHashingBusy() from None
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, work)
        finally:
            self._slots.release()

    async def hash(self, password: str) -> str:
        return await self._run(lambda: _hasher.hash(password))

    async def verify(self, password_hash: str | None, password: str) -> bool:
        def check() -> bool:
            try:
                return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
            except (VerificationError, InvalidHashError):
                return False

        return await self._run(check)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
