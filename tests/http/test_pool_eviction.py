"""The pool at ``max_connections`` over several origins, seen from the servers' side.

Open sockets never exceed ``max_connections``: a new connection needed while idle
connections of other origins fill the budget closes the least recently used idle one.
Each origin is its own test server, so the servers' connection counts show what the
client really holds open. Virtual time (autojump clock) orders the idle connections:
each request is a second after the previous one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager

import trio
import trio.testing

from trio_openai._config import PoolLimits, Timeouts
from trio_openai._http import Pool
from trio_openai.testing import Handler, HTTPServer, Request, Response, open_http_server

FAST = Timeouts(connect=5, read=5, write=5, pool=5)


@asynccontextmanager
async def servers(count: int, handler: Handler | None = None) -> AsyncIterator[list[HTTPServer]]:
    """``count`` servers, each one origin (its own port)."""
    async with AsyncExitStack() as stack:
        yield [await stack.enter_async_context(open_http_server(handler)) for _ in range(count)]


def open_per_server(all_servers: Sequence[HTTPServer]) -> list[int]:
    return [s.statistics().connections_open for s in all_servers]


async def get(pool: Pool, server: HTTPServer) -> None:
    await trio.sleep(1)  # one virtual second apart: a strict least-recently-used order
    response = await pool.request("GET", server.base_url + "/")
    assert response.status == 200


async def settle(all_servers: Sequence[HTTPServer], expected: list[int]) -> None:
    """Wait until the servers saw the client's closes, then check their counts."""
    for server, count in zip(all_servers, expected, strict=True):
        await server.wait_connections_closed(expected_open=count)
    assert open_per_server(all_servers) == expected


async def test_a_new_origin_at_the_limit_evicts_the_least_recently_used_idle_connection(
    autojump_clock: trio.testing.MockClock,
) -> None:
    limits = PoolLimits(max_connections=3, max_idle_per_host=3)
    async with servers(5) as (a, b, c, d, e), Pool(limits=limits, timeouts=FAST) as pool:
        every = [a, b, c, d, e]
        for server in (a, b, c):
            await get(pool, server)
        await settle(every, [1, 1, 1, 0, 0])

        await get(pool, d)  # A's connection is the oldest idle one
        await settle(every, [0, 1, 1, 1, 0])
        stats = pool.statistics()
        assert (stats.open, stats.idle, stats.borrowed) == (3, 3, 0)

        await get(pool, b)  # reused: B is now the most recent
        assert b.statistics().connections_opened == 1
        await get(pool, e)  # C is now the oldest idle one (C < D < B)
        await settle(every, [0, 1, 0, 1, 1])

        await get(pool, a)  # then D
        await settle(every, [1, 1, 0, 0, 1])
        assert [s.statistics().connections_opened for s in every] == [2, 1, 1, 1, 1]
        stats = pool.statistics()
        assert (stats.open, stats.idle, stats.connections_created) == (3, 3, 6)


async def test_idle_connections_of_one_origin_make_room_for_another(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # Three idle connections to A fill the budget; B's request closes the one idle
    # the longest (A's connection k answers, and so goes idle, at k seconds).
    limits = PoolLimits(max_connections=3, max_idle_per_host=3)
    pair = trio.Event()
    pair_ids: list[int] = []

    async def handler(request: Request) -> Response:
        if request.query == "stagger":
            await trio.sleep(request.connection_id)
        elif request.query == "pair":  # hold two requests until both are in
            pair_ids.append(request.connection_id)
            if len(pair_ids) == 2:
                pair.set()
            await pair.wait()
        return Response(body=b"ok")

    async with servers(2, handler) as (a, b), Pool(limits=limits, timeouts=FAST) as pool:
        async with trio.open_nursery() as nursery:
            for _ in range(3):
                nursery.start_soon(pool.request, "GET", a.base_url + "/?stagger")
        await settle([a, b], [3, 0])
        await get(pool, b)
        await settle([a, b], [2, 1])
        assert pool.statistics().open == 3
        # The two left are A's connections 2 and 3: two requests at once take both.
        async with trio.open_nursery() as nursery:
            for _ in range(2):
                nursery.start_soon(pool.request, "GET", a.base_url + "/?pair")
        assert sorted(pair_ids) == [2, 3]
        assert a.statistics().connections_opened == 3


async def test_concurrent_requests_over_many_origins_never_open_more_than_the_limit(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # 40 requests over 4 origins, 6 at a time, through a pool of 3: at every moment the
    # pool holds at most 3 sockets, and when all is quiet the servers agree.
    limits = PoolLimits(max_connections=3, max_idle_per_host=3)
    async with servers(4) as every, Pool(limits=limits, timeouts=FAST) as pool:
        peak = 0

        async def watch() -> None:
            nonlocal peak
            while True:
                peak = max(peak, pool.statistics().open)
                await trio.sleep(0.0005)

        async def worker(k: int) -> None:
            for i in range(k, 40, 6):
                await trio.sleep(0.001 * (i % 3))
                r = await pool.request("GET", every[i % 4].base_url + "/")
                assert r.status == 200

        async with trio.open_nursery() as nursery:
            nursery.start_soon(watch)
            async with trio.open_nursery() as workers:
                for k in range(6):
                    workers.start_soon(worker, k)
            nursery.cancel_scope.cancel()
        stats = pool.statistics()
        assert stats.open <= 3
        await trio.testing.wait_all_tasks_blocked()  # the servers saw every close
        assert sum(open_per_server(every)) == stats.open
        assert peak == 3
        assert sum(s.statistics().requests for s in every) == 40
