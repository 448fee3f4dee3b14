"""Failed-login counters in Valkey, per phone/email and per client address, and sign-ups per address."""

from __future__ import annotations

from valkey.asyncio import Valkey

from curhat.errors import TooManyAttempts
from curhat.valkey import Keys

# An address may fail more often than one account: several people share NATs.
ADDRESS_FACTOR = 5


class LoginRateLimiter:
    def __init__(
        self,
        valkey: Valkey,
        keys: Keys,
        attempts: int,
        window_seconds: int,
        *,
        registrations: int = 10,
        registration_window_seconds: int = 3600,
    ) -> None:
        self._valkey = valkey
        self._keys = keys
        self._attempts = attempts
        self._window = window_seconds
        self._registrations = registrations
        self._registration_window = registration_window_seconds

    async def registration(self, address: str) -> None:
        """Counts every attempt, refused ones too: each one costs a hash before it can fail."""
        key = self._keys.login_attempts("register", address)
        async with self._valkey.pipeline(transaction=False) as pipe:
            pipe.incr(key)
            pipe.expire(key, self._registration_window, nx=True)
            pipe.ttl(key)
            count, _, ttl = await pipe.execute()
        if int(count) > self._registrations:
            retry_after = int(ttl) if int(ttl) > 0 else self._registration_window
            raise TooManyAttempts(headers={"Retry-After": str(retry_after)})

    def _keys_for(self, account: str, address: str) -> tuple[str, str]:
        return self._keys.login_attempts("account", account), self._keys.login_attempts("addr", address)

    async def check(self, account: str, address: str) -> None:
        account_key, address_key = self._keys_for(account, address)
        account_fails, address_fails = await self._valkey.mget(account_key, address_key)
        if int(account_fails or 0) >= self._attempts or int(address_fails or 0) >= (
            self._attempts * ADDRESS_FACTOR
        ):
            raise TooManyAttempts(headers={"Retry-After": str(self._window)})

    async def failed(self, account: str, address: str) -> None:
        async with self._valkey.pipeline(transaction=False) as pipe:
            for key in self._keys_for(account, address):
                pipe.incr(key)
                pipe.expire(key, self._window, nx=True)
            await pipe.execute()

    async def succeeded(self, account: str, address: str) -> None:
        await self._valkey.delete(self._keys_for(account, address)[0])
