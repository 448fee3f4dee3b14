"""The composition root: every long-lived object of one process, created and closed here."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession
from valkey.asyncio import Valkey

from curhat.app_config.service import ConfigService
from curhat.auth.ratelimit import LoginRateLimiter
from curhat.auth.tokens import TokenSigner
from curhat.config import Settings
from curhat.deadlines.runner import DeadlineRunner
from curhat.embedded import EmbeddedServers
from curhat.observability import Metrics
from curhat.postgres import Database
from curhat.presence.service import Presence
from curhat.realtime.bus import EventBus
from curhat.realtime.commands import CommandRegistry
from curhat.realtime.hub import Hub
from curhat.realtime.protocol import Envelope
from curhat.valkey import Keys, create_client

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    db: Database
    valkey: Valkey
    keys: Keys
    signer: TokenSigner
    config: ConfigService
    login_limiter: LoginRateLimiter
    hub: Hub
    bus: EventBus
    metrics: Metrics
    presence: Presence
    deadlines: DeadlineRunner
    # Client → server WebSocket commands: runtime.ws_commands.register("chat.send", handler)
    ws_commands: CommandRegistry = field(default_factory=CommandRegistry)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def transaction(self) -> AbstractAsyncContextManager[AsyncSession]:
        """A session that commits on success; its queued events are published after commit."""
        return self.db.transaction(self.publish)

    async def publish(self, events: list[Envelope]) -> None:
        await self.bus.publish(events)

    def spawn(self, name: str, factory: Callable[[], Awaitable[None]]) -> None:
        async def guarded() -> None:
            try:
                await factory()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("background task %s crashed", name)

        self._tasks.append(asyncio.create_task(guarded(), name=name))

    async def close(self) -> None:
        self.deadlines.cancel_all()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        await self.valkey.aclose()
        await self.db.dispose()


def resolve_urls(settings: Settings) -> tuple[Settings, EmbeddedServers | None]:
    """Start the embedded servers for whichever URL is not configured (blocking)."""
    if settings.database_url and settings.valkey_url:
        return settings, None
    embedded = EmbeddedServers(settings.data_dir)
    pg, vk = embedded.start(need_postgres=not settings.database_url, need_valkey=not settings.valkey_url)
    update: dict[str, str] = {}
    if pg:
        update["database_url"] = pg
    if vk:
        update["valkey_url"] = vk
    return settings.model_copy(update=update), embedded


def build_runtime(settings: Settings) -> Runtime:
    assert settings.database_url and settings.valkey_url
    metrics = Metrics()
    db = Database(settings.database_url, on_pool_wait=metrics.observe_pool_wait)
    valkey = create_client(settings.valkey_url)
    keys = Keys(settings.valkey_prefix)
    hub = Hub()
    return Runtime(
        settings=settings,
        db=db,
        valkey=valkey,
        keys=keys,
        signer=TokenSigner(settings.resolved_jwt_secret(), settings.jwt_ttl_seconds),
        config=ConfigService(db.sessionmaker, valkey, keys.config_channel),
        login_limiter=LoginRateLimiter(
            valkey, keys, settings.login_attempts_per_window, settings.login_window_seconds
        ),
        hub=hub,
        bus=EventBus(valkey, keys.events_channel, hub),
        metrics=metrics,
        presence=Presence(),
        deadlines=DeadlineRunner(),
    )


async def start_background(runtime: Runtime) -> None:
    """Listeners and loops that make this process one instance among many."""
    runtime.spawn("config-listener", runtime.config.listen)
    runtime.spawn("event-bus", runtime.bus.listen)
    try:
        await asyncio.wait_for(runtime.bus.ready.wait(), 5)
    except TimeoutError:
        log.warning("event bus not subscribed yet; continuing")


@asynccontextmanager
async def running(settings: Settings, *, background: bool = True) -> AsyncIterator[Runtime]:
    """A started runtime for URLs already resolved (see ``resolve_urls``)."""
    runtime = build_runtime(settings)
    try:
        if background:
            await start_background(runtime)
        yield runtime
    finally:
        await runtime.close()


async def start_domain_services(runtime: Runtime) -> None:
    """Deadlines, sweeps and presence loops of the domains (each registers its own)."""
    from curhat.chat import service as chat_service
    from curhat.extensions import service as extension_service
    from curhat.pairing import service as pairing_service
    from curhat.payments.sweeper import sweep_forever

    await runtime.config.get()
    chat_service.register_deadlines(runtime)
    chat_service.register_ws_commands(runtime)
    pairing_service.register(runtime)
    extension_service.register(runtime)
    await runtime.presence.start(runtime)
    await runtime.deadlines.start(runtime)
    runtime.spawn("payment-sweeper", lambda: sweep_forever(runtime))
