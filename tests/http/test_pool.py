"""The connection pool through its public API, on real loopback sockets.

Time is trio's ``MockClock(autojump_threshold=0)`` (the ``autojump_clock`` fixture)
wherever a test waits: a timeout of 0.2 s fires at exactly 0.2 s of virtual time, the
server's own delays are virtual too, and no test races the real clock. Where a test
must wait for the other side (the server closing a connection, a request queueing in
the pool), it waits for that event, not for a while.
"""

from __future__ import annotations

import json
import random
import socket
from collections.abc import AsyncIterator
from functools import partial

import pytest
import trio
import trio.lowlevel

import trio_openai
from trio_openai._config import PoolLimits, Timeouts
from trio_openai._http import (
    ConnectTimeout,
    InsecureRequestWarning,
    Pool,
    PoolTimeout,
    ReadError,
    ReadTimeout,
    RemoteProtocolError,
    TotalTimeout,
    WriteTimeout,
)
from trio_openai.testing import (
    CloseWithoutResponse,
    Request,
    Response,
    Stall,
    open_http_server,
    open_mock_server,
)

FAST = Timeouts(connect=5, read=5, write=5, pool=5)


async def test_sequential_requests_reuse_one_connection() -> None:
    async with open_http_server() as server, Pool(timeouts=FAST) as pool:
        for i in range(100):
            r = await pool.request("POST", server.base_url + f"/v1/x?i={i}", body=b"{}")
            assert r.status == 200
            assert json.loads(r.content)["query"] == f"i={i}"
        assert server.statistics().connections_opened == 1
        stats = pool.statistics()
        assert (stats.open, stats.idle, stats.borrowed) == (1, 1, 0)
        assert stats.connections_reused == 99


async def test_concurrency_n_uses_n_connections() -> None:
    n = 8
    arrived = 0
    release = trio.Event()

    async def handler(request: Request) -> Response:
        nonlocal arrived
        arrived += 1
        if arrived == n:
            release.set()
        await release.wait()
        return Response(body=b"ok")

    async with open_http_server(handler) as server, Pool(timeouts=FAST) as pool:
        with trio.fail_after(10):
            async with trio.open_nursery() as nursery:
                for _ in range(n):
                    nursery.start_soon(pool.request, "GET", server.base_url + "/")
        assert server.statistics().connections_opened == n
        assert pool.statistics().idle == n
        # and they are all reused afterwards
        arrived = -(10**9)  # no more waiting
        release.set()
        for _ in range(n):
            await pool.request("GET", server.base_url + "/")
        assert server.statistics().connections_opened == n


@pytest.mark.parametrize("announce", [True, False])
async def test_server_closing_after_every_3_requests_causes_no_error(
    announce: bool, autojump_clock: trio.testing.MockClock
) -> None:
    async with (
        open_http_server(max_requests_per_connection=3, announce_close=announce) as server,
        Pool(timeouts=FAST) as pool,
    ):
        with trio.fail_after(10):
            for _ in range(20):
                r = await pool.request("GET", server.base_url + "/")
                assert r.status == 200
                # As between real requests, the server's close is done (its FIN sent)
                # before the next request: after every third request, nothing is open.
                await server.wait_statistics(
                    lambda s: s.connections_open == (0 if s.requests % 3 == 0 else 1)
                )
        assert server.statistics().connections_opened == 7
        assert server.statistics().requests == 20
        stats = pool.statistics()
        assert stats.fresh_retries == 0  # every close was seen before a reuse
        # Announced, the client closes the connection itself after the third answer;
        # unannounced, it finds it closed by the peer when it next takes it.
        assert stats.stale_discarded == (0 if announce else 6)


async def test_server_closing_idle_connections_causes_no_error(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with (
        open_http_server(close_idle_after=0.05) as server,
        Pool(timeouts=FAST) as pool,
    ):
        with trio.fail_after(10):
            for _ in range(4):
                r = await pool.request("GET", server.base_url + "/")
                assert r.status == 200
                await trio.sleep(0.15)  # the server closes the idle connection at 0.05 s
                assert server.statistics().connections_open == 0
        assert server.statistics().connections_opened == 4
        assert pool.statistics().stale_discarded == 3  # the fourth is never reused
        assert pool.statistics().fresh_retries == 0


async def test_unannounced_close_races_are_retried_once_on_a_fresh_connection() -> None:
    # The server drops each connection right after its response, without saying so;
    # the client reuses it at once, before the FIN can be seen by the stale check.
    async with (
        open_http_server(max_requests_per_connection=1, announce_close=False) as server,
        Pool(timeouts=FAST) as pool,
    ):
        with trio.fail_after(10):
            for _ in range(10):
                r = await pool.request("POST", server.base_url + "/", body=b"x")
                assert r.status == 200
        assert server.statistics().requests == 10
        assert {bytes(req.body) for req in server.requests} == {b"x"}


async def test_body_framings() -> None:
    async def handler(request: Request) -> Response:
        if request.path == "/chunked":

            async def parts() -> AsyncIterator[bytes]:
                for i in range(5):
                    yield f"part{i};".encode()

            return Response(body=parts())
        if request.path == "/empty":
            return Response(status=204)
        if request.path == "/early-hints":
            return Response(body=b"after 1xx", informational=[100, 103])
        return Response(body=b"x" * 100_000)

    async with open_http_server(handler) as server, Pool(timeouts=FAST) as pool:
        r = await pool.request("GET", server.base_url + "/chunked")
        assert r.content == b"part0;part1;part2;part3;part4;"
        r = await pool.request("GET", server.base_url + "/empty")
        assert (r.status, r.content) == (204, b"")
        r = await pool.request("GET", server.base_url + "/early-hints")
        assert (r.status, r.content) == (200, b"after 1xx")
        async with pool.stream("GET", server.base_url + "/big") as resp:
            assert resp.headers["content-length"] == "100000"
            pieces = [chunk async for chunk in resp.iter_bytes()]
        assert b"".join(pieces) == b"x" * 100_000
        assert server.statistics().connections_opened == 1


async def test_pool_limit_makes_the_next_request_wait_then_pool_timeout(
    autojump_clock: trio.testing.MockClock,
) -> None:
    gate = trio.Event()

    async def handler(request: Request) -> Response:
        await gate.wait()
        return Response(body=b"done")

    limits = PoolLimits(max_connections=2)
    async with open_http_server(handler) as server, Pool(limits=limits, timeouts=FAST) as pool:
        async with trio.open_nursery() as nursery:
            for _ in range(3):
                nursery.start_soon(pool.request, "GET", server.base_url + "/")
            await trio.testing.wait_all_tasks_blocked()  # two at the server, one queued
            stats = pool.statistics()
            assert (stats.borrowed, stats.waiting) == (2, 1)
            # a request with a short pool timeout gives up in time, naming the phase
            start = trio.current_time()
            with pytest.raises(PoolTimeout) as info:
                await pool.request(
                    "GET", server.base_url + "/", timeouts=Timeouts(pool=0.2, read=5)
                )
            assert info.value.phase == "pool"
            assert trio.current_time() - start == pytest.approx(0.2)
            gate.set()
        assert pool.statistics().borrowed == 0
        assert server.statistics().connections_opened == 2


async def test_read_timeout_fires_against_a_stalling_server(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def handler(request: Request) -> Response:
        raise Stall

    async with open_http_server(handler) as server, Pool() as pool:
        start = trio.current_time()
        with pytest.raises(ReadTimeout) as info:
            await pool.request("GET", server.base_url + "/", timeouts=Timeouts(read=0.2))
        assert trio.current_time() - start == pytest.approx(0.2)
        assert info.value.phase == "read"
        assert "read" in str(info.value)
        assert pool.statistics().borrowed == 0
        assert pool.statistics().open == 0


async def test_read_timeout_is_inactivity_not_total(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def handler(request: Request) -> Response:
        return Response(body=b"x" * 12, trickle=0.05)  # 0.6 s in all, 50 ms per byte

    async with open_http_server(handler) as server, Pool() as pool:
        start = trio.current_time()
        r = await pool.request("GET", server.base_url + "/", timeouts=Timeouts(read=0.3))
        assert r.content == b"x" * 12
        assert trio.current_time() - start == pytest.approx(0.6)
        start = trio.current_time()
        with pytest.raises(TotalTimeout) as info:
            await pool.request("GET", server.base_url + "/", timeouts=Timeouts(read=0.3, total=0.3))
        assert info.value.phase == "total"
        assert trio.current_time() - start == pytest.approx(0.3)


async def test_read_timeout_mid_body(autojump_clock: trio.testing.MockClock) -> None:
    async def handler(request: Request) -> Response:
        return Response(body=b"partial", stall_after_head=True)

    async with open_http_server(handler) as server, Pool() as pool:
        async with pool.stream("GET", server.base_url + "/", timeouts=Timeouts(read=0.2)) as r:
            assert r.status == 200
            start = trio.current_time()
            with pytest.raises(ReadTimeout):
                await r.read()
            assert trio.current_time() - start == pytest.approx(0.2)
        assert pool.statistics().open == 0


async def test_write_timeout_fires_when_the_server_does_not_read(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # A raw listener that accepts and never reads: the send buffers fill up.
    listener = trio.socket.socket()
    await listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]
    accepted = []
    try:
        async with trio.open_nursery() as nursery:

            async def accept_forever() -> None:
                while True:
                    sock, _ = await listener.accept()
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                    accepted.append(sock)

            nursery.start_soon(accept_forever)
            async with Pool() as pool:
                start = trio.current_time()
                with pytest.raises(WriteTimeout) as info:
                    await pool.request(
                        "POST",
                        f"http://127.0.0.1:{port}/",
                        body=b"x" * (64 * 1024 * 1024),
                        timeouts=Timeouts(write=0.3),
                    )
                assert trio.current_time() - start == pytest.approx(0.3)
                assert info.value.phase == "write"
                assert pool.statistics().open == 0
            nursery.cancel_scope.cancel()
    finally:
        for s in accepted:
            s.close()
        listener.close()


async def test_connect_timeout_covers_the_tls_handshake(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # A TCP server that accepts but never answers the TLS ClientHello.
    async def silent(stream: trio.SocketStream) -> None:
        await trio.sleep_forever()

    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(partial(trio.serve_tcp, silent, 0, host="127.0.0.1"))
        port = listeners[0].socket.getsockname()[1]
        with pytest.warns(InsecureRequestWarning):
            pool = Pool(verify=False)
        async with pool:
            start = trio.current_time()
            with pytest.raises(ConnectTimeout) as info:
                await pool.request(
                    "GET", f"https://127.0.0.1:{port}/", timeouts=Timeouts(connect=0.25)
                )
            assert info.value.phase == "connect"
            assert trio.current_time() - start == pytest.approx(0.25)
            assert pool.statistics().open == 0
        nursery.cancel_scope.cancel()


async def test_server_closing_mid_body_is_a_read_error() -> None:
    async def handler(request: Request) -> Response:
        async def parts() -> AsyncIterator[bytes]:
            yield b"first"
            raise CloseWithoutResponse

        return Response(body=parts())

    async with open_http_server(handler) as server, Pool(timeouts=FAST) as pool:
        with pytest.raises(ReadError):
            await pool.request("GET", server.base_url + "/")
        assert pool.statistics().open == 0


async def test_oversized_response_head_is_a_protocol_error() -> None:
    async def handler(request: Request) -> Response:
        return Response(headers=[("x-big", "a" * 20_000)] * 5)

    async with (
        open_http_server(handler) as server,
        Pool(limits=PoolLimits(max_response_head=16 * 1024), timeouts=FAST) as pool,
    ):
        with pytest.raises(RemoteProtocolError):
            await pool.request("GET", server.base_url + "/")
        assert pool.statistics().open == 0


async def test_using_a_closed_pool_is_an_error() -> None:
    async with open_http_server() as server:
        pool = Pool()
        await pool.request("GET", server.base_url + "/")
        await pool.aclose()
        await pool.aclose()  # idempotent
        assert pool.statistics().open == 0
        with pytest.raises(RuntimeError, match="closed"):
            await pool.request("GET", server.base_url + "/")


STORM_SEEDS = [1234, 2024, 77]
"""Each seed is one storm; a failure names its seed, and rerunning it replays it."""


class _Storm:
    """200 requests over 20 connections, each cancelled at a time drawn from a seed.

    Everything happens in virtual time, at instants drawn so that no cancel falls on
    a server event: request ``i`` starts at ``i`` tenths of a millisecond; the server
    waits a whole number of milliseconds before its head, then sends a body of 20
    pieces, a millisecond apart, starting a millisecond after the head; the cancel
    comes a whole number of milliseconds plus 0.05 after the start. So each request
    is cancelled at the same point of its exchange every time the seed runs: queued
    for a lease, sent and waiting for the head, after the head, mid-body, or not at
    all (``stages``).
    """

    def __init__(self, seed: int) -> None:
        rng = random.Random(seed)
        self.plan = [
            ("/stream" if i % 2 else "/", rng.randint(0, 30), rng.randint(0, 45) + 0.05)
            for i in range(200)
        ]
        self.arrived: set[int] = set()
        self.reached: list[tuple[str, int]] = [("", 0)] * len(self.plan)

    async def handler(self, request: Request) -> Response:
        query = dict(part.split("=") for part in request.query.split("&"))
        self.arrived.add(int(query["i"]))
        await trio.sleep(int(query["d"]) / 1000)
        if request.path != "/stream":
            return Response(body=b"y" * 2000)

        async def parts() -> AsyncIterator[bytes]:
            for _ in range(20):
                await trio.sleep(0.001)
                yield b"x" * 100

        return Response(body=parts())

    async def run(self, server_url: str, pool: Pool) -> list[tuple[str, int]]:
        async def one(i: int) -> None:
            path, delay_ms, cancel_ms = self.plan[i]
            await trio.sleep(i * 1e-4)
            with trio.move_on_after(cancel_ms / 1000):
                async with pool.stream("GET", f"{server_url}{path}?i={i}&d={delay_ms}") as r:
                    self.reached[i] = ("head", 0)
                    pieces = 0
                    async for _ in r.iter_bytes():
                        pieces += 1
                        self.reached[i] = ("body", pieces)
                    self.reached[i] = ("done", pieces)
            if self.reached[i][0] == "":
                self.reached[i] = ("sent" if i in self.arrived else "queued", 0)

        with trio.fail_after(30):
            async with trio.open_nursery() as nursery:
                for i in range(len(self.plan)):
                    nursery.start_soon(one, i)
        return self.reached


@pytest.mark.parametrize("seed", STORM_SEEDS)
async def test_cancel_storm_leaves_nothing_borrowed_and_no_connection_half_used(
    seed: int, autojump_clock: trio.testing.MockClock
) -> None:
    storm = _Storm(seed)
    async with (
        open_http_server(storm.handler) as server,
        Pool(limits=PoolLimits(max_connections=20), timeouts=FAST) as pool,
    ):
        reached = await storm.run(server.base_url, pool)
        stats = pool.statistics()
        assert stats.borrowed == 0
        assert stats.waiting == 0
        assert stats.open == stats.idle
        # every connection the client abandoned mid-exchange is closed on the server
        # side too: what is left open there is exactly the client's idle pool
        await server.wait_connections_closed(expected_open=stats.idle)
        assert server.statistics().connections_active == 0
        r = await pool.request("GET", server.base_url + "/?i=-1&d=0")
        assert r.status == 200
    # The storm cancelled exchanges at every stage (and let some finish).
    stages = {stage for stage, _ in reached}
    assert stages == {"queued", "sent", "head", "body", "done"}, reached


async def test_a_cancel_storm_replays_from_its_seed(autojump_clock: trio.testing.MockClock) -> None:
    runs = []
    for _ in range(2):
        storm = _Storm(STORM_SEEDS[0])
        async with (
            open_http_server(storm.handler) as server,
            Pool(limits=PoolLimits(max_connections=20), timeouts=FAST) as pool,
        ):
            runs.append(await storm.run(server.base_url, pool))
    assert runs[0] == runs[1]


async def test_cancelled_while_waiting_for_the_pool_takes_no_token(
    autojump_clock: trio.testing.MockClock,
) -> None:
    gate = trio.Event()

    async def handler(request: Request) -> Response:
        await gate.wait()
        return Response(body=b"ok")

    async with (
        open_http_server(handler) as server,
        Pool(limits=PoolLimits(max_connections=1), timeouts=FAST) as pool,
    ):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(pool.request, "GET", server.base_url + "/")
            await trio.testing.wait_all_tasks_blocked()
            assert pool.statistics().borrowed == 1
            with trio.move_on_after(0.1) as scope:
                await pool.request("GET", server.base_url + "/")
            assert scope.cancelled_caught
            assert trio.current_time() == pytest.approx(0.1)  # no time passed before it
            assert pool.statistics().waiting == 0
            gate.set()
        assert pool.statistics().borrowed == 0


# -- the idle reaper, through the public Client --------------------------------------


async def test_an_idle_connection_is_closed_at_its_expiry_without_another_call(
    autojump_clock: trio.abc.Clock,
) -> None:
    limits = PoolLimits(idle_expiry=30)
    async with (
        open_mock_server() as server,
        trio_openai.Client(api_key="sk-test", base_url=server.base_url, limits=limits) as client,
    ):
        await client.models.list()
        started = trio.current_time()
        await trio.sleep(29.5)
        stats = client.pool.statistics()
        assert (stats.open, stats.idle) == (1, 1)
        assert server.http.statistics().connections_open == 1
        await trio.sleep(1)  # past the expiry: nothing else happens in the application
        stats = client.pool.statistics()
        assert (stats.open, stats.idle, stats.stale_discarded) == (0, 0, 1)
        assert server.http.statistics().connections_open == 0  # the server saw the close
        assert trio.current_time() - started == 30.5
        # the next call opens a new connection and is reaped in turn
        await client.models.list()
        assert client.pool.statistics().open == 1
        await trio.sleep(31)
        assert client.pool.statistics().open == 0
        assert server.http.statistics().connections_opened == 2


async def test_the_reaper_follows_reuse_and_runs_only_inside_the_block(
    autojump_clock: trio.abc.Clock,
) -> None:
    limits = PoolLimits(idle_expiry=10)
    task = trio.lowlevel.current_task()
    async with open_mock_server() as server:
        before = len(task.child_nurseries)
        async with trio_openai.Client(
            api_key="sk-test", base_url=server.base_url, limits=limits
        ) as client:
            # the client's nursery holds the reaper
            assert len(task.child_nurseries) == before + 1
            for _ in range(5):  # reused every 6 s: never idle for 10 s
                await client.models.list()
                await trio.sleep(6)
            assert client.pool.statistics().open == 1
            assert server.http.statistics().connections_opened == 1
            await trio.sleep(3.9)  # idle for 9.9 s
            assert client.pool.statistics().open == 1
            await trio.sleep(0.2)
            assert client.pool.statistics().open == 0
        # nothing outlives the block
        assert len(task.child_nurseries) == before


async def test_the_blocks_exceptions_and_cancellation_pass_the_reapers_nursery_unwrapped(
    autojump_clock: trio.abc.Clock,
) -> None:
    async with open_mock_server() as server:
        client = trio_openai.Client(api_key="sk-test", base_url=server.base_url)

        async def fail_inside() -> None:
            async with client:
                await client.models.list()
                raise KeyError("mine")

        with pytest.raises(KeyError, match="mine"):  # itself, not an exception group
            await fail_inside()
        assert client.pool.closed
        with trio.move_on_after(5) as scope:
            async with trio_openai.Client(api_key="sk-test", base_url=server.base_url) as client:
                await client.models.list()
                await trio.sleep_forever()
        assert scope.cancelled_caught
        assert client.pool.statistics().open == 0


async def test_closing_the_pool_ends_its_reaper_at_once(autojump_clock: trio.abc.Clock) -> None:
    pool = Pool(limits=PoolLimits(idle_expiry=1000))
    async with trio.open_nursery() as nursery:
        nursery.start_soon(pool.run_reaper)
        await trio.sleep(1)
        with pytest.raises(RuntimeError, match="already running"):
            await pool.run_reaper()
        await pool.aclose()
    assert trio.current_time() == 1
