"""A bare WebSocket peer (trio-websocket's server) for what the embedded server never
does: unknown events, odd closes, floods."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import trio
from trio_websocket import WebSocketConnection, WebSocketRequest, serve_websocket

PeerHandler = Callable[[WebSocketConnection], Awaitable[None]]


@asynccontextmanager
async def open_peer(handler: PeerHandler) -> AsyncIterator[str]:
    """A WebSocket server on 127.0.0.1 running ``handler`` per connection; yields the
    ``base_url`` a client uses to reach it (``http://127.0.0.1:PORT/v1``)."""

    async def accept(request: WebSocketRequest) -> None:
        ws = await request.accept()
        await handler(ws)

    async with trio.open_nursery() as nursery:
        ws_server = await nursery.start(serve_websocket, accept, "127.0.0.1", 0, None)
        yield f"http://127.0.0.1:{ws_server.port}/v1"
        nursery.cancel_scope.cancel()
