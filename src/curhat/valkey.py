"""Valkey client factory and the key names, all under one configurable prefix."""

from __future__ import annotations

import uuid

from valkey.asyncio import Valkey


def create_client(url: str) -> Valkey:
    client: Valkey = Valkey.from_url(
        url,
        decode_responses=True,
        socket_connect_timeout=2,
        socket_timeout=5,
        health_check_interval=15,
        max_connections=200,
    )
    return client


class Keys:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    # pub/sub
    @property
    def events_channel_prefix(self) -> str:
        """Per-recipient shard channels: ``<prefix>ev:customer:<id>``, ``<prefix>ev:mitra:<id>``.

        Without the prefix's hash tag, if it has one: on Valkey Cluster a prefix like
        ``{curhat}:`` keeps presence keys in one slot (their scripts touch several), while the
        event channels must spread over every shard."""
        return f"{self.prefix.replace('{', '').replace('}', '')}ev:"

    @property
    def config_channel(self) -> str:
        return f"{self.prefix}config"

    @property
    def availability_channel(self) -> str:
        return f"{self.prefix}availability"

    # presence
    @property
    def wants_online(self) -> str:
        return f"{self.prefix}mitra:wants_online"

    @property
    def online(self) -> str:
        return f"{self.prefix}mitra:online"

    @property
    def available(self) -> str:
        return f"{self.prefix}mitra:available"

    @property
    def active_counts(self) -> str:
        return f"{self.prefix}mitra:active"

    @property
    def capacity(self) -> str:
        return f"{self.prefix}mitra:capacity"

    @property
    def connections_prefix(self) -> str:
        return f"{self.prefix}mitra:conns:"

    def connections(self, mitra_id: uuid.UUID | str) -> str:
        """ZSET of one mitra's live socket ids, scored by their last heartbeat (Valkey time)."""
        return f"{self.connections_prefix}{mitra_id}"

    @property
    def connection_index(self) -> str:
        """ZSET of every mitra socket ("<mitra>|<conn>") by last heartbeat: what the reaper scans."""
        return f"{self.prefix}mitra:conn_index"

    @property
    def availability_state(self) -> str:
        """The last published available count (to publish only on change)."""
        return f"{self.prefix}mitra:availability"

    @property
    def availability_version(self) -> str:
        return f"{self.prefix}mitra:availability:v"

    @property
    def counters_built(self) -> str:
        """Present once the active-session counters were rebuilt from PostgreSQL."""
        return f"{self.prefix}mitra:active:built"

    @property
    def presence_epoch(self) -> str:
        """Changes when Valkey lost its data: instances then re-assert what their sockets know."""
        return f"{self.prefix}mitra:epoch"

    # misc
    def login_attempts(self, scope: str, ident: str) -> str:
        return f"{self.prefix}login:{scope}:{ident}"

    def ws_ticket(self, ident: str) -> str:
        return f"{self.prefix}ws:{ident}"
