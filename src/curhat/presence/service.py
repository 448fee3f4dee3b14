"""Presence (Valkey only): online mitras, live sockets, active-session counters, availability.

A mitra is *online* when they asked to be (``POST /api/mitra/status``) and hold a live
WebSocket on any instance. Each mitra socket has a heartbeat score in Valkey, refreshed
by the instance holding it; a socket whose instance vanished is reaped by any instance
within the presence TTL. Active-session counters are copies of PostgreSQL, rebuilt from
it at start-up and whenever Valkey lost them.

Availability (``countAvailableMitrasFromCache``) is a Valkey SET of the mitras online and
below the cap, kept by the Lua scripts in ``scripts``. Its size is published on a channel
when it changes; every instance keeps the answer in memory, so ``availability()`` does no
I/O at all. A backstop re-reads it every ``BACKSTOP_SECONDS``.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from valkey.asyncio import Valkey
from valkey.commands.core import AsyncScript

from curhat.kit.pubsub import subscribe_forever
from curhat.presence import scripts
from curhat.presence.repository import ActiveSessions
from curhat.realtime.hub import Connection
from curhat.valkey import Keys

log = logging.getLogger(__name__)

AvailableCallback = Callable[[uuid.UUID], Awaitable[None]]
AvailabilityListener = Callable[[bool, int], None]
ScriptArg = str | int | float

BACKSTOP_SECONDS = 2.0
REAP_BATCH = 1000
REFRESH_BATCH = 2000
MITRA_PREFIX = "mitra:"


class PresenceTimings:
    """Derived from the TTL so that a vanished socket is offline within ``ttl`` seconds.

    A live instance refreshes its sockets every ``refresh``; a socket whose score is older
    than ``stale_after`` is reaped by the next reaper tick (every ``reap``). The worst case
    for a socket dying right after a refresh is ``stale_after + reap = ttl - refresh``.
    """

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self.refresh = max(ttl / 6, 0.1)
        self.reap = max(ttl / 15, 0.1)
        self.stale_after = max(ttl - self.refresh - self.reap, self.refresh * 2)


def _uuid(value: Any) -> uuid.UUID:
    return uuid.UUID(str(value))


class Presence:
    def __init__(
        self,
        valkey: Valkey,
        keys: Keys,
        active_sessions: ActiveSessions,
        *,
        ttl: float,
        capacity: int,
        on_availability: AvailabilityListener | None = None,
    ) -> None:
        self._valkey = valkey
        self._keys = keys
        self._active_sessions = active_sessions
        self._on_availability = on_availability
        self._on_available: list[AvailableCallback] = []
        self._cap = capacity
        self._snapshot: tuple[bool, int] = (False, 0)
        self._version = -1
        self._body = b'{"available":false,"count":0}'
        self._epoch = ""
        self._wants: dict[uuid.UUID, bool] = {}  # what this instance knows of its own mitras' wishes
        self._sockets: dict[str, Connection] = {}  # this instance's mitra sockets, by connection id
        self._tasks: set[asyncio.Task[None]] = set()
        self.timings = PresenceTimings(ttl)
        self.backstop_seconds = BACKSTOP_SECONDS
        self.subscribed = asyncio.Event()
        self._script_keys = [
            keys.wants_online,
            keys.online,
            keys.available,
            keys.active_counts,
            keys.capacity,
            keys.availability_state,
            keys.connection_index,
            keys.presence_epoch,
            keys.counters_built,
            keys.availability_version,
        ]
        self._scripts: dict[str, AsyncScript] = {
            name: valkey.register_script(getattr(scripts, name))
            for name in (
                "CONNECT",
                "DISCONNECT",
                "SET_WANTS",
                "SET_ACTIVE",
                "SET_CAPACITY",
                "REBUILD_COUNTERS",
                "RECOMPUTE_ALL",
                "REAP",
                "REFRESH",
            )
        }

    # -- wiring -----------------------------------------------------------------------------

    def on_mitra_available(self, callback: AvailableCallback) -> None:
        """Called when a mitra comes online or frees a slot (late joiners get open blasts)."""
        self._on_available.append(callback)

    async def start(self, capacity: int) -> None:
        """Apply the cap, rebuild counters and sync the snapshot (the loops are ``loops()``)."""
        self._cap = capacity
        try:
            await self._apply_capacity(self._cap)
            await self.rebuild_counters()
            await self.refresh_availability()
        except Exception:
            log.warning("presence start-up without Valkey; the backstop will rebuild", exc_info=True)
            self._set_snapshot(None)

    def loops(self) -> list[tuple[str, Callable[[], Awaitable[None]]]]:
        """The background loops the owner runs for the process's life."""
        return [
            ("presence-availability", self._listen),
            ("presence-backstop", self._backstop_loop),
            ("presence-heartbeat", self._heartbeat_loop),
            ("presence-reaper", self._reaper_loop),
        ]

    @property
    def _vk(self) -> Valkey:
        return self._valkey

    @property
    def _k(self) -> Keys:
        return self._keys

    async def _run(self, name: str, *args: ScriptArg) -> Any:
        keys = self._k
        argv: list[ScriptArg] = [keys.connections_prefix, keys.availability_channel, self._cap, *args]
        return await self._scripts[name](keys=self._script_keys, args=argv)

    # -- reads ------------------------------------------------------------------------------

    async def is_online(self, mitra_id: uuid.UUID) -> bool:
        """Wants to be online and holds a live socket (on any instance)."""
        return bool(await self._vk.sismember(self._k.online, str(mitra_id)))  # type: ignore[misc]

    async def has_live_socket(self, mitra_id: uuid.UUID) -> bool:
        return int(await self._vk.zcard(self._k.connections(mitra_id))) > 0

    async def online_mitras_below_capacity(self) -> list[uuid.UUID]:
        """Mitras eligible for a blast offer now (online and below the cap)."""
        members = await self._vk.smembers(self._k.available)  # type: ignore[misc]
        return [_uuid(m) for m in members]

    async def available_mitra_keys(self) -> list[str]:
        """``online_mitras_below_capacity`` as the set's own strings (no UUID parsed per member):
        a blast hands them to PostgreSQL as one array."""
        members = await self._vk.smembers(self._k.available)  # type: ignore[misc]
        return [str(m) for m in members]

    async def online_count(self) -> int:
        return int(await self._vk.scard(self._k.online))  # type: ignore[misc]

    async def active_count(self, mitra_id: uuid.UUID) -> int:
        value = await self._vk.hget(self._k.active_counts, str(mitra_id))  # type: ignore[misc]
        if value is None and not await self._vk.exists(self._k.counters_built):
            await self.rebuild_counters()
            value = await self._vk.hget(self._k.active_counts, str(mitra_id))  # type: ignore[misc]
        return int(value or 0)

    @property
    def capacity(self) -> int:
        return self._cap

    def availability(self) -> tuple[bool, int]:
        """``countAvailableMitrasFromCache``: the in-process snapshot, no I/O."""
        return self._snapshot

    def availability_body(self) -> bytes:
        """The snapshot as the JSON body of ``GET /api/client/mitra-availability``, encoded once."""
        return self._body

    # -- sockets ----------------------------------------------------------------------------

    async def on_socket_open(self, conn: Connection) -> None:
        """Hub hook: a mitra socket is about to be accepted on this instance (raises if Valkey is down)."""
        if conn.key.startswith(MITRA_PREFIX):
            await self.register_connection(_uuid(conn.key[len(MITRA_PREFIX) :]), conn.id)
            self._sockets[conn.id] = conn

    async def on_socket_close(self, conn: Connection) -> None:
        """Hub hook: a socket closed; the last mitra socket going takes the mitra offline."""
        if self._sockets.pop(conn.id, None) is not None:
            await self.unregister_connection(_uuid(conn.key[len(MITRA_PREFIX) :]), conn.id)

    async def register_connection(self, mitra_id: uuid.UUID, conn_id: str) -> None:
        """A mitra socket opened on this instance (call before accepting it)."""
        result = await self._run("CONNECT", str(mitra_id), conn_id)
        self._apply_published(result[1])
        if int(result[0]) == 1:
            await self._fire_available([mitra_id])

    async def unregister_connection(self, mitra_id: uuid.UUID, conn_id: str) -> None:
        """A mitra socket closed; the last one going takes the mitra offline."""
        result = await self._run("DISCONNECT", str(mitra_id), conn_id)
        self._apply_published(result[1])
        if not await self.has_live_socket(mitra_id):
            self._wants.pop(mitra_id, None)

    # -- writes -----------------------------------------------------------------------------

    async def set_online(self, mitra_id: uuid.UUID) -> bool:
        """The mitra asks to be online; False (and nothing changes) without a live socket."""
        result = await self._run("SET_WANTS", str(mitra_id), "1")
        newly = int(result[0])
        self._apply_published(result[1])
        if newly == -1:
            return False
        self._wants[mitra_id] = True
        if newly == 1:
            await self._fire_available([mitra_id])
        return True

    async def set_offline(self, mitra_id: uuid.UUID) -> None:
        """The mitra asks to be offline (or was deactivated): the wish is cleared."""
        result = await self._run("SET_WANTS", str(mitra_id), "0")
        self._wants[mitra_id] = False
        self._apply_published(result[1])

    async def set_active_count(self, mitra_id: uuid.UUID, count: int) -> None:
        """The absolute count from PostgreSQL, after commit; updates availability."""
        result = await self._run("SET_ACTIVE", str(mitra_id), max(int(count), 0))
        self._apply_published(result[1])
        if int(result[0]) == 1:
            await self._fire_available([mitra_id])

    async def resync_active_count(self, mitra_id: uuid.UUID) -> None:
        """After a commit that started or ended a chat: the counter is set from PostgreSQL."""
        await self.set_active_count(mitra_id, await self._active_sessions.for_mitra(mitra_id))

    async def resync_active_counts(self, mitra_ids: list[uuid.UUID]) -> None:
        """``resync_active_count`` for many mitras (a batch of chats ended): one query."""
        for mitra_id, count in (await self._active_sessions.for_mitras(mitra_ids)).items():
            await self.set_active_count(mitra_id, count)

    async def rebuild_counters(self) -> None:
        """Replace every counter with ``chat_sessions`` counts (start-up, or Valkey lost them)."""
        counts = await self._active_sessions.all()
        args: list[ScriptArg] = []
        for mitra_id, n in counts.items():
            args += [str(mitra_id), n]
        await self._after_bulk(await self._run("REBUILD_COUNTERS", *args))

    async def refresh_availability(self) -> None:
        """Recompute every online mitra's availability and publish the answer if it changed."""
        await self._after_bulk(await self._run("RECOMPUTE_ALL"))

    async def _apply_capacity(self, cap: int) -> None:
        self._cap = cap
        await self._after_bulk(await self._run("SET_CAPACITY", cap))

    async def _after_bulk(self, result: Sequence[Any]) -> None:
        self._apply_published(result[0])
        await self._fire_available([_uuid(m) for m in result[1:]])

    async def _fire_available(self, mitras: Iterable[uuid.UUID]) -> None:
        for mitra_id in mitras:
            for callback in self._on_available:
                try:
                    await callback(mitra_id)
                except Exception:
                    log.exception("mitra-available callback failed for %s", mitra_id)

    def set_capacity(self, cap: int) -> None:
        """The cap changed in the config: availability is recomputed in the background."""
        if cap == self._cap:
            return
        self._cap = cap

        async def apply() -> None:
            try:
                await self._apply_capacity(cap)
            except Exception:
                log.warning("capacity change not applied yet; the backstop retries", exc_info=True)

        task = asyncio.get_running_loop().create_task(apply())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- the snapshot -----------------------------------------------------------------------

    def _apply_published(self, published: Any, *, force: bool = False) -> None:
        """``"<version>:<count>"``: applied unless an answer with a later version was seen.

        ``force`` (an authoritative read) also accepts a lower version: Valkey lost its data.
        """
        version_s, _, count_s = str(published).partition(":")
        version = int(version_s)
        if version < self._version and not force:
            return
        self._version = version
        self._set_snapshot(int(count_s))

    async def _read_published(self) -> None:
        keys = self._k
        async with self._vk.pipeline(transaction=True) as pipe:
            pipe.get(keys.availability_version)
            pipe.scard(keys.available)
            version, count = await pipe.execute()
        self._apply_published(f"{version or 0}:{count}", force=True)

    def _set_snapshot(self, count: int | None) -> None:
        """``None``: Valkey is unreachable, so nobody is available as far as we can tell."""
        new = (False, 0) if count is None else (count > 0, count)
        if new == self._snapshot:
            return
        self._snapshot = new
        self._body = b'{"available":%s,"count":%d}' % (b"true" if new[0] else b"false", new[1])
        if self._on_availability is not None:
            self._on_availability(*new)

    async def _listen(self) -> None:
        """Every instance's snapshot follows the counts published by whichever instance changed it."""

        async def subscribed() -> None:
            self.subscribed.set()
            await self._read_published()

        def lost() -> None:
            self.subscribed.clear()
            self._set_snapshot(None)

        await subscribe_forever(
            self._vk,
            self._k.availability_channel,
            self._apply_published,
            on_subscribed=subscribed,
            on_lost=lost,
            name="availability subscriber",
        )

    async def _backstop_loop(self) -> None:
        while True:
            await asyncio.sleep(self.backstop_seconds)
            await self.backstop_once()

    async def backstop_once(self) -> None:
        """Re-read the answer; rebuild what Valkey lost (counters, cap). Never raises."""
        keys = self._k
        try:
            async with self._vk.pipeline(transaction=True) as pipe:
                pipe.get(keys.availability_version)
                pipe.scard(keys.available)
                pipe.exists(keys.counters_built)
                pipe.get(keys.capacity)
                version, count, built, cap = await pipe.execute()
            if not built:
                log.info("presence counters missing in Valkey; rebuilding from PostgreSQL")
                await self.rebuild_counters()
            elif cap is None or int(cap) != self._cap:
                await self._apply_capacity(self._cap)
            else:
                self._apply_published(f"{version or 0}:{count}", force=True)
        except Exception:
            log.warning("presence backstop: Valkey unavailable", exc_info=True)
            self._set_snapshot(None)

    # -- heartbeats and the reaper -----------------------------------------------------------

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(self.timings.refresh)
            await self.heartbeat_once()

    async def heartbeat_once(self) -> None:
        """Refresh this instance's mitra sockets in Valkey (the hub closes sockets gone silent)."""
        conns = [c for c in self._sockets.values() if c.close_code is None]
        if not conns and not self._wants:
            return
        try:
            for start in range(0, max(len(conns), 1), REFRESH_BATCH):
                args: list[ScriptArg] = [uuid.uuid4().hex, self._epoch]
                for conn in conns[start : start + REFRESH_BATCH]:
                    mitra_id = _uuid(conn.key.partition(":")[2])
                    args += [str(mitra_id), conn.id, "1" if self._wants.get(mitra_id) else "0"]
                epoch, wants, newly, published = await self._run("REFRESH", *args)
                self._epoch = str(epoch)
                for i in range(0, len(wants), 2):
                    self._wants[_uuid(wants[i])] = bool(int(wants[i + 1]))
                self._apply_published(published)
                await self._fire_available([_uuid(m) for m in newly])
            live = {_uuid(c.key.partition(":")[2]) for c in conns}
            for mitra_id in [m for m in self._wants if m not in live]:
                del self._wants[mitra_id]
        except Exception:
            log.warning("presence heartbeat: Valkey unavailable", exc_info=True)

    async def _reaper_loop(self) -> None:
        while True:
            await asyncio.sleep(self.timings.reap)
            await self.reap_once()

    async def reap_once(self) -> int:
        """Remove sockets whose instance stopped refreshing them; how many. Never raises."""
        try:
            reaped = int(await self._run("REAP", self.timings.stale_after, REAP_BATCH))
        except Exception:
            log.warning("presence reaper: Valkey unavailable", exc_info=True)
            return 0
        if reaped:
            log.info("reaped %d vanished mitra sockets", reaped)
        return reaped
