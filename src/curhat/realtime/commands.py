"""Client → server WebSocket commands: a registry other domains add typed handlers to.

Usage (from a domain's ``register(...)``)::

    async def on_send(principal: Principal, frame: events.ChatSend) -> None:
        ...  # frame is already validated against the model

    ws_commands.register(events.ChatSend, on_send)                   # customers and mitras
    ws_commands.register(events.SomeCommand, handler, roles=("mitra",))

A frame that does not validate gets an ``ERROR`` event ``validation_error``; a handler
that raises ``CurhatError`` makes the socket receive an ``ERROR`` event ``{code, message}``;
nothing else happens to the socket. Handlers run one at a time per socket, in the order the
frames arrived; they must not hold a database transaction open while waiting on anything
but the database.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from curhat.auth.tokens import Principal, Role
from curhat.realtime.events import ClientCommand, Ping, event_type

RESERVED = frozenset({event_type(Ping)})

C = TypeVar("C", bound=ClientCommand)


@dataclass(frozen=True)
class Command:
    name: str
    model: type[ClientCommand]
    handler: Callable[[Principal, Any], Awaitable[None]]
    roles: frozenset[Role]


class CommandRegistry:
    def __init__(self) -> None:
        self._commands: dict[str, Command] = {}

    def register(
        self,
        model: type[C],
        handler: Callable[[Principal, C], Awaitable[None]],
        *,
        roles: Iterable[Role] = ("customer", "mitra"),
    ) -> None:
        """Route frames ``{"type": <model's type>, ...}`` from sockets of these roles to ``handler``."""
        name = event_type(model)
        if name in RESERVED:
            raise ValueError(f"{name!r} is handled by the hub itself")
        if name in self._commands:
            raise ValueError(f"a handler for {name!r} is already registered")
        self._commands[name] = Command(name, model, handler, frozenset(roles))

    def unregister(self, name: str) -> None:
        self._commands.pop(name, None)

    def get(self, name: str, role: Role) -> Command | None:
        command = self._commands.get(name)
        if command is None or role not in command.roles:
            return None
        return command

    def __contains__(self, name: object) -> bool:
        return name in self._commands
