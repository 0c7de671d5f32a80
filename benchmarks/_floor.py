"""The floor contender: a bare trio + h11 + msgspec client doing the same requests.

It is what any client on this stack must do at the least, and nothing more: one
keep-alive connection per concurrent caller (a LIFO idle list), the request built by
h11 and written with one ``send_all``, the response read through h11's events, and
the body decoded by msgspec into Structs of the same shape as the API's. No
validation of parameters, no retries, no timeouts, no breaker, no metrics, no error
mapping, no request ids. It shows how close a full client gets to the practical
ceiling of trio + h11 + msgspec (``ours / floor`` in the tables).

Not a library: it trusts the canned server, and a response it does not expect is an
``AssertionError``.
"""

from __future__ import annotations

import ssl
from typing import Any

import h11
import msgspec
import trio

# -- the shapes of the replies (what a user reads, as the SDK's and ours model them) ---


class _Message(msgspec.Struct):
    role: str
    content: str | None = None
    refusal: str | None = None


class _Choice(msgspec.Struct):
    index: int
    message: _Message
    finish_reason: str | None = None


class _Usage(msgspec.Struct):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(msgspec.Struct):
    id: str
    choices: list[_Choice]
    created: int
    model: str
    object: str
    usage: _Usage | None = None
    service_tier: str | None = None
    system_fingerprint: str | None = None


class _Delta(msgspec.Struct):
    role: str | None = None
    content: str | None = None
    refusal: str | None = None


class _ChunkChoice(msgspec.Struct):
    index: int
    delta: _Delta
    finish_reason: str | None = None


class ChatCompletionChunk(msgspec.Struct):
    id: str
    choices: list[_ChunkChoice]
    created: int
    model: str
    object: str
    usage: _Usage | None = None


_ENCODE = msgspec.json.Encoder().encode
_DECODE_CHAT = msgspec.json.Decoder(ChatCompletion).decode
_DECODE_CHUNK = msgspec.json.Decoder(ChatCompletionChunk).decode


class _Connection:
    __slots__ = ("h11", "stream")

    def __init__(self, stream: trio.abc.Stream) -> None:
        self.stream = stream
        self.h11 = h11.Connection(h11.CLIENT)


class FloorClient:
    """``await client.chat(body)`` / ``client.chat_stream(body)`` over keep-alive sockets."""

    def __init__(self, base_url: str, api_key: str, ssl_context: ssl.SSLContext | None = None):
        scheme, rest = base_url.split("://", 1)
        hostport, _, prefix = rest.partition("/")
        host, _, port = hostport.partition(":")
        self._host = host
        self._port = int(port) if port else (443 if scheme == "https" else 80)
        self._prefix = "/" + prefix.strip("/")
        self._ssl = ssl_context if scheme == "https" else None
        self._headers = [
            ("host", hostport),
            ("authorization", f"Bearer {api_key}"),
            ("content-type", "application/json"),
            ("accept", "application/json"),
        ]
        self._idle: list[_Connection] = []

    async def _connect(self) -> _Connection:
        stream: trio.abc.Stream = await trio.open_tcp_stream(self._host, self._port)
        if self._ssl is not None:
            stream = trio.SSLStream(stream, self._ssl, server_hostname=self._host)
        return _Connection(stream)

    async def _send(self, path: str, body: dict[str, Any]) -> _Connection:
        conn = self._idle.pop() if self._idle else await self._connect()
        data = _ENCODE(body)
        headers = [*self._headers, ("content-length", str(len(data)))]
        c = conn.h11
        out = c.send(h11.Request(method="POST", target=self._prefix + path, headers=headers))
        out += c.send(h11.Data(data=data))  # type: ignore[operator]
        out += c.send(h11.EndOfMessage())  # type: ignore[operator]
        await conn.stream.send_all(out)  # type: ignore[arg-type]
        return conn

    async def _next_event(self, conn: _Connection) -> Any:
        c = conn.h11
        while True:
            event = c.next_event()
            if event is h11.NEED_DATA:
                c.receive_data(await conn.stream.receive_some(65536))
                continue
            return event

    def _done(self, conn: _Connection) -> None:
        conn.h11.start_next_cycle()
        self._idle.append(conn)

    async def chat(self, body: dict[str, Any]) -> ChatCompletion:
        conn = await self._send("/chat/completions", body)
        response = await self._next_event(conn)
        assert isinstance(response, h11.Response) and response.status_code == 200, response
        parts = []
        while True:
            event = await self._next_event(conn)
            if type(event) is h11.Data:
                parts.append(event.data)
            else:
                assert type(event) is h11.EndOfMessage, event
                break
        self._done(conn)
        return _DECODE_CHAT(b"".join(parts))

    async def chat_stream(self, body: dict[str, Any], path: str = "/chat/completions") -> int:
        """Send a ``stream: true`` request, decode every chunk; return how many came."""
        conn = await self._send(path, body)
        response = await self._next_event(conn)
        assert isinstance(response, h11.Response) and response.status_code == 200, response
        buffer = b""
        count = 0
        while True:
            event = await self._next_event(conn)
            if type(event) is not h11.Data:
                assert type(event) is h11.EndOfMessage, event
                break
            buffer += event.data
            events = buffer.split(b"\n\n")
            buffer = events.pop()
            for raw in events:
                data = raw[6:]  # b"data: "
                if data != b"[DONE]":
                    _DECODE_CHUNK(data)
                    count += 1
        self._done(conn)
        return count

    async def aclose(self) -> None:
        for conn in self._idle:
            await trio.aclose_forcefully(conn.stream)
        self._idle.clear()
