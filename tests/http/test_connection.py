"""Tests of _connection: what a connection reads, against scripted raw bytes.

Plain heads take the fast path; everything unusual (1xx, HTTP/1.0, folded or
bare-LF heads, read-until-close bodies) is handed to h11 (told about the request
through its public constructor) and must still come out right, and a connection is
only reused when its state is known.
"""

from __future__ import annotations

import os
import resource
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path

import pytest
import trio
import trio.testing
from _raw_server import FAST, OK, Pieces, get, raw_server

import trio_openai
from trio_openai._config import Timeouts
from trio_openai._http import (
    InvalidRequestError,
    Pool,
    ReadError,
    RemoteProtocolError,
    WriteTimeout,
)
from trio_openai.testing import open_mock_server


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


async def test_a_close_after_an_interim_response_is_not_replayed() -> None:
    reply = b"HTTP/1.1 100 Continue\r\n\r\n"
    async with raw_server([(reply, True)]) as server, Pool(timeouts=FAST) as pool:
        with pytest.raises(ReadError, match="head"):
            await get(pool, server, b"{}")
        assert len(server.requests) == 1


# -- through the public Client ----------------------------------------------------------


@pytest.fixture
def many_open_descriptors() -> Iterator[None]:
    """Hold 1,100 descriptors open, so every socket made meanwhile has a number >= 1024
    (``select.select`` refuses those)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 1100 + 256
    if soft != resource.RLIM_INFINITY and soft < wanted:
        if hard != resource.RLIM_INFINITY and hard < wanted:
            pytest.fail(f"RLIMIT_NOFILE hard limit {hard} is below {wanted}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    fds = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        assert max(fds) >= 1024
        yield
    finally:
        for fd in fds:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.usefixtures("many_open_descriptors")
async def test_keep_alive_works_with_descriptor_numbers_past_1024() -> None:
    async with (
        open_mock_server() as server,
        trio_openai.Client(api_key="sk-test", base_url=server.base_url) as client,
    ):
        for _ in range(60):
            await client.models.list()
        assert server.http.statistics().connections_opened == 1
        stats = client.pool.statistics()
        assert (stats.connections_created, stats.connections_reused) == (1, 59)
        assert stats.stale_discarded == 0


class _EarlyAnswer:
    """Reads a request's head only, answers at once, then closes while the client is
    still sending the body (the close resets the connection: unread data remains)."""

    def __init__(self, reply: bytes) -> None:
        self.reply = reply
        self.connections = 0
        self.port = 0

    async def handle(self, stream: trio.SocketStream) -> None:
        self.connections += 1
        buffer = b""
        while b"\r\n\r\n" not in buffer:
            data = await stream.receive_some(65536)
            if not data:
                return
            buffer += data
        await stream.send_all(self.reply)
        await stream.aclose()


@asynccontextmanager
async def _early_answer_server(reply: bytes) -> AsyncIterator[_EarlyAnswer]:
    server = _EarlyAnswer(reply)
    async with trio.open_nursery() as nursery:
        (listener,) = await nursery.start(
            partial(trio.serve_tcp, server.handle, 0, host="127.0.0.1")
        )
        server.port = listener.socket.getsockname()[1]
        yield server
        nursery.cancel_scope.cancel()


TOO_LARGE = b'{"error":{"message":"Request Entity Too Large","type":"invalid_request_error"}}'


@pytest.mark.parametrize("streamed", [False, True])
async def test_an_error_answered_during_an_upload_is_read_and_not_retried(
    streamed: bool, tmp_path: Path
) -> None:
    reply = (
        b"HTTP/1.1 413 Payload Too Large\r\nContent-Type: application/json\r\n"
        b"X-Request-Id: req_413\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
        % (len(TOO_LARGE), TOO_LARGE)
    )
    upload = tmp_path / "upload.jsonl"
    upload.write_bytes(b"u" * (20 * 2**20))
    async with (
        _early_answer_server(reply) as server,
        trio_openai.Client(
            api_key="sk-test", base_url=f"http://127.0.0.1:{server.port}/v1", timeout=10
        ) as client,
    ):

        async def send() -> object:
            if streamed:  # a file streamed from disk
                return await client.files.create(file=upload, purpose="batch")
            return await client.request("POST", "/files", body={"data": "u" * (20 * 2**20)})

        with trio.fail_after(5), pytest.raises(trio_openai.APIStatusError) as info:
            await send()
        error = info.value
        assert error.status_code == 413
        assert error.request_id == "req_413"
        assert "Request Entity Too Large" in str(error)
        assert server.connections == 1  # the upload was not sent again
        assert client.pool.statistics().open == 0


@pytest.mark.parametrize(
    "head",
    [
        # plain otherwise: the fast path's road
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        # a folded line: h11's road
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n 2\r\nContent-Length: 3"
        b"\r\n\r\n",
        # listed Content-Length values: h11's road
        b"HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\nTransfer-Encoding: chunked\r\n\r\n",
    ],
)
async def test_a_response_framed_both_ways_is_an_error_and_its_connection_closed(
    head: bytes,
) -> None:
    models = b'{"object":"list","data":[]}'
    ok = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(models), models)
    reply = head + b'3\r\n"a"\r\n0\r\n\r\n'
    async with (
        raw_server([(reply, False), (ok, False)]) as server,
        trio_openai.Client(
            api_key="sk-test",
            base_url=f"http://127.0.0.1:{server.port}/v1",
            timeout=FAST,
            max_retries=0,
        ) as client,
    ):
        with pytest.raises(trio_openai.APIConnectionError, match="HTTP/1.1 protocol") as info:
            await client.request("GET", "/models")
        assert isinstance(info.value.__cause__, RemoteProtocolError)
        assert "Content-Length and Transfer-Encoding" in str(info.value)
        assert client.pool.statistics().open == 0
        assert await client.request("GET", "/models") == {"object": "list", "data": []}
        assert server.connections == 2  # the next request used a new connection


async def test_an_answer_that_came_while_others_ran_is_taken_without_a_wait(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Nothing is there at the first try: the connection lets the other tasks run once
    # (here, the "server" answers during that turn) and takes the answer then,
    # without a cancel scope and an epoll wait.
    import socket

    from trio_openai._http import _connection

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    accepted: list[socket.socket] = []
    real_checkpoint = trio.lowlevel.checkpoint

    async def others_run() -> None:
        if not accepted:
            conn, _ = listener.accept()
            accepted.append(conn)
            conn.recv(65536)  # the request
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await real_checkpoint()

    async def no_wait(sock: object) -> None:
        raise AssertionError("waited for an answer that had come")

    monkeypatch.setattr(_connection, "checkpoint", others_run)
    monkeypatch.setattr(_connection, "wait_readable", no_wait)
    try:
        async with Pool(timeouts=FAST) as pool:
            port = listener.getsockname()[1]
            response = await pool.request("GET", f"http://127.0.0.1:{port}/")
            assert (response.status, response.content) == (200, b"ok")
    finally:
        for conn in accepted:
            conn.close()
        listener.close()


async def test_a_body_generator_is_closed_when_sending_stops_early(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # The body's own cleanup (an open file, say) runs before the error reaches the
    # caller: too long for its Content-Length, stalled past the write limit, or the
    # call cancelled while the generator waits.
    closed: list[str] = []

    async def body(name: str, stall: bool = False) -> AsyncIterator[bytes]:
        try:
            yield b"abc"
            if stall:
                await trio.sleep_forever()
            yield b"def"
        finally:
            closed.append(name)

    quick = Timeouts(connect=5, read=5, write=0.3, pool=5)
    async with raw_server([]) as server, Pool(timeouts=quick) as pool:
        url = f"http://127.0.0.1:{server.port}/"
        with pytest.raises(InvalidRequestError, match="Content-Length"):
            await pool.request("POST", url, body=body("long"), headers={"Content-Length": "4"})
        assert closed == ["long"]
        start = trio.current_time()
        with pytest.raises(WriteTimeout):
            await pool.request("POST", url, body=body("stalled", stall=True))
        assert trio.current_time() - start == pytest.approx(0.3)
        assert closed == ["long", "stalled"]
        with trio.move_on_after(0.2) as scope:
            await pool.request("POST", url, body=body("cancelled", stall=True))
        assert scope.cancelled_caught
        assert closed == ["long", "stalled", "cancelled"]
        assert pool.statistics().open == 0
