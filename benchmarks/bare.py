"""The same-run baselines of P3/P5/P6: a bare ``websockets`` server doing only the transport.

    python benchmarks/bare.py PORT

Paths (one process serves all):
  /listen          receives broadcasts (P3's mitra sockets)
  /trigger         every text frame received is wrapped once and sent to every /listen socket
  /relay?me=A&peer=B   every text frame is sent to B and echoed to A (no storage)
  /idle            accepted and held (P6)

No per-message compression, like ``curhat serve``. Prints ``ready`` when listening.
"""

from __future__ import annotations

import asyncio
import json
import sys
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, broadcast, serve


async def main(port: int) -> None:
    listeners: set[ServerConnection] = set()
    relays: dict[str, ServerConnection] = {}

    async def handler(ws: ServerConnection) -> None:
        assert ws.request is not None
        url = urlsplit(ws.request.path)
        if url.path == "/listen":
            listeners.add(ws)
            try:
                await ws.wait_closed()
            finally:
                listeners.discard(ws)
        elif url.path == "/trigger":
            async for raw in ws:
                # Serialised once, like an Envelope, then written to every socket.
                frame = json.dumps(
                    {"type": "PAIRING_REQUEST", "data": json.loads(raw)}, separators=(",", ":")
                )
                broadcast(listeners, frame)
        elif url.path == "/relay":
            query = parse_qs(url.query)
            me, peer = query["me"][0], query["peer"][0]
            relays[me] = ws
            try:
                async for raw in ws:
                    other = relays.get(peer)
                    if other is not None:
                        await other.send(raw)
                    await ws.send(raw)
            finally:
                relays.pop(me, None)
        else:
            await ws.wait_closed()

    async with serve(
        handler, "127.0.0.1", port, compression=None, max_size=16 * 1024, ping_interval=None
    ) as server:
        print("ready", flush=True)
        await server.serve_forever()


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.run(main(int(sys.argv[1])))
    except ImportError:  # pragma: no cover
        asyncio.run(main(int(sys.argv[1])))
