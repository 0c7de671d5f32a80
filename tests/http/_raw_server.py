"""A loopback server answering with scripted raw bytes, for tests of what the pool reads."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from functools import partial
from typing import TYPE_CHECKING

import trio

from trio_openai._config import Timeouts

if TYPE_CHECKING:
    from trio_openai._http import Pool

FAST = Timeouts(connect=5, read=5, write=5, pool=5)


class RawServer:
    """Answers the n-th request (over all connections) with ``replies[n]``.

    A reply ending the connection is marked by ``close=True`` in the script; the
    server reads each request whole (Content-Length or chunked) before replying.
    """

    def __init__(self, replies: list[tuple[bytes, bool]], piece: int = 0) -> None:
        self._replies: Iterator[tuple[bytes, bool]] = iter(replies)
        self._piece = piece  # > 0: send replies in pieces of this many bytes
        self.connections = 0
        self.requests: list[bytes] = []
        self.port = 0

    async def handle(self, stream: trio.SocketStream) -> None:
        self.connections += 1
        buffer = b""
        with trio.move_on_after(10):
            while True:
                while b"\r\n\r\n" not in buffer:
                    data = await stream.receive_some(65536)
                    if not data:
                        return
                    buffer += data
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                length = 0
                chunked = False
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.lower() == b"content-length":
                        length = int(value)
                    if name.lower() == b"transfer-encoding":
                        chunked = True
                end = b"0\r\n\r\n" if chunked else None
                while (end is not None and end not in buffer) or (
                    end is None and len(buffer) < length
                ):
                    data = await stream.receive_some(65536)
                    if not data:
                        return
                    buffer += data
                if end is not None:
                    body, _, buffer = buffer.partition(end)
                else:
                    body, buffer = buffer[:length], buffer[length:]
                self.requests.append(head + b"\r\n\r\n" + body)
                reply, close = next(self._replies)
                if self._piece:
                    for i in range(0, len(reply), self._piece):
                        await stream.send_all(reply[i : i + self._piece])
                        await trio.sleep(0.0005)
                else:
                    await stream.send_all(reply)
                if close:
                    await stream.aclose()
                    return


@asynccontextmanager
async def raw_server(replies: list[tuple[bytes, bool]], piece: int = 0) -> AsyncIterator[RawServer]:
    server = RawServer(replies, piece)
    async with trio.open_nursery() as nursery:
        (listener,) = await nursery.start(
            partial(trio.serve_tcp, server.handle, 0, host="127.0.0.1")
        )
        server.port = listener.socket.getsockname()[1]
        try:
            yield server
        finally:
            nursery.cancel_scope.cancel()


OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


async def get(pool: Pool, server: RawServer, body: bytes | None = None) -> tuple[int, bytes]:
    method = "GET" if body is None else "POST"
    response = await pool.request(method, f"http://127.0.0.1:{server.port}/x", body=body)
    return response.status, response.content


class Pieces:
    """An async iterable of byte strings (no generator left to finalize)."""

    def __init__(self, *parts: bytes) -> None:
        self._parts = list(parts)

    def __aiter__(self) -> Pieces:
        return self

    async def __anext__(self) -> bytes:
        await trio.lowlevel.checkpoint()
        if not self._parts:
            raise StopAsyncIteration
        return self._parts.pop(0)
