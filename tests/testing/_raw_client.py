"""A raw HTTP/1.1 client for the tests of the test servers: hand-written bytes, or an
``h11.Connection(h11.CLIENT)`` that frames and parses for us.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import h11
import trio

LIMIT = 5  # seconds; every test runs under trio.fail_after(LIMIT)


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    informational: list[int] = field(default_factory=list)
    pieces: list[bytes] = field(default_factory=list)  # Data events, as received

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value
        return None

    def json(self) -> dict[str, object]:
        decoded = json.loads(self.body)
        assert isinstance(decoded, dict)
        return decoded


class RawClient:
    """One HTTP/1.1 connection framed by h11."""

    def __init__(self, stream: trio.abc.Stream, host: str = "127.0.0.1") -> None:
        self.stream = stream
        self.host = host
        self.h = h11.Connection(h11.CLIENT)

    async def send_request(
        self,
        method: str = "GET",
        target: str = "/",
        headers: list[tuple[str, str]] | None = None,
        body: bytes | None = None,
    ) -> None:
        if self.h.our_state is h11.DONE and self.h.their_state is h11.DONE:
            self.h.start_next_cycle()
        all_headers = [("host", self.host), *(headers or [])]
        if body is not None and not any(n.lower() == "transfer-encoding" for n, _ in all_headers):
            all_headers.append(("content-length", str(len(body))))
        data = self.h.send(h11.Request(method=method, target=target, headers=all_headers))
        assert data is not None
        if body:
            data += self.h.send(h11.Data(data=body)) or b""
        data += self.h.send(h11.EndOfMessage()) or b""
        await self.stream.send_all(data)

    def pretend_sent(self, method: str = "GET", target: str = "/") -> None:
        """Align h11's state after a request written by hand."""
        if self.h.our_state is h11.DONE and self.h.their_state is h11.DONE:
            self.h.start_next_cycle()
        self.h.send(h11.Request(method=method, target=target, headers=[("host", self.host)]))
        self.h.send(h11.EndOfMessage())

    async def next_event(self) -> h11.Event:
        while True:
            event = self.h.next_event()
            if event is h11.NEED_DATA:
                self.h.receive_data(bytes(await self.stream.receive_some(65536)))
                continue
            assert event is not h11.PAUSED
            return event  # type: ignore[return-value]

    async def read_head(self, reply: Reply | None = None) -> Reply:
        informational: list[int] = []
        while True:
            event = await self.next_event()
            if isinstance(event, h11.InformationalResponse):
                informational.append(event.status_code)
            elif isinstance(event, h11.Response):
                headers = [(n.decode(), v.decode()) for n, v in event.headers]
                return Reply(event.status_code, headers, b"", informational)
            else:
                raise AssertionError(f"unexpected {event!r}")

    async def read_body(self, reply: Reply) -> Reply:
        while True:
            event = await self.next_event()
            if isinstance(event, h11.Data):
                reply.pieces.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                reply.body = b"".join(reply.pieces)
                return reply
            else:
                raise AssertionError(f"unexpected {event!r}")

    async def request(
        self,
        method: str = "GET",
        target: str = "/",
        headers: list[tuple[str, str]] | None = None,
        body: bytes | None = None,
    ) -> Reply:
        await self.send_request(method, target, headers, body)
        return await self.read_body(await self.read_head())


async def connect(port: int) -> trio.SocketStream:
    return await trio.open_tcp_stream("127.0.0.1", port)


async def read_until_eof(stream: trio.abc.Stream) -> bytes:
    data = bytearray()
    for _ in range(1000):
        piece = await stream.receive_some(65536)
        if not piece:
            return bytes(data)
        data += piece
    raise AssertionError("no EOF after 1000 reads")
