"""The pool against a server that answers with scripted raw bytes.

Plain heads take the fast path; everything unusual (1xx, HTTP/1.0, folded or
bare-LF heads, read-until-close bodies) is handed to h11 and must still come out
right, and a connection is only reused when its state is known.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from functools import partial

import pytest
import trio

from trio_openai._config import Timeouts
from trio_openai._http._exceptions import (
    InvalidRequestError,
    ReadError,
    RemoteProtocolError,
    WriteTimeout,
)
from trio_openai._http._pool import Pool

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


@pytest.mark.parametrize(
    ("reply", "body", "reused"),
    [
        # 1xx before the final response (h11 path); the connection stays usable
        (b"HTTP/1.1 100 Continue\r\n\r\n" + OK, b"ok", True),
        # bare LF line ends
        (b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok", b"ok", True),
        # a folded header line
        (b"HTTP/1.1 200 OK\r\nX-A: 1\r\n 2\r\nContent-Length: 2\r\n\r\nok", b"ok", True),
        # repeated identical Content-Length
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok", b"ok", True),
        # chunked, with a trailer
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nT: 1\r\n\r\n",
            b"ok",
            True,
        ),
        # the server says it will close
        (b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", b"ok", False),
        # bytes after the body: the framing cannot be trusted, no reuse
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA", b"ok", False),
    ],
)
async def test_unusual_but_valid_responses(reply: bytes, body: bytes, reused: bool) -> None:
    async with raw_server([(reply, False), (OK, False)]) as server, Pool(timeouts=FAST) as pool:
        assert await get(pool, server, b'{"a":1}') == (200, body)
        assert await get(pool, server) == (200, b"ok")
        stats = pool.statistics()
        assert stats.connections_reused == (1 if reused else 0)
        assert server.connections == (1 if reused else 2)
        assert stats.open == stats.idle == 1


async def test_http10_body_until_close() -> None:
    reply = b"HTTP/1.0 200 OK\r\nX-A: 1\r\n\r\n" + b"z" * 100_000
    async with raw_server([(reply, True)]) as server, Pool(timeouts=FAST) as pool:
        assert await get(pool, server) == (200, b"z" * 100_000)
        assert pool.statistics().open == 0


async def test_header_names_reach_the_caller_lowercased() -> None:
    reply = b"HTTP/1.1 200 OK\r\nX-RateLimit-Remaining-Requests: 7\r\nContent-Length: 0\r\n\r\n"
    async with raw_server([(reply, False)]) as server, Pool(timeouts=FAST) as pool:
        response = await pool.request("GET", f"http://127.0.0.1:{server.port}/")
        assert response.headers.raw == [
            (b"x-ratelimit-remaining-requests", b"7"),
            (b"content-length", b"0"),
        ]
        assert response.headers["X-RATELIMIT-REMAINING-REQUESTS"] == "7"


@pytest.mark.parametrize(
    "reply",
    [
        b"HTTP/1.1 200 OK\r\nBad Header: 1\r\nContent-Length: 2\r\n\r\nok",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nok",
        b"SMTP ready\r\n\r\n",
    ],
)
async def test_invalid_responses_are_protocol_errors(reply: bytes) -> None:
    async with raw_server([(reply, False)]) as server, Pool(timeouts=FAST) as pool:
        with pytest.raises(RemoteProtocolError):
            await get(pool, server)
        assert pool.statistics().open == 0


async def test_streamed_body_with_an_interim_response_closes_afterwards() -> None:
    reply = b"HTTP/1.1 100 Continue\r\n\r\n" + OK
    async with raw_server([(reply, False)]) as server, Pool(timeouts=FAST) as pool:
        body = Pieces(b"ab", b"cd")
        response = await pool.request("POST", f"http://127.0.0.1:{server.port}/", body=body)
        assert (response.status, response.content) == (200, b"ok")
        assert server.requests[0].endswith(b"\r\n\r\n2\r\nab\r\n2\r\ncd\r\n")
        assert pool.statistics().open == 0  # h11 could not be told the body again


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


async def test_streamed_body_longer_than_its_content_length_is_refused() -> None:

    async with raw_server([]) as server, Pool(timeouts=FAST) as pool:
        with pytest.raises(InvalidRequestError, match="Content-Length"):
            await pool.request(
                "POST",
                f"http://127.0.0.1:{server.port}/",
                body=Pieces(b"abc", b"def"),
                headers={"Content-Length": "4"},
            )
        assert pool.statistics().open == 0


async def test_bytes_body_must_match_an_explicit_content_length() -> None:
    async with raw_server([]) as server, Pool(timeouts=FAST) as pool:
        with pytest.raises(InvalidRequestError, match="Content-Length"):
            await pool.request(
                "POST",
                f"http://127.0.0.1:{server.port}/",
                body=b"abc",
                headers={"Content-Length": "4"},
            )
        assert server.connections == 0  # refused before connecting


@pytest.mark.parametrize("piece", [1, 2, 3, 5])
async def test_heads_and_bodies_arriving_in_small_pieces(piece: int) -> None:
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
    )
    bare_lf = b"HTTP/1.1 201 Made\nContent-Length: 3\n\nxyz"
    replies = [(OK, False), (chunked, False), (bare_lf, False), (OK, False)]
    async with raw_server(replies, piece) as server, Pool(timeouts=FAST) as pool:
        assert await get(pool, server) == (200, b"ok")
        assert await get(pool, server) == (200, b"abcde")
        assert await get(pool, server) == (201, b"xyz")
        assert await get(pool, server) == (200, b"ok")
        assert server.connections == 1


async def test_a_stalled_streamed_body_hits_the_write_timeout() -> None:
    class Stalls:
        def __init__(self) -> None:
            self.sent = False

        def __aiter__(self) -> Stalls:
            return self

        async def __anext__(self) -> bytes:
            if not self.sent:
                self.sent = True
                return b"first"
            await trio.sleep_forever()
            raise AssertionError("unreachable")

    quick = Timeouts(connect=5, read=5, write=0.3, pool=5)
    async with raw_server([]) as server, Pool(timeouts=quick) as pool:
        with trio.fail_after(5), pytest.raises(WriteTimeout):
            await pool.request("POST", f"http://127.0.0.1:{server.port}/", body=Stalls())
        assert pool.statistics().open == 0


async def test_a_body_ended_by_close_does_not_return_its_connection() -> None:
    reply = b"HTTP/1.1 200 OK\r\nX-A: 1\r\n\r\nuntil the end"
    async with raw_server([(reply, True)]) as server, Pool(timeouts=FAST) as pool:
        assert await get(pool, server) == (200, b"until the end")
        stats = pool.statistics()
        assert (stats.open, stats.idle) == (0, 0)


async def test_a_wide_memoryview_body_is_counted_in_bytes() -> None:
    import array

    numbers = array.array("i", [1, 2, 3])
    async with raw_server([(OK, False), (OK, False)]) as server, Pool(timeouts=FAST) as pool:
        await pool.request("POST", f"http://127.0.0.1:{server.port}/", body=memoryview(numbers))  # type: ignore[arg-type]
        head, _, body = server.requests[0].partition(b"\r\n\r\n")
        assert b"Content-Length: 12" in head
        assert body == numbers.tobytes()
        await pool.request("POST", f"http://127.0.0.1:{server.port}/", body=memoryview(b"abc"))  # type: ignore[arg-type]
        head, _, body = server.requests[1].partition(b"\r\n\r\n")
        assert (b"Content-Length: 3" in head, body) == (True, b"abc")


async def test_an_explicit_chunked_header_frames_a_bytes_body_alone() -> None:
    async with raw_server([(OK, False)]) as server, Pool(timeouts=FAST) as pool:
        await pool.request(
            "POST",
            f"http://127.0.0.1:{server.port}/",
            body=b"hello",
            headers={"Transfer-Encoding": "chunked"},
        )
        head, _, body = server.requests[0].partition(b"\r\n\r\n")
        assert b"content-length" not in head.lower()
        assert body == b"5\r\nhello\r\n"  # (the server strips the final 0 chunk)


async def test_a_close_after_an_interim_response_is_not_replayed() -> None:
    reply = b"HTTP/1.1 100 Continue\r\n\r\n"
    async with raw_server([(reply, True)]) as server, Pool(timeouts=FAST) as pool:
        with pytest.raises(ReadError, match="head"):
            await get(pool, server, b"{}")
        assert len(server.requests) == 1
