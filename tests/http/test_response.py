"""Tests of _response: the body on demand, and the lease ended exactly once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import trio
from _raw_server import RawServer, raw_server

import trio_openai
from trio_openai import APIError, APIResponseValidationError
from trio_openai._config import Timeouts
from trio_openai._http import Pool
from trio_openai.errors import ResponseTooLargeError
from trio_openai.testing import Request, Response, open_http_server

FAST = Timeouts(connect=5, read=5, write=5, pool=5)


async def test_leaving_the_block_early_closes_the_connection() -> None:
    async with open_http_server() as server, Pool(timeouts=FAST) as pool:
        async with pool.stream("GET", server.base_url + "/") as resp:
            assert resp.status == 200
        assert resp.is_closed
        stats = pool.statistics()
        assert (stats.open, stats.idle, stats.borrowed) == (0, 0, 0)
        await server.wait_connections_closed(0)
        # the next request opens a fresh connection and works
        assert (await pool.request("GET", server.base_url + "/")).status == 200


async def test_reading_to_the_end_returns_the_connection_once() -> None:
    async with open_http_server() as server, Pool(timeouts=FAST) as pool:
        async with pool.stream("GET", server.base_url + "/") as resp:
            assert repr(resp).endswith("open>")
            body = await resp.read()
            assert resp.is_closed  # the end of the body ended the lease
            assert await resp.read() is body  # read once; later calls give the same bytes
            resp.close()  # idempotent: the connection is not released twice
            await resp.aclose()
        assert repr(resp).endswith("closed>")
        stats = pool.statistics()
        assert (stats.open, stats.idle, stats.borrowed) == (1, 1, 0)
        with pytest.raises(RuntimeError, match="closed"):
            await resp.receive_chunk()


async def test_content_needs_a_read_first() -> None:
    async with (
        open_http_server() as server,
        Pool(timeouts=FAST) as pool,
        pool.stream("GET", server.base_url + "/") as resp,
    ):
        with pytest.raises(RuntimeError, match="read"):
            _ = resp.content


async def test_read_capped_closes_a_connection_with_more_to_read() -> None:
    async def handler(request: Request) -> Response:
        return Response(body=b"e" * 100_000)

    async with open_http_server(handler) as server, Pool(timeouts=FAST) as pool:
        async with pool.stream("GET", server.base_url + "/") as resp:
            assert await resp.read_capped(10) == b"e" * 10
            assert resp.is_closed
        stats = pool.statistics()
        assert (stats.open, stats.borrowed) == (0, 0)


async def test_iter_bytes_stops_at_the_end_and_after_close() -> None:
    async with open_http_server() as server, Pool(timeouts=FAST) as pool:
        async with pool.stream("GET", server.base_url + "/") as resp:
            pieces = [piece async for piece in resp.iter_bytes()]
            assert b"".join(pieces)
            assert [piece async for piece in resp.iter_bytes()] == []
        assert pool.statistics().idle == 1


async def test_a_read_cancelled_midway_closes_the_connection() -> None:
    async def handler(request: Request) -> Response:
        async def slow() -> AsyncIterator[bytes]:
            yield b"first"
            await trio.sleep_forever()

        return Response(body=slow())

    async with open_http_server(handler) as server, Pool(timeouts=FAST) as pool:
        async with pool.stream("GET", server.base_url + "/") as resp:
            assert await resp.receive_chunk() == b"first"
            with trio.move_on_after(0.05):
                await resp.receive_chunk()  # cancelled while reading
            assert resp.is_closed
        stats = pool.statistics()
        assert (stats.open, stats.borrowed) == (0, 0)


# -- bounded memory, through the public Client -------------------------------------------

MODELS = b'{"object":"list","data":[]}'
MODELS_OK = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(MODELS), MODELS)
CLIENT_FAST = Timeouts(connect=5, read=30, write=5, pool=5)


def _client(server: RawServer, **kwargs: Any) -> trio_openai.Client:
    return trio_openai.Client(
        api_key="sk-test",
        base_url=f"http://127.0.0.1:{server.port}/v1",
        timeout=CLIENT_FAST,
        **kwargs,
    )


def _chunked(body: bytes, piece: int) -> bytes:
    chunks = b"".join(
        b"%x\r\n%s\r\n" % (len(body[i : i + piece]), body[i : i + piece])
        for i in range(0, len(body), piece)
    )
    return b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n"


async def test_a_declared_body_over_the_cap_fails_before_it_is_read() -> None:
    # 150 MB announced; the server sends only the head and a few bytes, so reading
    # would wait for the (30 s) read timeout: the error must come at once.
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 150000000\r\nX-Request-Id: req_big\r\n\r\n"
    async with (
        raw_server([(head + b"x" * 1000, False), (MODELS_OK, False)]) as server,
        _client(server, max_response_size=64 * 2**20) as client,
    ):
        with trio.fail_after(2), pytest.raises(ResponseTooLargeError) as info:
            await client.request("GET", "/models")
        error = info.value
        assert (error.limit, error.size, error.status_code) == (64 * 2**20, 150_000_000, 200)
        assert error.request_id == "req_big"
        assert "150000000" in str(error)
        assert "max_response_size=67108864" in str(error)
        assert "Client(max_response_size=" in str(error)  # how to raise it
        assert not error.is_retryable
        assert isinstance(error, APIResponseValidationError)
        assert len(server.requests) == 1  # not retried
        stats = client.pool.statistics()
        assert (stats.open, stats.borrowed) == (0, 0)  # the connection was closed
        assert await client.request("GET", "/models") == {"object": "list", "data": []}
        assert server.connections == 2  # a new connection for the next call


@pytest.mark.parametrize(
    "reply",
    [
        pytest.param(_chunked(b"y" * 5000, 100), id="chunked"),
        pytest.param(b"HTTP/1.0 200 OK\r\n\r\n" + b"y" * 5000, id="close-delimited"),
        pytest.param(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n 2\r\n\r\n"
            + _chunked(b"y" * 5000, 700).partition(b"\r\n\r\n")[2],
            id="chunked-through-h11",
        ),
    ],
)
async def test_an_undeclared_body_over_the_cap_fails_while_it_is_read(reply: bytes) -> None:
    async with (
        raw_server([(reply, True), (MODELS_OK, False)]) as server,
        _client(server, max_response_size=4096) as client,
    ):
        with trio.fail_after(5), pytest.raises(ResponseTooLargeError) as info:
            await client.request("GET", "/models")
        assert info.value.limit == 4096
        assert 4096 < info.value.size <= 4096 + 65536
        assert "received" in str(info.value)
        assert len(server.requests) == 1
        assert client.pool.statistics().open == 0
        assert await client.request("GET", "/models") == {"object": "list", "data": []}


@pytest.mark.parametrize("chunked", [False, True])
async def test_a_body_of_exactly_the_cap_is_read(chunked: bool) -> None:
    body = b'"' + b"z" * 4094 + b'"'
    reply = (
        _chunked(body, 1000)
        if chunked
        else b"HTTP/1.1 200 OK\r\nContent-Length: 4096\r\n\r\n" + body
    )
    async with (
        raw_server([(reply, False), (reply, False)]) as server,
        _client(server, max_response_size=4096) as client,
    ):
        assert await client.request("GET", "/models") == "z" * 4094
        assert await client.request("GET", "/models") == "z" * 4094
        assert server.connections == 1


async def test_the_read_buffer_size_bounds_each_piece_of_a_body() -> None:
    body = b"b" * 50_000
    reply = b"HTTP/1.1 200 OK\r\nContent-Length: 50000\r\n\r\n" + body
    async with (
        raw_server([(reply, False)]) as server,
        _client(server, read_buffer_size=1024) as client,
        client.pool.stream("GET", f"http://127.0.0.1:{server.port}/") as resp,
    ):
        pieces = [len(piece) async for piece in resp.iter_bytes()]
    assert sum(pieces) == 50_000
    assert max(pieces) <= 4 * 1024  # long bodies: up to 4 reads' worth at once
    defaults = trio_openai.Client(api_key="sk-test").pool
    assert (defaults.read_buffer_size, defaults.max_response_size) == (65536, 256 * 2**20)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"max_response_size": 0}, ValueError, "max_response_size"),
        ({"max_response_size": "big"}, TypeError, "max_response_size"),
        ({"read_buffer_size": 10}, ValueError, "read_buffer_size"),
        ({"read_buffer_size": 1.5}, TypeError, "read_buffer_size"),
        ({"max_event_size": 0}, ValueError, "max_event_size"),
        ({"max_event_size": True}, TypeError, "max_event_size"),
    ],
)
def test_size_settings_are_checked_when_the_client_is_built(
    kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        trio_openai.Client(api_key="sk-test", **kwargs)


async def test_max_event_size_reaches_streams() -> None:
    event = (
        b'data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m",'
        b'"choices":[]}\n\n'
    )
    body = event + b"data: " + b"x" * 3000 + b"\n\n"
    reply = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: %d\r\n\r\n"
        % len(body)
        + body
    )
    async with (
        raw_server([(reply, False)]) as server,
        _client(server, max_event_size=2048) as client,
    ):
        stream = await client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        seen = 0
        with pytest.raises(APIError, match="max_event_size=2048"):  # noqa: PT012
            async with stream:
                async for _ in stream:
                    seen += 1
        assert seen == 1  # the event before the oversized one was delivered


def test_headers_are_found_alike_before_and_after_the_mapping_is_built() -> None:
    from trio_openai._http._models import Headers

    raw = [(b"x-request-id", b"req_1"), (b"set-cookie", b"a=1"), (b"set-cookie", b"b=2")]
    lazy, built = Headers(raw), Headers(raw)
    assert len(built) == 2  # builds the mapping
    for headers in (lazy, built):
        assert headers.get("X-Request-ID") == "req_1"
        assert headers["set-cookie"] == "a=1, b=2"
        assert "Set-Cookie" in headers
        assert "x-missing" not in headers and 3 not in headers
        assert headers.get("x-missing", "default") == "default"
        assert headers.get("\u20ac") is None  # not latin-1: no such header
        with pytest.raises(KeyError):
            headers["x-missing"]
    assert dict(lazy) == dict(built) == {"x-request-id": "req_1", "set-cookie": "a=1, b=2"}
