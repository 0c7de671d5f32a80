"""Tests of _response: the body on demand, and the lease ended exactly once."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import trio

from trio_openai._config import Timeouts
from trio_openai._http import Pool
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
