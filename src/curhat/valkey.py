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
    def events_channel(self) -> str:
        return f"{self.prefix}events"

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

    def connections(self, mitra_id: uuid.UUID | str) -> str:
        return f"{self.prefix}mitra:conns:{mitra_id}"

    # misc
    def login_attempts(self, scope: str, ident: str) -> str:
        return f"{self.prefix}login:{scope}:{ident}"

    def ws_ticket(self, ident: str) -> str:
        return f"{self.prefix}ws:{ident}"
