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


@asynccontextmanager
async def open_slow_closing_peer(close_delay: float) -> AsyncIterator[str]:
    """A WebSocket peer (raw wsproto) that answers a close frame only after
    ``close_delay`` seconds; yields the ``base_url`` a client uses."""
    from wsproto import ConnectionType, WSConnection
    from wsproto.events import AcceptConnection, CloseConnection, Request

    async def handle(stream: trio.SocketStream) -> None:
        ws = WSConnection(ConnectionType.SERVER)
        async with stream:
            while True:
                data = await stream.receive_some(65536)
                if not data:
                    return
                ws.receive_data(data)
                for event in ws.events():
                    if isinstance(event, Request):
                        await stream.send_all(ws.send(AcceptConnection()))
                    elif isinstance(event, CloseConnection):
                        await trio.sleep(close_delay)
                        await stream.send_all(ws.send(event.response()))
                        return

    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    async with trio.open_nursery() as nursery:
        nursery.start_soon(trio.serve_listeners, handle, listeners)
        yield f"http://127.0.0.1:{listeners[0].socket.getsockname()[1]}/v1"
        nursery.cancel_scope.cancel()
