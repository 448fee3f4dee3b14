"""``GET /ws``: the one WebSocket endpoint (see ``realtime.connection`` for the protocol)."""

from __future__ import annotations

from fastapi import APIRouter, WebSocket

from curhat.realtime.connection import serve_socket

router = APIRouter()


@router.websocket("/ws")
async def websocket_endpoint(websocket: WebSocket) -> None:
    """JWT as ``?token=`` or subprotocol ``bearer.<token>``; JSON frames; see api.md for events."""
    await serve_socket(websocket, websocket.app.state.runtime)
