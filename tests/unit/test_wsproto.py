"""The lean per-socket primitives under uvicorn's WebSocket protocol behave like the asyncio ones."""

from __future__ import annotations

import asyncio

from curhat.wsproto import Inbox, Writable


async def test_inbox_delivers_in_order_and_wakes_the_reader() -> None:
    inbox = Inbox()
    assert inbox.empty()
    inbox.put_nowait({"type": "websocket.connect"})
    inbox.put_nowait({"type": "websocket.receive", "text": "a"})
    assert not inbox.empty()
    assert (await inbox.get())["type"] == "websocket.connect"
    assert (await inbox.get())["text"] == "a"
    assert inbox.empty()
    reader = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    assert not reader.done()  # waits for the next event
    inbox.put_nowait({"type": "websocket.disconnect", "code": 1000})
    assert (await asyncio.wait_for(reader, 5))["type"] == "websocket.disconnect"


async def test_inbox_reader_can_be_cancelled_and_read_again() -> None:
    inbox = Inbox()
    reader = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    reader.cancel()
    await asyncio.gather(reader, return_exceptions=True)
    inbox.put_nowait("next")
    assert await asyncio.wait_for(inbox.get(), 5) == "next"


async def test_writable_blocks_writers_while_the_transport_is_full() -> None:
    writable = Writable()
    assert writable.is_set() and await writable.wait()
    writable.clear()  # the transport's buffer passed its high-water mark
    writers = [asyncio.create_task(writable.wait()) for _ in range(2)]
    await asyncio.sleep(0)
    assert not any(w.done() for w in writers)
    writable.set()  # drained below the low-water mark
    assert await asyncio.wait_for(asyncio.gather(*writers), 5) == [True, True]
