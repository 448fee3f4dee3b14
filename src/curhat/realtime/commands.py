"""Client → server WebSocket commands: a registry other domains add handlers to.

Usage (e.g. from a domain's ``register(runtime)``)::

    async def on_send(principal: Principal, payload: dict[str, Any]) -> None:
        ...  # payload is the client's frame without "type"

    runtime.ws_commands.register("chat.send", on_send)                  # customers and mitras
    runtime.ws_commands.register("x.y", handler, roles=("mitra",))      # mitras only

A handler that raises ``CurhatError`` makes the socket that sent the frame receive an
``ERROR`` event ``{code, message}``; nothing else happens to the socket. Handlers run
one at a time per socket, in the order the frames arrived; they must not hold a
database transaction open while waiting on anything but the database.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from curhat.auth.tokens import Principal, Role

CommandHandler = Callable[[Principal, dict[str, Any]], Awaitable[None]]

RESERVED = frozenset({"ping"})


@dataclass(frozen=True)
class Command:
    name: str
    handler: CommandHandler
    roles: frozenset[Role]


class CommandRegistry:
    def __init__(self) -> None:
        self._commands: dict[str, Command] = {}

    def register(
        self,
        name: str,
        handler: CommandHandler,
        *,
        roles: Iterable[Role] = ("customer", "mitra"),
    ) -> None:
        """Route frames ``{"type": name, ...}`` from sockets of these roles to ``handler``."""
        if name in RESERVED:
            raise ValueError(f"{name!r} is handled by the hub itself")
        if name in self._commands:
            raise ValueError(f"a handler for {name!r} is already registered")
        self._commands[name] = Command(name, handler, frozenset(roles))

    def unregister(self, name: str) -> None:
        self._commands.pop(name, None)

    def get(self, name: str, role: Role) -> Command | None:
        command = self._commands.get(name)
        if command is None or role not in command.roles:
            return None
        return command

    def __contains__(self, name: object) -> bool:
        return name in self._commands
