"""The ``/ws`` contract as an AsyncAPI 3.0 document and as ``docs/websocket.md``, both generated
from the typed models in ``realtime.events`` (``python -m curhat.realtime.asyncapi --markdown``
rewrites the doc; a test fails when it is stale)."""

from __future__ import annotations

import enum
import json
import sys
import types
import uuid
from datetime import UTC, datetime
from typing import Any, TypeVar, Union, get_args, get_origin

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from curhat.realtime import protocol
from curhat.realtime.events import (
    CLIENT_COMMANDS,
    PONG,
    SERVER_EVENTS,
    ClientCommand,
    ServerEvent,
    event_type,
)

_REF = "#/components/schemas/{model}"
M = TypeVar("M", bound=BaseModel)
_EXAMPLE_TIME = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)

INTRO = """Every frame is one JSON text message. Server → client frames are
`{"type": "EVENT_NAME", "id": "<unique event id>", "ts": "<UTC time>", "data": {...}}`;
client → server frames are `{"type": "command.name", ...fields}`."""


def _example_value(annotation: Any, name: str) -> Any:
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        non_null = [a for a in get_args(annotation) if a is not type(None)]
        return _example_value(non_null[0], name)
    if origin is not None and str(origin).endswith("Literal"):
        return get_args(annotation)[0]
    if isinstance(annotation, type):
        if issubclass(annotation, BaseModel):
            return example_of(annotation)
        if issubclass(annotation, enum.Enum):
            return next(iter(annotation))
        if issubclass(annotation, bool):
            return True
        if issubclass(annotation, int):
            return 15
        if issubclass(annotation, uuid.UUID):
            return uuid.uuid5(uuid.NAMESPACE_URL, f"curhat:{name}")  # the same in every build
        if issubclass(annotation, datetime):
            return _EXAMPLE_TIME
    return "teks"


def example_of(model: type[M]) -> M:
    """An instance of ``model`` with plausible fixed values (for the docs)."""
    values = {
        name: _example_value(field.annotation, name)
        for name, field in model.model_fields.items()
        if name != "type"
    }
    return model(**values)


def _hoist(schema: dict[str, Any], into: dict[str, Any]) -> dict[str, Any]:
    for name, definition in schema.pop("$defs", {}).items():
        into[name] = definition
    return schema


def _event_schema(model: type[ServerEvent], schemas: dict[str, Any]) -> dict[str, Any]:
    data = _hoist(model.model_json_schema(ref_template=_REF), schemas)
    data["properties"].pop("type", None)
    data["required"] = [r for r in data.get("required", []) if r != "type"]
    data["additionalProperties"] = False
    schemas[f"{model.__name__}Data"] = data
    return {
        "type": "object",
        "required": ["type", "id", "ts", "data"],
        "additionalProperties": False,
        "properties": {
            "type": {"const": event_type(model)},
            "id": {"type": "string"},
            "ts": {"type": "string", "format": "date-time"},
            "data": {"$ref": _REF.format(model=f"{model.__name__}Data")},
        },
    }


def _command_schema(model: type[ClientCommand], schemas: dict[str, Any]) -> dict[str, Any]:
    schema = _hoist(model.model_json_schema(ref_template=_REF), schemas)
    schema["properties"]["type"] = {"const": event_type(model)}
    schema["required"] = sorted({"type", *schema.get("required", [])})
    schema["additionalProperties"] = False
    return schema


def _example_frame(model: type[ServerEvent]) -> dict[str, Any]:
    env = protocol.Envelope(example_of(model), [], id="3f2a9c1e0b7d4e5f8a6b2c1d0e9f8a7b", ts=_EXAMPLE_TIME)
    frame: dict[str, Any] = json.loads(env.frame())
    return frame


def document(host: str = "127.0.0.1:8000") -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for model in SERVER_EVENTS:
        name = event_type(model)
        schemas[model.__name__] = _event_schema(model, schemas)
        messages[name] = {
            "name": name,
            "title": name,
            "summary": (model.__doc__ or "").strip(),
            "description": f"Sent to: {model.to}.",
            "contentType": "application/json",
            "payload": {"$ref": _REF.format(model=model.__name__)},
            "examples": [{"payload": _example_frame(model)}],
        }
    for command in CLIENT_COMMANDS:
        name = event_type(command)
        schemas[command.__name__] = _command_schema(command, schemas)
        messages[name] = {
            "name": name,
            "title": name,
            "summary": (command.__doc__ or "").strip(),
            "contentType": "application/json",
            "payload": {"$ref": _REF.format(model=command.__name__)},
            "examples": [{"payload": json.loads(example_of(command).model_dump_json())}],
        }
    schemas["Pong"] = {"type": "object", "properties": {"type": {"const": "pong"}}, "required": ["type"]}
    messages["pong"] = {
        "name": "pong",
        "summary": "The answer to a ping.",
        "payload": {"$ref": _REF.format(model="Pong")},
        "examples": [{"payload": PONG}],
    }
    server_events = [*(event_type(m) for m in SERVER_EVENTS), "pong"]
    client_commands = [event_type(c) for c in CLIENT_COMMANDS]
    ref = "#/channels/ws/messages/{}"
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Curhat realtime (/ws)",
            "version": "1.0.0",
            "description": INTRO + "\n\nEvents are at-most-once: after a reconnect, re-read the REST state.",
        },
        "defaultContentType": "application/json",
        "servers": {
            "public": {
                "host": host,
                "protocol": "ws",
                "description": "The public listener. Authenticate with the subprotocol `bearer.<token>`.",
            }
        },
        "channels": {
            "ws": {
                "address": "/ws",
                "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in messages},
            }
        },
        "operations": {
            "sendEvents": {
                "action": "send",
                "channel": {"$ref": "#/channels/ws"},
                "summary": "Events the server pushes to a customer's or a mitra's sockets.",
                "messages": [{"$ref": ref.format(n)} for n in server_events],
            },
            "receiveCommands": {
                "action": "receive",
                "channel": {"$ref": "#/channels/ws"},
                "summary": "Frames a client may send.",
                "messages": [{"$ref": ref.format(n)} for n in client_commands],
            },
        },
        "components": {"schemas": schemas, "messages": messages},
    }


router = APIRouter(tags=["realtime"])


@router.get("/asyncapi.json", summary="The /ws protocol (AsyncAPI 3.0)", operation_id="asyncapi")
async def asyncapi_json(request: Request) -> JSONResponse:
    """Every WebSocket event and command, with JSON Schemas and examples, generated from the models."""
    return JSONResponse(document(request.url.netloc))


MARKDOWN_HEAD = """# The WebSocket protocol (`/ws`)

Generated from `src/curhat/realtime/events.py` by
`python -m curhat.realtime.asyncapi --markdown > docs/websocket.md`; the machine-readable
version is the AsyncAPI 3.0 document served at `/asyncapi.json` on the public listener.

## Connecting
- Open `ws://<public listener>/ws` with the JWT from login as the subprotocol
  `bearer.<token>` (preferred: it stays out of URLs and logs). `?token=<jwt>` also works.
  Customers and mitras may connect; operators have no socket.
- A browser page's `Origin` must be the public listener's own (or one in `CURHAT_WS_ORIGINS`).
- One socket per app tab; a person may hold several, each gets every event.
- A mitra is online only while they hold a live socket **and** asked to be online
  (`POST /api/mitra/status`); after a reconnect the mitra app posts `{online: true}` again.

## Heartbeats
Send `{"type": "ping"}` every 10–15 s; the server answers `{"type": "pong"}`. A socket that
sends nothing for the presence TTL (30 s) is closed with 4408. Reconnect with jittered
exponential backoff (e.g. 0.5 s doubling to 15 s, ± 30 %).

## At-most-once
**Events are at-most-once: after a reconnect, re-read the REST state.** A socket that was
down misses what was sent meanwhile; the REST reads (payment session with its `pairing`
block, chat sessions and messages, `GET /api/mitra/pairing-requests`) always tell the
current state. Event `id`s are unique (use them to drop duplicates), not sequential.

## Close codes
| code | meaning |
|---|---|
"""


def markdown() -> str:
    doc = document()
    lines = [MARKDOWN_HEAD.rstrip("\n")]
    lines += [f"| {code} | {meaning} |" for code, meaning in protocol.CLOSE_CODES.items()]
    lines += ["", "## Server → client events", ""]
    lines.append(INTRO)
    for model in SERVER_EVENTS:
        name = event_type(model)
        message = doc["components"]["messages"][name]
        data = doc["components"]["schemas"][f"{model.__name__}Data"]
        lines += ["", f"### `{name}`", "", message["summary"], "", f"To: {model.to}.", ""]
        lines += _field_table(data)
        lines += ["", "```json", json.dumps(message["examples"][0]["payload"], indent=2), "```"]
    lines += ["", "## Client → server commands"]
    for command in CLIENT_COMMANDS:
        name = event_type(command)
        message = doc["components"]["messages"][name]
        schema = doc["components"]["schemas"][command.__name__]
        lines += ["", f"### `{name}`", "", message["summary"], ""]
        lines += _field_table(schema)
        lines += ["", "```json", json.dumps(message["examples"][0]["payload"], indent=2), "```"]
    lines += [
        "",
        "A frame that is not JSON, has no string `type`, names an unknown command, or fails",
        "validation gets an `ERROR` event (`bad_json`, `bad_frame`, `unknown_type`,",
        "`validation_error`, or the command's own error code); the socket stays open.",
        "",
    ]
    return "\n".join(lines)


def _field_table(schema: dict[str, Any]) -> list[str]:
    props = {k: v for k, v in schema.get("properties", {}).items() if k != "type"}
    if not props:
        return ["(no fields)"]
    required = set(schema.get("required", []))
    rows = ["| field | type | required |", "|---|---|---|"]
    for name, prop in props.items():
        rows.append(f"| `{name}` | {_type_name(prop)} | {'yes' if name in required else 'no'} |")
    return rows


def _type_name(prop: dict[str, Any]) -> str:
    if "$ref" in prop:
        return str(prop["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in prop:
        return " or ".join(_type_name(p) for p in prop["anyOf"])
    if "enum" in prop:
        return " \\| ".join(f"`{v}`" for v in prop["enum"])
    fmt = prop.get("format")
    return f"{prop.get('type', 'any')}" + (f" ({fmt})" if fmt else "")


if __name__ == "__main__":
    if "--markdown" in sys.argv:
        sys.stdout.write(markdown())
    else:
        json.dump(document(), sys.stdout, indent=2)
