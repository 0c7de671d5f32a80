"""A loopback server that answers with hostile bytes, and the client call it is aimed at.

:class:`HostileServer` listens on 127.0.0.1 and answers the first request it reads
(over all connections) with the raw bytes of a test case, then, as the case says,
keeps the connection open and serving (``"hold"``: a client that wrongly reuses it is
seen sending its next request there), closes it (``"close"``, FIN) or aborts it
(``"reset"``, RST through ``SO_LINGER`` 0). Every later request gets a valid chat
completion. It counts accepted connections and the requests read on each, which is
how the tests see whether the client reused a connection.

:func:`exchange` runs the whole check of one case: a real :class:`trio_openai.Client`
makes the call the bytes answer (a chat completion, or a streamed one read to its
end), the exception it raises is caught as an ``OpenAIError`` (anything else escapes
and fails the test), then a second call must succeed, and the server's counts say
whether it went over the connection of the first.

Time: the tests run on trio's ``MockClock`` with a small real-time autojump threshold
(:data:`CLOCK_THRESHOLD`): when nothing has happened for that long, the clock jumps to
the next deadline, so a case that leaves the client waiting (a truncated body on a
held connection) ends at once with the client's read timeout, not after seconds of
real time. A threshold of 0 would also jump while loopback bytes are still in the
kernel's hands on a loaded machine; 10 ms of real idleness cannot be that.
"""

from __future__ import annotations

import json
import math
import socket
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Literal

import trio
import trio.testing

from trio_openai import Client, OpenAIError, Timeouts
from trio_openai._compat import BaseExceptionGroup
from trio_openai.types.chat import ChatCompletion

After = Literal["hold", "close", "reset"]

CLOCK_THRESHOLD = 0.01  # seconds of real idleness before the MockClock jumps
LIMIT = 600  # virtual seconds: a case still running then has hung (the test fails)
FAST = Timeouts(connect=5, read=5, write=5, pool=5)
MESSAGES = [{"role": "user", "content": "hi"}]

COMPLETION = json.dumps(
    {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "hi"},
                "finish_reason": "stop",
            }
        ],
    }
).encode()
CHUNK = json.dumps(
    {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": {"content": "hi"}, "finish_reason": None}],
    }
).encode()
SSE_OK = b"data: " + CHUNK + b"\n\ndata: [DONE]\n\n"


def response(
    body: bytes = COMPLETION,
    *,
    status: bytes = b"200 OK",
    headers: bytes | None = None,
    content_type: bytes = b"application/json",
) -> bytes:
    """A response with *body*; framed by Content-Length unless *headers* frame it."""
    if headers is None:
        headers = b"Content-Length: %d\r\n" % len(body)
    return (
        b"HTTP/1.1 "
        + status
        + b"\r\nContent-Type: "
        + content_type
        + b"\r\n"
        + headers
        + (b"\r\n" + body)
    )


def sse_response(body: bytes, *, close: bool = False) -> bytes:
    """An event stream, chunked (one chunk), or close-delimited with *close*."""
    if close:
        return (
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
            + body
        )
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked"
        b"\r\n\r\n" + (b"%x\r\n%s\r\n" % (len(body), body) if body else b"") + b"0\r\n\r\n"
    )


OK = response()


@dataclass
class Connection:
    """One accepted connection: its number (from 1) and the requests read on it.

    ``closed_by_client``: the client closed or reset it (the server read EOF or got a
    reset); ``ended`` is set when its task ends, whoever closed it.
    """

    number: int
    requests: int = 0
    closed_by_client: bool = False
    ended: trio.Event = field(default_factory=trio.Event)


@dataclass
class HostileServer:
    """Answers the first request with *hostile*, then behaves as *after* says."""

    hostile: bytes
    after: After = "hold"
    connections: list[Connection] = field(default_factory=list)
    port: int = 0

    @property
    def first(self) -> Connection:
        return self.connections[0]

    async def handle(self, stream: trio.SocketStream) -> None:
        conn = Connection(len(self.connections) + 1)
        self.connections.append(conn)
        try:
            await self._serve(stream, conn)
        except trio.BrokenResourceError:
            # The client may abort at any point (that is the point): a reset just
            # ends this task.
            conn.closed_by_client = True
        finally:
            conn.ended.set()
            await trio.aclose_forcefully(stream)

    async def _serve(self, stream: trio.SocketStream, conn: Connection) -> None:
        buffer = bytearray()
        while await _read_request(stream, buffer):
            conn.requests += 1
            if sum(c.requests for c in self.connections) > 1:
                await stream.send_all(OK)
                continue
            await stream.send_all(self.hostile)
            if self.after == "reset":
                stream.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return
            if self.after == "close":
                return
        conn.closed_by_client = True


async def _read_request(stream: trio.SocketStream, buffer: bytearray) -> bool:
    """Read one request from *buffer* and *stream*; return False at EOF.

    The client under test frames its JSON requests with Content-Length; this reads
    just enough to know where each ends.
    """
    while (end := buffer.find(b"\r\n\r\n")) < 0:
        data = await stream.receive_some(65536)
        if not data:
            return False
        buffer += data
    head = bytes(buffer[:end]).lower()
    del buffer[: end + 4]
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        assert name != b"transfer-encoding", "the client sent a chunked request"
        if name == b"content-length":
            length = int(value)
    while len(buffer) < length:
        data = await stream.receive_some(65536)
        if not data:
            return False
        buffer += data
    del buffer[:length]
    return True


@asynccontextmanager
async def hostile_server(hostile: bytes, after: After = "hold") -> AsyncIterator[HostileServer]:
    """Run a :class:`HostileServer` for the block; leaving it cancels every connection."""
    server = HostileServer(hostile, after)
    body_error: BaseException | None = None
    try:
        async with trio.open_nursery() as nursery:
            (listener,) = await nursery.start(
                partial(trio.serve_tcp, server.handle, 0, host="127.0.0.1")
            )
            server.port = listener.socket.getsockname()[1]
            try:
                yield server
            finally:
                nursery.cancel_scope.cancel()
    except BaseExceptionGroup as group:
        # The serving tasks never raise: the group holds what the block raised, which
        # must come out as itself (a bare RecursionError is a finding, not a group).
        if len(group.exceptions) != 1:
            raise
        body_error = group.exceptions[0]
    if body_error is not None:
        raise body_error


async def call(client: Client, stream: bool) -> object:
    """The call the hostile bytes answer: a chat completion, or a stream read to its end."""
    create = client.chat.completions.create
    if not stream:
        return await create(model="m", messages=MESSAGES)
    chunks = []
    async with await create(model="m", messages=MESSAGES, stream=True) as events:
        async for chunk in events:
            chunks.append(chunk)
    return chunks


@dataclass
class Outcome:
    """What a case did: the error the caller saw (None: success), and the connections."""

    error: OpenAIError | None
    result: object
    connections: list[Connection]
    first_closed_by_client: bool
    cancelled: bool = False

    @property
    def reused(self) -> bool:
        """Whether the follow-up call went over the first call's connection."""
        return self.connections[0].requests > 1


async def exchange(
    hostile: bytes,
    *,
    after: After = "hold",
    stream: bool = False,
    cancel_after: float | None = None,
    wait_first_closed: bool = True,
) -> Outcome:
    """Make one call answered by *hostile*, then a follow-up call; report both.

    With *cancel_after*, the caller cancels the first call after that many seconds
    (``trio.move_on_after``): ``Outcome.cancelled`` says whether it did. With
    *wait_first_closed*, give the client a (virtual) second after the follow-up
    to close the first connection, so that ``first_closed_by_client`` says whether it
    was closed rather than parked in the pool.

    Only an ``OpenAIError`` from the first call is caught: any other exception (a bare
    ``RecursionError``, an ``ExceptionGroup``, h11's own errors) escapes and fails the
    test. The follow-up call must succeed: a malformed answer must not poison the pool.
    """
    async with hostile_server(hostile, after) as server:
        base_url = f"http://127.0.0.1:{server.port}/v1"
        async with Client(api_key="sk-test", base_url=base_url, max_retries=0, timeout=FAST) as c:
            error: OpenAIError | None = None
            result: object = None
            with trio.move_on_after(math.inf if cancel_after is None else cancel_after) as scope:
                try:
                    result = await call(c, stream)
                except OpenAIError as exc:
                    error = exc
            follow_up = await call(c, stream=False)
            assert isinstance(follow_up, ChatCompletion)
            first = server.connections[0]
            if wait_first_closed:
                with trio.move_on_after(1):
                    await first.ended.wait()
            closed = first.closed_by_client
        return Outcome(error, result, list(server.connections), closed, scope.cancelled_caught)


def mock_clock() -> trio.testing.MockClock:
    """The clock every case runs on (see the module's docstring)."""
    return trio.testing.MockClock(autojump_threshold=CLOCK_THRESHOLD)
