"""The composition root: every long-lived object of one process, created and closed here."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession
from valkey.asyncio import Valkey

from curhat.app_config.service import ConfigService, ConfigSnapshot
from curhat.auth.passwords import PasswordHashing
from curhat.auth.ratelimit import LoginRateLimiter
from curhat.auth.tokens import TokenSigner
from curhat.auth.verified import VerifiedTokens
from curhat.config import Settings
from curhat.deadlines.runner import DeadlineRunner
from curhat.embedded import EmbeddedServers
from curhat.observability import Metrics
from curhat.payments.sweeper import PaymentSweeper
from curhat.postgres import Database, Transactions
from curhat.presence.repository import ActiveSessions
from curhat.presence.service import Presence
from curhat.realtime import protocol
from curhat.realtime.availability_push import AvailabilityPusher
from curhat.realtime.bus import EventBus
from curhat.realtime.commands import CommandRegistry
from curhat.realtime.connection import SocketServer, own_origins
from curhat.realtime.eventlog import log_business_events
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
    verified_tokens: VerifiedTokens
    config: ConfigService
    login_limiter: LoginRateLimiter
    passwords: PasswordHashing
    hub: Hub
    bus: EventBus
    metrics: Metrics
    transactions: Transactions
    presence: Presence
    deadlines: DeadlineRunner
    sweeper: PaymentSweeper
    # Client → server WebSocket commands: each domain's register() adds its own.
    ws_commands: CommandRegistry
    sockets: SocketServer
    # Shutting down: /readyz answers 503 so load balancers stop routing here.
    draining: bool = False
    # The deadline runner's and the sweeper's own pools (closed with the runtime).
    background_dbs: list[Database] = field(default_factory=list)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def transaction(self) -> AbstractAsyncContextManager[AsyncSession]:
        """A session that commits on success; its outbox is delivered after commit."""
        return self.transactions()

    def start_draining(self) -> None:
        """The first step of a graceful shutdown: out of rotation, no new sockets."""
        self.draining = True
        self.sockets.stop_accepting()

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
        if self._tasks:
            _, stuck = await asyncio.wait(self._tasks, timeout=10)
            for task in stuck:  # never hang a shutdown on a loop that ignores cancellation
                log.error("background task %s did not stop", task.get_name())
        self._tasks.clear()
        await self.valkey.aclose()
        for db in (self.db, *self.background_dbs):
            await db.dispose()
        self.passwords.close()


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
    db = Database(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
        on_pool_wait=metrics.observe_pool_wait,
    )

    def background_db(name: str, size: int) -> Database:
        return Database(
            settings.database_url or "",
            pool_size=size,
            max_overflow=0,
            pool_timeout=settings.db_background_pool_timeout_seconds,
            name=f"curhat-{name}",
            on_pool_wait=metrics.observe_pool_wait,
        )

    deadline_db = background_db("deadlines", settings.db_deadline_pool_size)
    sweeper_db = background_db("sweeper", settings.db_sweeper_pool_size)
    valkey = create_client(settings.valkey_url)
    keys = Keys(settings.valkey_prefix)
    hub = Hub()
    bus = EventBus(valkey, keys.events_channel_prefix, hub)
    transactions = Transactions(db, bus.publish)
    transactions.tap(log_business_events)
    config = ConfigService(db.sessionmaker, valkey, keys.config_channel)

    def push_availability(available: bool, count: int) -> None:
        hub.broadcast("customer:", protocol.availability_event(available, count).frame())

    pusher = AvailabilityPusher(push_availability)
    presence = Presence(
        valkey,
        keys,
        ActiveSessions(db.sessionmaker),
        ttl=float(settings.presence_ttl_seconds),
        capacity=ConfigSnapshot.defaults().max_customers_per_mitra,
        on_availability=pusher.update,
    )
    hub.on_open(presence.on_socket_open)
    hub.on_close(presence.on_socket_close)
    config.on_change(lambda snapshot: presence.set_capacity(snapshot.max_customers_per_mitra))
    signer = TokenSigner(settings.resolved_jwt_secret(), settings.jwt_ttl_seconds)
    ws_commands = CommandRegistry()
    sockets = SocketServer(
        hub,
        signer,
        ws_commands,
        origins=own_origins(settings.public_host, settings.public_port, settings.ws_origin_list),
        on_open=metrics.ws_connections.inc,
    )
    return Runtime(
        settings=settings,
        db=db,
        valkey=valkey,
        keys=keys,
        signer=signer,
        verified_tokens=VerifiedTokens(signer),
        config=config,
        login_limiter=LoginRateLimiter(
            valkey,
            keys,
            settings.login_attempts_per_window,
            settings.login_window_seconds,
            registrations=settings.registrations_per_address,
            registration_window_seconds=settings.registration_window_seconds,
        ),
        passwords=PasswordHashing(
            concurrency=settings.password_hash_concurrency,
            wait_seconds=settings.password_hash_wait_seconds,
        ),
        hub=hub,
        bus=bus,
        metrics=metrics,
        transactions=transactions,
        presence=presence,
        deadlines=DeadlineRunner(
            transactions.using(deadline_db),
            deadline_db.sessionmaker,
            poll_interval=settings.deadline_poll_interval_seconds,
            # One connection of the runner's pool stays free for its poll.
            max_batches=max(1, settings.db_deadline_pool_size - 1),
        ),
        sweeper=PaymentSweeper(transactions.using(sweeper_db), interval=settings.sweeper_interval_seconds),
        ws_commands=ws_commands,
        sockets=sockets,
        background_dbs=[deadline_db, sweeper_db],
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


async def start_presence(runtime: Runtime, capacity: int) -> None:
    """Presence's state synced from Valkey and PostgreSQL, then its loops."""
    await runtime.presence.start(capacity)
    for name, loop in runtime.presence.loops():
        runtime.spawn(name, loop)
    try:
        await asyncio.wait_for(runtime.presence.subscribed.wait(), 5)
    except TimeoutError:
        log.warning("availability channel not subscribed yet; continuing")


async def start_domain_services(runtime: Runtime) -> None:
    """Deadlines, sweeps and presence loops of the domains, each wired with what it uses."""
    from curhat.chat import service as chat_service
    from curhat.extensions import service as extension_service
    from curhat.pairing import service as pairing_service

    config = await runtime.config.get()
    presence = runtime.presence
    chat_service.register(
        runtime.deadlines, runtime.ws_commands, runtime.config, presence, runtime.transactions
    )
    pairing_service.register(runtime.deadlines, presence, runtime.transactions)
    extension_service.register(runtime.deadlines, runtime.config, presence)

    await start_presence(runtime, config.max_customers_per_mitra)
    ttl = presence.timings
    runtime.spawn(
        "ws-idle-closer",
        lambda: runtime.hub.close_idle_forever(ttl.ttl, protocol.CLOSE_IDLE, every=ttl.refresh),
    )
    # Deadlines that passed while no process was running fire now, not at the next tick.
    await runtime.deadlines.poll_once()
    runtime.spawn("deadline-poll", runtime.deadlines.poll_forever)
    runtime.spawn("payment-sweeper", runtime.sweeper.sweep_forever)
