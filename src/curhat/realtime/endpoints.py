"""``GET /ws``: the one WebSocket endpoint (see ``realtime.connection`` for the protocol)."""

from __future__ import annotations

from fastapi import APIRouter, WebSocket

from curhat.realtime.connection import SocketServer


def router_for(sockets: SocketServer) -> APIRouter:
    router = APIRouter()

    @router.websocket("/ws")
    async def websocket_endpoint(websocket: WebSocket) -> None:
        """JWT as subprotocol ``bearer.<token>`` (or ``?token=``); JSON frames; see /asyncapi.json."""
        await sockets.serve(websocket)

    return router
