"""Typed config reads with a per-instance cache.

The cache is refreshed when another instance publishes an invalidation on Valkey,
and expires after ``MAX_AGE`` seconds in any case, in case a publish was lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from valkey.asyncio import Valkey

from curhat.app_config import repository
from curhat.app_config.definitions import CONFIG_KEYS, ConfigKey, ConfigValue
from curhat.errors import NotFound, ValidationFailed
from curhat.kit.pubsub import subscribe_forever
from curhat.models import AppConfig
from curhat.models.enums import DefaultAction
from curhat.realtime.outbox import after_commit, log_after_commit

log = logging.getLogger(__name__)
MAX_AGE = 10.0


class ConfigKeyNotFound(NotFound):
    code = "config_key_not_found"
    message = "Kunci pengaturan tidak dikenal."


@dataclass(frozen=True)
class ConfigSnapshot:
    """Every business setting at one moment, typed (``definitions.CONFIG_KEYS`` has the ranges)."""

    pairing_blast_timeout_seconds: int
    payment_session_timeout_minutes: int
    returning_chat_confirmation_timeout_seconds: int
    extension_default_action_on_timeout: DefaultAction
    extension_timeout_seconds: int
    max_customers_per_mitra: int
    free_trial_max_duration_minutes: int
    chat_end_warning_seconds: int

    @classmethod
    def from_values(cls, values: dict[str, ConfigValue]) -> ConfigSnapshot:
        return cls(
            pairing_blast_timeout_seconds=int(values["pairing_blast_timeout_seconds"]),
            payment_session_timeout_minutes=int(values["payment_session_timeout_minutes"]),
            returning_chat_confirmation_timeout_seconds=int(
                values["returning_chat_confirmation_timeout_seconds"]
            ),
            extension_default_action_on_timeout=DefaultAction(
                str(values["extension_default_action_on_timeout"])
            ),
            extension_timeout_seconds=int(values["extension_timeout_seconds"]),
            max_customers_per_mitra=int(values["max_customers_per_mitra"]),
            free_trial_max_duration_minutes=int(values["free_trial_max_duration_minutes"]),
            chat_end_warning_seconds=int(values["chat_end_warning_seconds"]),
        )

    @classmethod
    def defaults(cls) -> ConfigSnapshot:
        return cls.from_values({k: d.default for k, d in CONFIG_KEYS.items()})


class ConfigService:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        valkey: Valkey,
        channel: str,
        *,
        max_age: float = MAX_AGE,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._valkey = valkey
        self._channel = channel
        self._max_age = max_age
        self._snapshot: ConfigSnapshot | None = None
        self._loaded_at = 0.0
        self._lock = asyncio.Lock()
        self._listeners: list[Callable[[ConfigSnapshot], None]] = []
        self.loads = 0

    def on_change(self, listener: Callable[[ConfigSnapshot], None]) -> None:
        """Called with the new snapshot whenever it is (re)loaded."""
        self._listeners.append(listener)

    @property
    def cached(self) -> ConfigSnapshot | None:
        return self._snapshot

    def is_fresh(self) -> bool:
        return self._snapshot is not None and time.monotonic() - self._loaded_at < self._max_age

    async def get(self) -> ConfigSnapshot:
        if self.is_fresh():
            assert self._snapshot is not None
            return self._snapshot
        return await self.reload()

    async def reload(self) -> ConfigSnapshot:
        async with self._lock:
            async with self._sessionmaker() as session:
                rows = await repository.all_rows(session)
            self._snapshot = ConfigSnapshot.from_values(_parse_rows(rows))
            self._loaded_at = time.monotonic()
            self.loads += 1
        for listener in self._listeners:
            listener(self._snapshot)
        return self._snapshot

    def invalidate(self) -> None:
        self._loaded_at = 0.0

    async def update(
        self, session: AsyncSession, key: str, raw: object, operator_id: uuid.UUID | None
    ) -> AppConfig:
        definition = CONFIG_KEYS.get(key)
        if definition is None:
            raise ConfigKeyNotFound()
        try:
            value = definition.parse(raw)
        except ValueError as exc:
            raise ValidationFailed([{"field": "value", "message": str(exc)}]) from None
        row = await repository.set_value(session, key, str(value), operator_id)
        if row is None:
            raise ConfigKeyNotFound()
        after_commit(session, self.publish_invalidation)
        log_after_commit(session, "config.changed", key=key, value=str(value), operator_id=operator_id)
        return row

    async def publish_invalidation(self) -> None:
        """After commit: every instance (this one included) reloads."""
        self.invalidate()
        try:
            await self._valkey.publish(self._channel, "reload")
        except Exception:  # the 10 s expiry still converges
            log.warning("config invalidation publish failed", exc_info=True)

    async def listen(self) -> None:
        """Runs for the process's life: reload on every invalidation message."""

        async def reload(_: object) -> None:
            self.invalidate()
            try:
                await self.reload()
            except Exception:
                log.warning("config reload failed", exc_info=True)

        await subscribe_forever(
            self._valkey,
            self._channel,
            reload,
            on_lost=self.invalidate,
            retry_after=1,
            name="config listener",
        )


def _parse_rows(rows: list[AppConfig]) -> dict[str, ConfigValue]:
    values: dict[str, ConfigValue] = {k: d.default for k, d in CONFIG_KEYS.items()}
    for row in rows:
        definition = CONFIG_KEYS.get(row.key)
        if definition is None:
            continue
        try:
            values[row.key] = definition.parse(row.value)
        except ValueError:
            log.error("app_config %s holds an invalid value %r; using default", row.key, row.value)
    return values


@dataclass(frozen=True)
class SettingRow:
    """One config key as an operator edits it: its definition, current value and last change."""

    definition: ConfigKey
    value: ConfigValue
    updated_at: datetime | None
    updated_by_name: str | None


async def list_settings(session: AsyncSession) -> list[SettingRow]:
    """Every known key in definition order; a stored value that no longer parses shows the default."""
    stored = {row.key: (row, name) for row, name in await repository.rows_with_editors(session)}
    out: list[SettingRow] = []
    for key, definition in CONFIG_KEYS.items():
        row, name = stored.get(key, (None, None))
        value = definition.default
        if row is not None:
            with contextlib.suppress(ValueError):
                value = definition.parse(row.value)
        updated_by = name if row is not None and row.updated_by is not None else None
        out.append(SettingRow(definition, value, row.updated_at if row else None, updated_by))
    return out
