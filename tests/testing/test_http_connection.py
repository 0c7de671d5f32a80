"""One connection of the test HTTP server: keep-alive, framing, closing, scripted
misbehaviour, bad requests.

Clients here are raw: ``trio.open_tcp_stream`` plus hand-written bytes, or an
``h11.Connection(h11.CLIENT)`` that frames and parses for us (``_raw_client``).
trio_openai's own pool is deliberately not used, since these servers are what the
pool is tested against.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import h11
import pytest
import trio
from _raw_client import LIMIT, RawClient, connect, read_until_eof

from trio_openai.testing import (
    CloseWithoutResponse,
    Request,
    Reset,
    Response,
    Stall,
    open_http_server,
)


async def test_keep_alive_serves_several_requests_on_one_connection() -> None:
    with trio.fail_after(LIMIT):
        async with open_http_server() as server, await connect(server.port) as stream:
            client = RawClient(stream)
            replies = [await client.request("GET", f"/v1/models/{i}?x={i}") for i in range(3)]

            assert [r.status for r in replies] == [200, 200, 200]
            assert [r.json()["path"] for r in replies] == [
                "/v1/models/0",
                "/v1/models/1",
                "/v1/models/2",
            ]
            assert [r.json()["query"] for r in replies] == ["x=0", "x=1", "x=2"]
            assert {r.json()["connection_id"] for r in replies} == {1}
            assert [(r.method, r.path, r.connection_id) for r in server.requests] == [
                ("GET", f"/v1/models/{i}", 1) for i in range(3)
            ]
            stats = server.statistics()
            assert stats.connections_opened == 1
            assert stats.requests == 3
            assert stats.requests_per_connection == {1: 3}


async def test_chunked_request_body_is_read_whole_before_the_handler() -> None:
    with trio.fail_after(LIMIT):
        async with open_http_server() as server, await connect(server.port) as stream:
            await stream.send_all(
                b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
            )
            client = RawClient(stream)
            client.pretend_sent("POST")
            reply = await client.read_body(await client.read_head())
            assert reply.json()["body_length"] == 11
            assert server.requests[0].body == b"hello world"
            # and the connection goes on
            assert (await client.request("GET", "/next")).json()["path"] == "/next"


async def test_streamed_body_is_chunked_and_each_item_flushed() -> None:
    release = trio.Event()

    async def parts() -> AsyncIterator[bytes]:
        yield b"data: one\n\n"
        await release.wait()  # the first item must reach the client before this
        yield b"data: two\n\n"

    async def handler(request: Request) -> Response:
        return Response(200, [("content-type", "text/event-stream")], parts())

    with trio.fail_after(LIMIT):
        async with open_http_server(handler) as server, await connect(server.port) as stream:
            client = RawClient(stream)
            await client.send_request("POST", "/v1/chat/completions", body=b"{}")
            reply = await client.read_head()
            assert reply.header("transfer-encoding") == "chunked"
            assert reply.header("content-length") is None
            first = await client.next_event()
            assert isinstance(first, h11.Data)
            assert bytes(first.data) == b"data: one\n\n"
            release.set()
            reply = await client.read_body(reply)
            assert reply.body == b"data: two\n\n"
            # The connection is still usable afterwards.
            assert (await client.request()).status == 200
            assert server.statistics().requests_per_connection == {1: 2}


async def test_informational_responses_come_before_the_response() -> None:
    async def handler(request: Request) -> Response:
        return Response(200, body=b"ok", informational=[100, 103])

    with trio.fail_after(LIMIT):
        async with open_http_server(handler) as server, await connect(server.port) as stream:
            reply = await RawClient(stream).request()
            assert reply.informational == [100, 103]
            assert (reply.status, reply.body) == (200, b"ok")


async def test_expect_100_continue_is_answered_before_the_body() -> None:
    with trio.fail_after(LIMIT):
        async with open_http_server() as server, await connect(server.port) as stream:
            await stream.send_all(
                b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"
            )
            interim = await stream.receive_some(65536)
            assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
            await stream.send_all(b"body")
            response = await stream.receive_some(65536)
            assert response.startswith(b"HTTP/1.1 200 OK\r\n")
            assert server.requests[0].body == b"body"


async def test_pipelined_requests_are_answered_in_order() -> None:
    with trio.fail_after(LIMIT):
        async with open_http_server() as server, await connect(server.port) as stream:
            await stream.send_all(
                b"GET /first HTTP/1.1\r\nHost: x\r\n\r\nGET /second HTTP/1.1\r\nHost: x\r\n\r\n"
            )
            client = RawClient(stream)
            paths = []
            for _ in range(2):
                client.pretend_sent()
                paths.append((await client.read_body(await client.read_head())).json()["path"])
            assert paths == ["/first", "/second"]
            assert [r.path for r in server.requests] == ["/first", "/second"]


async def test_head_and_204_have_no_body() -> None:
    async def handler(request: Request) -> Response:
        if request.path == "/empty":
            return Response(204)
        return Response(200, body=b"twelve bytes")

    with trio.fail_after(LIMIT):
        async with open_http_server(handler) as server, await connect(server.port) as stream:
            client = RawClient(stream)
            head = await client.request("HEAD", "/")
            assert (head.header("content-length"), head.body) == ("12", b"")
            empty = await client.request("GET", "/empty")
            assert (empty.status, empty.header("content-length"), empty.body) == (204, None, b"")
            assert (await client.request("GET", "/")).body == b"twelve bytes"


async def test_lying_content_length_gives_a_truncated_body() -> None:
    async def handler(request: Request) -> Response:
        return Response(200, [("content-length", "100")], b"short", close=True)

    with trio.fail_after(LIMIT):
        async with open_http_server(handler) as server, await connect(server.port) as stream:
            client = RawClient(stream)
            await client.send_request()
            reply = await client.read_head()
            with pytest.raises(h11.RemoteProtocolError):
                await client.read_body(reply)
            assert b"".join(reply.pieces) == b"short"


async def test_http10_request_gets_a_close_delimited_answer() -> None:
    with trio.fail_after(LIMIT):
        async with open_http_server() as server, await connect(server.port) as stream:
            await stream.send_all(b"GET /old HTTP/1.0\r\n\r\n")
            raw = await read_until_eof(stream)
            assert raw.startswith(b"HTTP/1.1 200 OK\r\n")
            assert b"\r\nconnection: close\r\n" in raw
            assert server.requests[0].http_version == "1.0"
            await server.wait_connections_closed()


async def test_response_close_announces_and_closes() -> None:
    async def handler(request: Request) -> Response:
        return Response(200, body=b"bye", close=True)

    with trio.fail_after(LIMIT):
        async with open_http_server(handler) as server, await connect(server.port) as stream:
            reply = await RawClient(stream).request()
            assert reply.header("connection") == "close"
            assert await stream.receive_some(65536) == b""
            await server.wait_connections_closed()


@pytest.mark.parametrize("announce", [True, False])
async def test_close_after_max_requests(announce: bool) -> None:
    with trio.fail_after(LIMIT):
        async with (
            open_http_server(max_requests_per_connection=2, announce_close=announce) as server,
            await connect(server.port) as stream,
        ):
            client = RawClient(stream)
            first = await client.request()
            second = await client.request()
            assert first.header("connection") is None
            assert second.header("connection") == ("close" if announce else None)
            assert await stream.receive_some(65536) == b""  # FIN, not a reset
            await server.wait_connections_closed()
            assert server.statistics().requests_per_connection == {1: 2}
            # A new connection gets the next two.
            async with await connect(server.port) as again:
                assert (await RawClient(again).request()).json()["connection_id"] == 2


async def test_close_idle_after_closes_an_idle_connection() -> None:
    with trio.fail_after(LIMIT):
        async with (
            open_http_server(close_idle_after=0.1) as server,
            await connect(server.port) as stream,
        ):
            assert (await RawClient(stream).request()).status == 200
            start = trio.current_time()
            assert await stream.receive_some(65536) == b""
            assert trio.current_time() - start >= 0.05
            await server.wait_connections_closed()
            assert server.statistics().connections_opened == 1


async def test_stall_never_answers_until_the_client_gives_up() -> None:
    async def handler(request: Request) -> Response:
        raise Stall

    with trio.fail_after(LIMIT):
        async with open_http_server(handler) as server:
            async with await connect(server.port) as stream:
                client = RawClient(stream)
                await client.send_request()
                with trio.move_on_after(0.2) as scope:
                    await client.read_head()
                assert scope.cancelled_caught
                stats = server.statistics()
                assert (stats.requests, stats.connections_active) == (1, 1)
            await server.wait_connections_closed()


async def test_stall_before_head_and_server_wide_fault() -> None:
    with trio.fail_after(LIMIT):
        async with open_http_server(stall_before_head=True) as server:
            async with await connect(server.port) as stream:
                await RawClient(stream).send_request()
                with trio.move_on_after(0.1) as scope:
                    await stream.receive_some(65536)
                assert scope.cancelled_caught
            server.stall_before_head = False
            server.fault = CloseWithoutResponse()
            async with await connect(server.port) as stream:
                await RawClient(stream).send_request()
                assert await stream.receive_some(65536) == b""
            server.fault = None
            async with await connect(server.port) as stream:
                assert (await RawClient(stream).request()).status == 200


async def test_returned_misbehaviour_works_like_a_raised_one() -> None:
    async def handler(request: Request) -> Response | CloseWithoutResponse:
        return CloseWithoutResponse()

    with trio.fail_after(LIMIT):
        async with open_http_server(handler) as server, await connect(server.port) as stream:
            await RawClient(stream).send_request()
            assert await stream.receive_some(65536) == b""
            assert server.statistics().resets_sent == 0


async def test_reset_aborts_the_connection() -> None:
    async def handler(request: Request) -> Response:
        raise Reset

    with trio.fail_after(LIMIT):
        async with open_http_server(handler) as server, await connect(server.port) as stream:
            await RawClient(stream).send_request()
            with pytest.raises(trio.BrokenResourceError) as info:
                await stream.receive_some(65536)
            assert isinstance(info.value.__cause__, ConnectionResetError)
            assert server.statistics().resets_sent == 1
            assert server.errors == []


@pytest.mark.parametrize("fault", [Reset, CloseWithoutResponse])
async def test_streamed_body_dropped_midway(fault: type[Exception]) -> None:
    async def parts() -> AsyncIterator[bytes]:
        yield b"first part"
        raise fault

    async def handler(request: Request) -> Response:
        return Response(200, body=parts())

    with trio.fail_after(LIMIT):
        async with open_http_server(handler) as server, await connect(server.port) as stream:
            client = RawClient(stream)
            await client.send_request()
            reply = await client.read_head()
            expected = trio.BrokenResourceError if fault is Reset else h11.RemoteProtocolError
            with pytest.raises(expected):
                await client.read_body(reply)
            assert reply.pieces == [b"first part"]
            assert server.errors == []


async def test_handler_error_gives_500_and_is_recorded() -> None:
    async def handler(request: Request) -> Response:
        raise ZeroDivisionError("bad handler")

    with trio.fail_after(LIMIT):
        async with open_http_server(handler) as server, await connect(server.port) as stream:
            client = RawClient(stream)
            assert (await client.request()).status == 500
            assert (await client.request()).status == 500  # still serving
            assert [type(e) for e in server.errors] == [ZeroDivisionError, ZeroDivisionError]


async def test_error_in_streamed_body_cuts_the_response_and_is_recorded() -> None:
    async def parts() -> AsyncIterator[bytes]:
        yield b"x"
        raise ValueError("generator broke")

    async def handler(request: Request) -> Response:
        return Response(200, body=parts())

    with trio.fail_after(LIMIT):
        async with open_http_server(handler) as server, await connect(server.port) as stream:
            client = RawClient(stream)
            await client.send_request()
            with pytest.raises((h11.RemoteProtocolError, trio.BrokenResourceError)):
                await client.read_body(await client.read_head())
            assert [str(e) for e in server.errors] == ["generator broke"]


async def test_trickle_sends_the_body_slowly() -> None:
    async def handler(request: Request) -> Response:
        return Response(200, body=b"abcd", trickle=0.05)

    with trio.fail_after(LIMIT):
        async with open_http_server(handler) as server, await connect(server.port) as stream:
            client = RawClient(stream)
            await client.send_request()
            reply = await client.read_head()
            start = trio.current_time()
            reply = await client.read_body(reply)
            assert reply.body == b"abcd"
            assert reply.header("content-length") == "4"
            # four sleeps of 0.05 s happen after the head was sent
            assert trio.current_time() - start >= 0.15


async def test_stall_after_head_sends_the_head_only() -> None:
    async def handler(request: Request) -> Response:
        return Response(200, body=b"never sent", stall_after_head=True)

    with trio.fail_after(LIMIT):
        async with open_http_server(handler) as server, await connect(server.port) as stream:
            client = RawClient(stream)
            await client.send_request()
            reply = await client.read_head()
            assert (reply.status, reply.header("content-length")) == (200, "10")
            with trio.move_on_after(0.1) as scope:
                await client.read_body(reply)
            assert scope.cancelled_caught
            assert server.statistics().connections_active == 1


async def test_oversized_head_gets_431_and_a_close() -> None:
    with trio.fail_after(LIMIT):
        async with (
            open_http_server(max_head_size=1024) as server,
            await connect(server.port) as stream,
        ):
            await stream.send_all(
                b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 4000 + b"\r\n\r\n"
            )
            raw = await read_until_eof(stream)
            assert raw.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n")
            assert b"\r\nconnection: close\r\n" in raw
            assert server.statistics().bad_requests == 1
            assert server.requests == []


@pytest.mark.parametrize(
    "raw",
    [
        b"NOT HTTP AT ALL\r\n\r\n",
        b"GET / HTTP/1.1\r\n\r\n",  # no Host
        b"GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n",
    ],
)
async def test_malformed_request_gets_400_and_a_close(raw: bytes) -> None:
    with trio.fail_after(LIMIT):
        async with open_http_server() as server, await connect(server.port) as stream:
            await stream.send_all(raw)
            answer = await read_until_eof(stream)
            assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n")
            assert server.statistics().bad_requests == 1
            assert server.errors == []
