"""The test HTTP server and proxy, checked from the outside.

Clients here are raw: ``trio.open_tcp_stream`` plus hand-written bytes, or an
``h11.Connection(h11.CLIENT)`` that frames and parses for us. trio_openai's own pool
is deliberately not used, since these servers are what the pool is tested against.
"""

from __future__ import annotations

import base64
import json
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import h11
import pytest
import trio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trio_openai.testing import (
    CloseWithoutResponse,
    Request,
    Reset,
    Response,
    Stall,
    canned_handler,
    client_context,
    open_connect_proxy,
    open_http_server,
    server_context,
    tls_contexts,
)

if TYPE_CHECKING:
    import trustme

LIMIT = 5  # seconds; every test runs under trio.fail_after(LIMIT)


# --------------------------------------------------------------------------------------
# A raw client


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


# --------------------------------------------------------------------------------------
# Keep-alive, bodies, framing


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


async def test_echo_handler_describes_the_request_in_padded_json() -> None:
    with trio.fail_after(LIMIT):
        async with open_http_server() as server, await connect(server.port) as stream:
            reply = await RawClient(stream).request(
                "POST", "/v1/chat/completions", [("Authorization", "Bearer sk-test")], b"x" * 123
            )
            payload = reply.json()
            assert reply.header("content-type") == "application/json"
            assert int(reply.header("content-length") or 0) == len(reply.body) >= 700
            assert payload["method"] == "POST"
            assert payload["body_length"] == 123
            assert payload["headers"] == {
                "host": "127.0.0.1",
                "authorization": "Bearer sk-test",
                "content-length": "123",
            }
            request = server.requests[0]
            assert request.body == b"x" * 123
            assert request.header("AUTHORIZATION") == "Bearer sk-test"
            assert request.header("x-missing") is None


async def test_canned_handler_answers_the_same_every_time() -> None:
    with trio.fail_after(LIMIT):
        handler = canned_handler(b'{"ok":true}', status=201, headers=[("x-thing", "1")])
        async with open_http_server(handler) as server, await connect(server.port) as stream:
            client = RawClient(stream)
            for _ in range(3):
                reply = await client.request("POST", "/anything", body=b"{}")
                assert (reply.status, reply.body, reply.header("x-thing")) == (
                    201,
                    b'{"ok":true}',
                    "1",
                )


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


# --------------------------------------------------------------------------------------
# Closing


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


async def test_leaving_the_server_closes_connections_and_listener() -> None:
    async def handler(request: Request) -> Response:
        if request.path == "/stall":
            raise Stall
        return Response(200, body=b"ok")

    with trio.fail_after(LIMIT):
        async with open_http_server(handler) as server:
            idle = await connect(server.port)
            assert (await RawClient(idle).request()).body == b"ok"
            stalled = await connect(server.port)
            await RawClient(stalled).send_request("GET", "/stall")
            await server.wait_statistics(lambda s: s.connections_active == 1)
        async with idle, stalled:
            assert await idle.receive_some(65536) == b""
            assert await stalled.receive_some(65536) == b""
        with pytest.raises(OSError):
            await connect(server.port)


async def test_an_exception_in_the_block_comes_out_unwrapped() -> None:
    with trio.fail_after(LIMIT), pytest.raises(KeyError, match="boom"):
        async with open_http_server():
            raise KeyError("boom")


# --------------------------------------------------------------------------------------
# Misbehaviour


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


# --------------------------------------------------------------------------------------
# Bad requests


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


# --------------------------------------------------------------------------------------
# Statistics


async def test_statistics_count_open_active_and_idle_connections() -> None:
    release = trio.Event()

    async def handler(request: Request) -> Response:
        if request.path == "/slow":
            await release.wait()
        return Response(200, body=b"ok")

    with trio.fail_after(LIMIT):
        async with open_http_server(handler) as server:
            first = await connect(server.port)
            second = await connect(server.port)
            await server.wait_statistics(lambda s: s.connections_open == 2)
            stats = server.statistics()
            assert (stats.connections_active, stats.connections_idle) == (0, 2)

            slow = RawClient(first)
            await slow.send_request("GET", "/slow")
            await server.wait_statistics(lambda s: s.connections_active == 1)
            stats = server.statistics()
            assert (stats.connections_open, stats.connections_idle, stats.requests) == (2, 1, 1)

            release.set()
            assert (await slow.read_body(await slow.read_head())).body == b"ok"
            stats = server.statistics()  # updated before the response was sent
            assert (stats.connections_active, stats.connections_idle) == (0, 2)

            await first.aclose()
            await server.wait_connections_closed(expected_open=1)
            await second.aclose()
            await server.wait_connections_closed()
            stats = server.statistics()
            assert (stats.connections_opened, stats.connections_open) == (2, 0)
            assert stats.requests_per_connection == {1: 1, 2: 0}


async def test_handler_can_be_replaced_at_runtime() -> None:
    with trio.fail_after(LIMIT):
        async with open_http_server() as server, await connect(server.port) as stream:
            client = RawClient(stream)
            assert (await client.request()).json()["method"] == "GET"
            server.handler = canned_handler(b"replaced")
            assert (await client.request()).body == b"replaced"


# --------------------------------------------------------------------------------------
# The fast parser agrees with h11 (hypothesis)

_token = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!",
    min_size=1,
    max_size=12,
)
_value = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=30)


def _h11_parse(raw: bytes) -> tuple[str, str, list[tuple[str, str]], bytes]:
    h = h11.Connection(h11.SERVER)
    h.receive_data(raw)
    head = h.next_event()
    assert isinstance(head, h11.Request)
    body = b""
    while True:
        event = h.next_event()
        if isinstance(event, h11.Data):
            body += event.data
        else:
            assert isinstance(event, h11.EndOfMessage)
            break
    headers = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in head.headers]
    return head.method.decode(), head.target.decode(), headers, body


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    headers=st.lists(st.tuples(_token, _value), max_size=6),
    body=st.binary(max_size=40),
    split=st.integers(min_value=1, max_value=10_000),
    chunked=st.booleans(),
)
async def test_requests_parse_as_h11_parses_them_whatever_the_split(
    headers: list[tuple[str, str]], body: bytes, split: int, chunked: bool
) -> None:
    reserved = {"host", "content-length", "transfer-encoding", "connection", "expect"}
    headers = [(n, v) for n, v in headers if n.lower() not in reserved]
    head = b"POST /p?q=1 HTTP/1.1\r\nHost: h\r\n"
    head += b"".join(f"{n}: {v}\r\n".encode() for n, v in headers)
    if chunked:
        encoded = (b"%x\r\n%s\r\n" % (len(body), body) if body else b"") + b"0\r\n\r\n"
        raw = head + b"Transfer-Encoding: chunked\r\n\r\n" + encoded
    else:
        raw = head + b"Content-Length: %d\r\n\r\n" % len(body) + body
    method, target, want_headers, want_body = _h11_parse(raw)
    cut = 1 + split % (len(raw) - 1)  # both parts non-empty
    with trio.fail_after(LIMIT):
        async with open_http_server() as server, await connect(server.port) as stream:
            await stream.send_all(raw[:cut])
            # The first part has reached the server before the rest is sent.
            await server.wait_statistics(lambda s: s.connections_active == 1)
            await stream.send_all(raw[cut:])
            client = RawClient(stream)
            client.pretend_sent("POST")
            reply = await client.read_body(await client.read_head())
            assert reply.status == 200
            got = server.requests[0]
            assert (got.method, got.target, got.headers, got.body) == (
                method,
                target,
                want_headers,
                want_body,
            )
            assert (got.path, got.query) == ("/p", "q=1")


# --------------------------------------------------------------------------------------
# TLS


@pytest.fixture(scope="module")
def tls() -> tuple[ssl.SSLContext, trustme.CA]:
    return tls_contexts()


async def test_tls_round_trip(tls: tuple[ssl.SSLContext, trustme.CA]) -> None:
    server_ctx, ca = tls
    with trio.fail_after(LIMIT):
        async with open_http_server(ssl_context=server_ctx) as server:
            assert server.base_url == f"https://127.0.0.1:{server.port}"
            stream = await trio.open_ssl_over_tcp_stream(
                "127.0.0.1",
                server.port,
                ssl_context=client_context(ca),
            )
            async with stream:
                client = RawClient(stream)
                assert (await client.request("GET", "/secure")).json()["path"] == "/secure"
                assert (await client.request("GET", "/again")).json()["connection_id"] == 1
            await server.wait_connections_closed()
            assert server.statistics().tls_failures == 0


async def test_mutual_tls_rejects_a_client_without_certificate(
    tls: tuple[ssl.SSLContext, trustme.CA],
) -> None:
    _, ca = tls
    server_ctx = server_context(ca, require_client_cert=True)
    with trio.fail_after(LIMIT):
        async with open_http_server(ssl_context=server_ctx) as server:
            stream = await trio.open_ssl_over_tcp_stream(
                "127.0.0.1",
                server.port,
                ssl_context=client_context(ca),
            )
            async with stream:
                # TLS 1.3: the client's handshake ends first; the refusal shows on use.
                try:
                    await RawClient(stream).send_request()
                    answer = await stream.receive_some(65536)
                except trio.BrokenResourceError:
                    answer = b""
                assert answer == b""
            await server.wait_connections_closed()
            assert server.statistics().tls_failures == 1
            assert server.requests == []

            good_ctx = client_context(ca, client_cert=True)
            stream = await trio.open_ssl_over_tcp_stream(
                "127.0.0.1", server.port, ssl_context=good_ctx
            )
            async with stream:
                assert (await RawClient(stream).request()).status == 200


async def test_a_failed_handshake_does_not_stop_the_server(
    tls: tuple[ssl.SSLContext, trustme.CA],
) -> None:
    server_ctx, ca = tls
    with trio.fail_after(LIMIT):
        async with open_http_server(ssl_context=server_ctx) as server:
            async with await connect(server.port) as plain:
                await plain.send_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")  # not TLS
                await read_until_eof(plain)
            await server.wait_statistics(lambda s: s.tls_failures == 1)
            stream = await trio.open_ssl_over_tcp_stream(
                "127.0.0.1",
                server.port,
                ssl_context=client_context(ca),
            )
            async with stream:
                assert (await RawClient(stream).request()).status == 200


@pytest.mark.parametrize("fault", [Reset, CloseWithoutResponse])
async def test_faults_over_tls(
    tls: tuple[ssl.SSLContext, trustme.CA], fault: type[Exception]
) -> None:
    server_ctx, ca = tls

    async def handler(request: Request) -> Response:
        raise fault

    with trio.fail_after(LIMIT):
        async with open_http_server(handler, ssl_context=server_ctx) as server:
            stream = await trio.open_ssl_over_tcp_stream(
                "127.0.0.1", server.port, ssl_context=client_context(ca)
            )
            async with stream:
                await RawClient(stream).send_request()
                if fault is Reset:
                    with pytest.raises(trio.BrokenResourceError):
                        await stream.receive_some(65536)
                else:  # a clean TLS close: close_notify, so a strict client sees EOF
                    assert await stream.receive_some(65536) == b""


# --------------------------------------------------------------------------------------
# The proxy


async def _connect_via(
    proxy_port: int, target: str, auth: str | None = None
) -> tuple[trio.SocketStream, bytes]:
    stream = await connect(proxy_port)
    extra = (
        b""
        if auth is None
        else b"Proxy-Authorization: Basic %s\r\n" % base64.b64encode(auth.encode())
    )
    await stream.send_all(
        b"CONNECT %s HTTP/1.1\r\nHost: %s\r\n%s\r\n" % (target.encode(), target.encode(), extra)
    )
    head = b""
    for _ in range(100):
        head += await stream.receive_some(65536)
        if b"\r\n\r\n" in head:
            break
    return stream, head


async def test_connect_tunnel_relays_both_ways() -> None:
    with trio.fail_after(LIMIT):
        async with open_http_server() as server, open_connect_proxy() as proxy:
            assert proxy.url == f"http://127.0.0.1:{proxy.port}"
            target = f"127.0.0.1:{server.port}"
            stream, head = await _connect_via(proxy.port, target)
            async with stream:
                assert head == b"HTTP/1.1 200 Connection established\r\n\r\n"
                client = RawClient(stream)
                assert (await client.request("GET", "/through")).json()["path"] == "/through"
                assert (await client.request("GET", "/twice")).json()["connection_id"] == 1
                stats = proxy.statistics()
                assert (stats.tunnels_opened, stats.tunnels_open) == (1, 1)
                assert stats.requests_seen == [target]
            await proxy.wait_tunnels_closed()
            await server.wait_connections_closed()


async def test_connect_tunnel_carries_tls(tls: tuple[ssl.SSLContext, trustme.CA]) -> None:
    server_ctx, ca = tls
    with trio.fail_after(LIMIT):
        async with (
            open_http_server(ssl_context=server_ctx) as server,
            open_connect_proxy() as proxy,
        ):
            raw, head = await _connect_via(proxy.port, f"127.0.0.1:{server.port}")
            assert head.startswith(b"HTTP/1.1 200 ")
            stream = trio.SSLStream(raw, client_context(ca), server_hostname="127.0.0.1")
            async with stream:
                assert (await RawClient(stream).request("GET", "/tls")).json()["path"] == "/tls"


async def test_connect_requires_credentials_when_auth_is_set() -> None:
    with trio.fail_after(LIMIT):
        async with (
            open_http_server() as server,
            open_connect_proxy(auth=("user", "s3cret")) as proxy,
        ):
            target = f"127.0.0.1:{server.port}"
            assert "s3cret" not in repr(proxy)
            for auth in (None, "user:wrong"):
                stream, head = await _connect_via(proxy.port, target, auth)
                async with stream:
                    assert head.startswith(b"HTTP/1.1 407 ")
                    assert (
                        b'\r\nproxy-authenticate: Basic realm="trio_openai test proxy"\r\n' in head
                    )
            stream, head = await _connect_via(proxy.port, target, "user:s3cret")
            async with stream:
                assert head == b"HTTP/1.1 200 Connection established\r\n\r\n"
                assert (await RawClient(stream).request()).status == 200
            stats = proxy.statistics()
            assert (stats.auth_failures, stats.tunnels_opened) == (2, 1)
            assert stats.requests_seen == [target] * 3


async def test_proxy_refuses_targets_that_are_not_loopback() -> None:
    with trio.fail_after(LIMIT):
        async with open_connect_proxy() as proxy:
            stream, head = await _connect_via(proxy.port, "example.com:443")
            async with stream:
                assert head.startswith(b"HTTP/1.1 403 ")
            assert proxy.statistics().refused == 1


async def test_proxy_passes_an_origin_reset_through_the_tunnel() -> None:
    async def handler(request: Request) -> Response:
        raise Reset

    with trio.fail_after(LIMIT):
        async with open_http_server(handler) as server, open_connect_proxy() as proxy:
            stream, _ = await _connect_via(proxy.port, f"127.0.0.1:{server.port}")
            async with stream:
                await RawClient(stream).send_request()
                with pytest.raises(trio.BrokenResourceError):
                    await read_until_eof(stream)
            await proxy.wait_tunnels_closed()


async def test_proxy_forwards_absolute_form_requests() -> None:
    with trio.fail_after(LIMIT):
        async with open_http_server() as server, open_connect_proxy() as proxy:
            url = f"http://127.0.0.1:{server.port}/v1/models?limit=1"
            async with await connect(proxy.port) as stream:
                client = RawClient(stream, host=f"127.0.0.1:{server.port}")
                reply = await client.request(
                    "POST", url, [("proxy-connection", "keep-alive")], b"hi"
                )
                payload = reply.json()
                assert (payload["path"], payload["query"], payload["body_length"]) == (
                    "/v1/models",
                    "limit=1",
                    2,
                )
                assert "proxy-connection" not in payload["headers"]  # type: ignore[operator]
                # the client connection to the proxy stays usable
                assert (await client.request("GET", url)).status == 200
            assert proxy.statistics().forwarded == [url, url]
            assert server.requests[0].target == "/v1/models?limit=1"


async def test_connect_can_retry_with_credentials_on_the_same_connection() -> None:
    with trio.fail_after(LIMIT):
        async with open_http_server() as server, open_connect_proxy(auth=("u", "p")) as proxy:
            target = f"127.0.0.1:{server.port}"
            async with await connect(proxy.port) as stream:
                client = RawClient(stream, host=target)
                refused = await client.request("CONNECT", target)
                assert refused.status == 407
                assert (
                    refused.header("proxy-authenticate") == 'Basic realm="trio_openai test proxy"'
                )
                token = base64.b64encode(b"u:p").decode()
                await client.send_request(
                    "CONNECT", target, [("proxy-authorization", f"Basic {token}")]
                )
                assert (await client.read_head()).status == 200
                tunnel = RawClient(stream)
                assert (await tunnel.request("GET", "/in")).json()["path"] == "/in"
            assert proxy.statistics().auth_failures == 1


# --------------------------------------------------------------------------------------
# Volume


async def test_large_bodies_both_ways() -> None:
    big = bytes(range(256)) * 4096  # 1 MiB

    async def handler(request: Request) -> Response:
        return Response(200, body=request.body[::-1])

    with trio.fail_after(LIMIT):
        async with open_http_server(handler) as server, await connect(server.port) as stream:
            client = RawClient(stream)
            reply = await client.request("POST", "/big", body=big)
            assert reply.body == big[::-1]
            assert server.requests[0].body == big


async def test_many_concurrent_connections() -> None:
    async def user(port: int, results: list[int]) -> None:
        async with await connect(port) as stream:
            client = RawClient(stream)
            for _ in range(5):
                results.append((await client.request()).json()["connection_id"])  # type: ignore[arg-type]

    with trio.fail_after(LIMIT):
        async with open_http_server() as server:
            results: list[int] = []
            async with trio.open_nursery() as nursery:
                for _ in range(20):
                    nursery.start_soon(user, server.port, results)
            assert sorted(set(results)) == list(range(1, 21))
            await server.wait_connections_closed()
            stats = server.statistics()
            assert stats.requests == 100
            assert stats.requests_per_connection == dict.fromkeys(range(1, 21), 5)


def test_importing_the_package_does_not_import_trustme() -> None:
    code = "import sys, trio_openai.testing; print('trustme' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True
    )
    assert result.stdout.strip() == "False"
