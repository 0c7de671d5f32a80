"""The test HTTP server as a whole: lifetime, statistics, settings, volume, imports.

Clients here are raw: ``trio.open_tcp_stream`` plus hand-written bytes, or an
``h11.Connection(h11.CLIENT)`` that frames and parses for us (``_raw_client``).
trio_openai's own pool is deliberately not used, since these servers are what the
pool is tested against.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
import trio
from _raw_client import LIMIT, RawClient, connect

from trio_openai.testing import Request, Response, Stall, canned_handler, open_http_server


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
