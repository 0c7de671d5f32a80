"""The connection pool through its public API, on real loopback sockets."""

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
async def test_server_closing_after_every_3_requests_causes_no_error(announce: bool) -> None:
    async with (
        open_http_server(max_requests_per_connection=3, announce_close=announce) as server,
        Pool(timeouts=FAST) as pool,
    ):
        with trio.fail_after(10):
            for _ in range(20):
                r = await pool.request("GET", server.base_url + "/")
                assert r.status == 200
                # give the server's FIN time to arrive, as between real requests
                await trio.sleep(0.005)
        assert server.statistics().connections_opened == 7
        assert server.statistics().requests == 20


async def test_server_closing_idle_connections_causes_no_error() -> None:
    async with (
        open_http_server(close_idle_after=0.05) as server,
        Pool(timeouts=FAST) as pool,
    ):
        with trio.fail_after(10):
            for _ in range(4):
                r = await pool.request("GET", server.base_url + "/")
                assert r.status == 200
                await trio.sleep(0.15)  # the server closes the idle connection meanwhile
        assert server.statistics().connections_opened == 4
        assert pool.statistics().stale_discarded >= 3


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


async def test_pool_limit_makes_the_next_request_wait_then_pool_timeout() -> None:
    gate = trio.Event()

    async def handler(request: Request) -> Response:
        await gate.wait()
        return Response(body=b"done")

    limits = PoolLimits(max_connections=2)
    async with open_http_server(handler) as server, Pool(limits=limits, timeouts=FAST) as pool:
        async with trio.open_nursery() as nursery:
            for _ in range(3):
                nursery.start_soon(pool.request, "GET", server.base_url + "/")
            with trio.fail_after(5):
                while pool.statistics().waiting < 1:
                    await trio.sleep(0.01)
            stats = pool.statistics()
            assert (stats.borrowed, stats.waiting) == (2, 1)
            # a request with a short pool timeout gives up in time, naming the phase
            start = trio.current_time()
            with pytest.raises(PoolTimeout) as info:
                await pool.request(
                    "GET", server.base_url + "/", timeouts=Timeouts(pool=0.2, read=5)
                )
            assert info.value.phase == "pool"
            assert 0.15 <= trio.current_time() - start < 2
            gate.set()
        assert pool.statistics().borrowed == 0
        assert server.statistics().connections_opened == 2


async def test_read_timeout_fires_against_a_stalling_server() -> None:
    async def handler(request: Request) -> Response:
        raise Stall

    async with open_http_server(handler) as server, Pool() as pool:
        with pytest.raises(ReadTimeout) as info:
            await pool.request("GET", server.base_url + "/", timeouts=Timeouts(read=0.2))
        assert info.value.phase == "read"
        assert "read" in str(info.value)
        assert pool.statistics().borrowed == 0
        assert pool.statistics().open == 0


async def test_read_timeout_is_inactivity_not_total() -> None:
    async def handler(request: Request) -> Response:
        return Response(body=b"x" * 12, trickle=0.05)  # 0.6 s in all, 50 ms per byte

    async with open_http_server(handler) as server, Pool() as pool:
        r = await pool.request("GET", server.base_url + "/", timeouts=Timeouts(read=0.3))
        assert r.content == b"x" * 12
        with pytest.raises(TotalTimeout) as info:
            await pool.request("GET", server.base_url + "/", timeouts=Timeouts(read=0.3, total=0.3))
        assert info.value.phase == "total"


async def test_read_timeout_mid_body() -> None:
    async def handler(request: Request) -> Response:
        return Response(body=b"partial", stall_after_head=True)

    async with open_http_server(handler) as server, Pool() as pool:
        async with pool.stream("GET", server.base_url + "/", timeouts=Timeouts(read=0.2)) as r:
            assert r.status == 200
            with pytest.raises(ReadTimeout):
                await r.read()
        assert pool.statistics().open == 0


async def test_write_timeout_fires_when_the_server_does_not_read() -> None:
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
                with pytest.raises(WriteTimeout) as info:
                    await pool.request(
                        "POST",
                        f"http://127.0.0.1:{port}/",
                        body=b"x" * (64 * 1024 * 1024),
                        timeouts=Timeouts(write=0.3),
                    )
                assert info.value.phase == "write"
                assert pool.statistics().open == 0
            nursery.cancel_scope.cancel()
    finally:
        for s in accepted:
            s.close()
        listener.close()


async def test_connect_timeout_covers_the_tls_handshake() -> None:
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
            assert trio.current_time() - start < 3
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


async def test_cancel_storm_leaves_nothing_borrowed_and_no_connection_half_used() -> None:
    rng = random.Random(1234)

    async def handler(request: Request) -> Response:
        delay = int(request.query.split("=")[1]) / 1000
        await trio.sleep(delay)
        if request.path == "/stream":

            async def parts() -> AsyncIterator[bytes]:
                for _ in range(20):
                    yield b"x" * 100
                    await trio.sleep(delay / 10)

            return Response(body=parts())
        return Response(body=b"y" * 2000)

    async with (
        open_http_server(handler) as server,
        Pool(limits=PoolLimits(max_connections=20), timeouts=FAST) as pool,
    ):

        async def one(i: int) -> None:
            path = "/stream" if i % 2 else "/"
            delay_ms = rng.randint(0, 30)
            cancel_after = rng.uniform(0, 0.04)
            with trio.move_on_after(cancel_after):
                async with pool.stream("GET", f"{server.base_url}{path}?d={delay_ms}") as r:
                    async for _ in r.iter_bytes():
                        pass

        with trio.fail_after(30):
            async with trio.open_nursery() as nursery:
                for i in range(200):
                    nursery.start_soon(one, i)
        stats = pool.statistics()
        assert stats.borrowed == 0
        assert stats.waiting == 0
        assert stats.open == stats.idle
        # every connection the client abandoned mid-exchange is closed on the server
        # side too: what is left open there is exactly the client's idle pool
        with trio.fail_after(5):
            while server.statistics().connections_open > stats.idle:
                await trio.sleep(0.01)
        assert server.statistics().connections_active == 0
        r = await pool.request("GET", server.base_url + "/?d=0")
        assert r.status == 200


async def test_cancelled_while_waiting_for_the_pool_takes_no_token() -> None:
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
            with trio.fail_after(5):
                while pool.statistics().borrowed < 1:
                    await trio.sleep(0.01)
            with trio.move_on_after(0.1) as scope:
                await pool.request("GET", server.base_url + "/")
            assert scope.cancelled_caught
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
