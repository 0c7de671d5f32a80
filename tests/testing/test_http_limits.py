"""What a hostile or broken client cannot make the test HTTP server hold.

A declared body over ``max_body_size`` is refused from its head (413, connection
closed) before one byte of it is read; a request head must arrive within
``head_timeout`` and a body must keep moving within ``body_timeout`` (else 408 and a
close); the record of requests keeps the last ``record_limit``.

Time here is trio's ``MockClock`` (``autojump_clock``): the clock jumps when every
task waits, so each timeout fires at an exact, asserted instant. Clients are raw
sockets with hand-written bytes (``_raw_client``).
"""

from __future__ import annotations

import pytest
import trio
from _raw_client import LIMIT, RawClient, connect, read_until_eof

from trio_openai.testing import Request, Response, open_http_server

GIB = 1 << 30
VIRTUAL_LIMIT = 100_000  # seconds of MockClock time: a hang fails at once, not in CI time


def status_of(reply: bytes) -> int:
    return int(reply.split(b" ", 2)[1])


# -- an oversized body is refused from its head -----------------------------------------


async def test_an_oversized_content_length_is_refused_before_the_body_is_read(
    autojump_clock: trio.testing.MockClock,
) -> None:
    called: list[Request] = []

    async def handler(request: Request) -> Response:
        called.append(request)
        return Response(200, body=b"ok")

    with trio.fail_after(VIRTUAL_LIMIT):
        async with open_http_server(handler, max_body_size=1000) as server:
            stream = await connect(server.port)
            start = trio.current_time()
            # A 1 GiB body is declared and not one byte of it sent: the answer must not
            # wait for it.
            await stream.send_all(
                b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % GIB
            )
            reply = await read_until_eof(stream)
            assert trio.current_time() == start  # no timeout was needed
            assert status_of(reply) == 413
            assert b"connection: close" in reply.lower()
            assert b"1000" in reply  # the limit is named
            assert called == []
            stats = server.statistics()
            assert (stats.requests, stats.bad_requests) == (0, 1)
            await server.wait_connections_closed()
            await stream.aclose()


async def test_a_body_at_the_limit_is_served() -> None:
    with trio.fail_after(LIMIT):
        async with open_http_server(max_body_size=1000) as server:
            stream = await connect(server.port)
            reply = await RawClient(stream).request("POST", "/x", body=b"a" * 1000)
            assert reply.status == 200
            assert server.requests[0].body == b"a" * 1000
            await stream.aclose()


async def test_an_oversized_chunked_body_is_refused_once_past_the_limit() -> None:
    with trio.fail_after(LIMIT):
        async with open_http_server(max_body_size=1000) as server:
            stream = await connect(server.port)
            await stream.send_all(
                b"POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                + b"400\r\n"
                + b"a" * 0x400
                + b"\r\n"
            )
            # No terminating chunk: the 413 comes from the count, not the end.
            reply = await read_until_eof(stream)
            assert status_of(reply) == 413
            assert server.requests == []
            await stream.aclose()


async def test_an_oversized_upload_expecting_100_continue_gets_413_not_100() -> None:
    with trio.fail_after(LIMIT):
        async with open_http_server(max_body_size=10) as server:
            stream = await connect(server.port)
            await stream.send_all(
                b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n"
            )
            reply = await read_until_eof(stream)
            assert reply.startswith(b"HTTP/1.1 413 ")
            assert b" 100 " not in reply
            assert server.statistics().bad_requests == 1
            await stream.aclose()


async def test_by_default_the_http_server_takes_any_size() -> None:
    with trio.fail_after(LIMIT):
        async with open_http_server() as server:
            assert server.max_body_size is None
            stream = await connect(server.port)
            reply = await RawClient(stream).request("POST", "/x", body=b"a" * 100_000)
            assert reply.status == 200
            await stream.aclose()


# -- slow clients are dropped ---------------------------------------------------------


async def test_a_half_sent_head_is_answered_408_and_dropped_after_head_timeout(
    autojump_clock: trio.testing.MockClock,
) -> None:
    with trio.fail_after(VIRTUAL_LIMIT):
        async with open_http_server(head_timeout=7) as server:
            stream = await connect(server.port)
            start = trio.current_time()
            await stream.send_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            reply = await read_until_eof(stream)
            assert trio.current_time() - start == 7
            assert status_of(reply) == 408
            await server.wait_connections_closed()
            assert server.statistics().requests_timed_out == 1
            await stream.aclose()


async def test_the_head_timeout_runs_from_the_first_byte_not_per_read(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # A byte every second keeps no head alive past its timeout (slowloris).
    with trio.fail_after(VIRTUAL_LIMIT):
        async with open_http_server(head_timeout=5) as server:
            stream = await connect(server.port)
            start = trio.current_time()
            answered = trio.Event()

            async def trickle() -> None:
                for byte in b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100:
                    await stream.send_all(bytes([byte]))
                    with trio.move_on_after(1):
                        await answered.wait()
                    if answered.is_set():
                        return

            async with trio.open_nursery() as nursery:
                nursery.start_soon(trickle)
                reply = await stream.receive_some(65536)
                answered.set()
            assert trio.current_time() - start == 5
            assert status_of(reply) == 408
            await server.wait_connections_closed()
            assert server.statistics().requests_timed_out == 1
            await stream.aclose()


async def test_a_new_connection_that_sends_nothing_is_closed_after_head_timeout(
    autojump_clock: trio.testing.MockClock,
) -> None:
    with trio.fail_after(VIRTUAL_LIMIT):
        async with open_http_server(head_timeout=3) as server:
            stream = await connect(server.port)
            start = trio.current_time()
            assert await read_until_eof(stream) == b""  # nothing to answer: closed silently
            assert trio.current_time() - start == 3
            await stream.aclose()


async def test_the_default_head_timeout_drops_hundreds_of_half_sent_heads(
    autojump_clock: trio.testing.MockClock,
) -> None:
    with trio.fail_after(VIRTUAL_LIMIT):
        async with open_http_server() as server:
            assert server.head_timeout == 30
            streams = [await connect(server.port) for _ in range(300)]
            start = trio.current_time()
            for stream in streams:
                await stream.send_all(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n")
            await server.wait_statistics(lambda s: s.connections_active == 300)
            async with trio.open_nursery() as nursery:
                for stream in streams:
                    nursery.start_soon(read_until_eof, stream)
            assert trio.current_time() - start == 30
            await server.wait_connections_closed()
            assert server.statistics().requests_timed_out == 300
            for stream in streams:
                await stream.aclose()


async def test_an_idle_keep_alive_connection_is_not_subject_to_the_head_timeout(
    autojump_clock: trio.testing.MockClock,
) -> None:
    with trio.fail_after(VIRTUAL_LIMIT):
        async with open_http_server(head_timeout=2) as server:
            stream = await connect(server.port)
            client = RawClient(stream)
            assert (await client.request()).status == 200
            await trio.sleep(100)  # between requests: close_idle_after (None) governs
            assert (await client.request()).status == 200
            assert server.statistics().connections_opened == 1
            await stream.aclose()


async def test_a_stalled_body_is_answered_408_after_body_timeout(
    autojump_clock: trio.testing.MockClock,
) -> None:
    with trio.fail_after(VIRTUAL_LIMIT):
        async with open_http_server(body_timeout=4, head_timeout=100) as server:
            stream = await connect(server.port)
            await stream.send_all(b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab")
            start = trio.current_time()
            await trio.sleep(3)
            await stream.send_all(b"cd")  # a byte within the timeout keeps the body alive
            reply = await read_until_eof(stream)
            assert trio.current_time() - start == 3 + 4
            assert status_of(reply) == 408
            assert server.requests == []
            assert server.statistics().requests_timed_out == 1
            await stream.aclose()


async def test_a_stalled_chunked_body_is_answered_408_after_body_timeout(
    autojump_clock: trio.testing.MockClock,
) -> None:
    with trio.fail_after(VIRTUAL_LIMIT):
        async with open_http_server(body_timeout=4) as server:
            assert server.body_timeout == 4
            stream = await connect(server.port)
            await stream.send_all(
                b"POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n"
            )
            start = trio.current_time()
            reply = await read_until_eof(stream)
            assert trio.current_time() - start == 4
            assert status_of(reply) == 408
            await stream.aclose()


async def test_timeouts_can_be_turned_off(autojump_clock: trio.testing.MockClock) -> None:
    with trio.fail_after(VIRTUAL_LIMIT):
        async with open_http_server(head_timeout=None, body_timeout=None) as server:
            stream = await connect(server.port)
            await stream.send_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
            await trio.sleep(10_000)
            await stream.send_all(b"\r\n")
            reply = await RawClient(stream).read_head()
            assert reply.status == 200
            await stream.aclose()

    # -- the record is bounded ------------------------------------------------------------


async def test_the_record_keeps_the_last_record_limit_requests() -> None:
    with trio.fail_after(LIMIT):
        async with open_http_server(record_limit=3) as server:
            stream = await connect(server.port)
            client = RawClient(stream)
            for i in range(5):
                await client.request("GET", f"/{i}")
            assert [r.path for r in server.requests] == ["/2", "/3", "/4"]
            assert isinstance(server.requests, list)
            assert server.requests.maxlen == 3
            assert server.statistics().requests == 5
            await stream.aclose()


async def test_the_default_record_is_bounded_but_generous() -> None:
    async with open_http_server() as server:
        assert server.requests.maxlen == 10_000


def test_a_bad_limit_is_refused() -> None:
    from trio_openai.testing._request_log import RequestLog

    with pytest.raises(ValueError, match="maxlen"):
        RequestLog[int](0)


def test_the_book_keeps_the_counts_of_the_last_10000_closed_connections() -> None:
    from dataclasses import dataclass

    from trio_openai.testing._http_book import ServerBook

    @dataclass
    class Conn:
        id: int
        active: bool = False

    book = ServerBook()
    kept_open = Conn(book.next_id())
    book.added(kept_open)
    for _ in range(10_005):
        conn = Conn(book.next_id())
        book.added(conn)
        book.closed(conn)
    counts = book.snapshot().requests_per_connection
    assert len(counts) == 10_000 + 1  # the open one, and the last 10000 closed
    assert 1 in counts  # open: kept however old
    assert min(k for k in counts if k != 1) == 2 + 5  # the five oldest closed went first
    assert book.snapshot().connections_opened == 10_006
