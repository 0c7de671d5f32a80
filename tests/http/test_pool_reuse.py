"""The pool's choices in detail: which connection is reused, what is sent again, what
is kept idle, how a total deadline bounds each phase, how sockets are tuned.

Each test pins a behaviour that a one-line change to ``_http/_pool.py`` broke without
any other test noticing (found with ``scripts/mutation.py``). Time is virtual
(``autojump_clock``); the servers are real loopback sockets.
"""

from __future__ import annotations

import json
import socket
from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
import trio
import trio.socket
import trio.testing

from trio_openai._config import PoolLimits, Timeouts
from trio_openai._http import (
    ConnectError,
    InsecureRequestWarning,
    Pool,
    ReadTimeout,
    TotalTimeout,
    TransportError,
)
from trio_openai.testing import (
    CloseWithoutResponse,
    HTTPServer,
    Request,
    Response,
    Stall,
    echo_handler,
    open_http_server,
)

FAST = Timeouts(connect=5, read=5, write=5, pool=5)


async def _two_idle_connections(pool: Pool, server: HTTPServer, gate: trio.Event) -> None:
    """Two requests at once (their handler waits for ``gate``): two idle connections."""
    async with trio.open_nursery() as nursery:
        for _ in range(2):
            nursery.start_soon(pool.request, "GET", server.base_url + "/?pair")
        await trio.testing.wait_all_tasks_blocked()
        gate.set()
    assert pool.statistics().idle == 2


def _pairing_handler(
    gate: trio.Event, then: Callable[[Request, int], Response]
) -> Callable[[Request], Any]:
    """Holds ``?pair`` requests at ``gate``; answers the others with ``then(request, n)``,
    ``n`` being the request's number on its connection (from 1)."""
    per_connection: Counter[int] = Counter()

    async def handler(request: Request) -> Response:
        per_connection[request.connection_id] += 1
        if request.query == "pair":
            await gate.wait()
            return Response(body=b"paired")
        return then(request, per_connection[request.connection_id])

    return handler


async def test_a_stale_idle_connection_is_passed_over_for_the_next_idle_one(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # Two idle connections; the server then closes the most recently used one (after
    # its second request, without saying so). The next request discards it and reuses
    # the other one: no new connection.
    gate = trio.Event()
    async with (
        open_http_server(
            _pairing_handler(gate, lambda r, n: Response(body=b"ok")),
            max_requests_per_connection=2,
            announce_close=False,
        ) as server,
        Pool(timeouts=FAST) as pool,
    ):
        await _two_idle_connections(pool, server, gate)
        await pool.request("GET", server.base_url + "/")  # the top one's 2nd request
        await server.wait_connections_closed(expected_open=1)
        assert pool.statistics().idle == 2  # the client has not noticed yet
        await pool.request("GET", server.base_url + "/")
        stats = pool.statistics()
        assert (stats.stale_discarded, stats.fresh_retries) == (1, 0)
        assert server.statistics().connections_opened == 2


async def test_a_reused_connection_failing_unanswered_is_retried_on_a_new_one(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # Each connection dies silently on its second request. The retry of a failed reuse
    # goes to a *new* connection, not to the other idle one (which would die too).
    def then(request: Request, n: int) -> Response:
        if n == 2:
            raise CloseWithoutResponse
        return Response(body=b"ok")

    gate = trio.Event()
    async with (
        open_http_server(_pairing_handler(gate, then)) as server,
        Pool(timeouts=FAST) as pool,
    ):
        await _two_idle_connections(pool, server, gate)
        response = await pool.request("GET", server.base_url + "/")
        assert response.content == b"ok"
        stats = pool.statistics()
        assert stats.fresh_retries == 1
        assert stats.connections_reused == 1
        assert server.statistics().connections_opened == 3
        assert server.statistics().requests == 4  # two pairs, the failed one, the retry
        # Again: the new connection (on top) dies on its second request in turn.
        response = await pool.request("GET", server.base_url + "/")
        assert response.content == b"ok"
        assert pool.statistics().fresh_retries == 2
        assert server.statistics().connections_opened == 4


async def test_the_pool_default_timeouts_apply_to_calls_that_give_none(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def handler(request: Request) -> Response:
        raise Stall

    async with open_http_server(handler) as server, Pool(timeouts=Timeouts(read=0.2)) as pool:
        start = trio.current_time()
        with pytest.raises(ReadTimeout) as info:
            await pool.request("GET", server.base_url + "/")
        assert trio.current_time() - start == pytest.approx(0.2)
        assert info.value.limit == 0.2


async def test_a_new_connection_failing_unanswered_is_not_sent_again(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def handler(request: Request) -> Response:
        raise CloseWithoutResponse

    async with open_http_server(handler) as server, Pool(timeouts=FAST) as pool:
        with pytest.raises(TransportError) as info:
            await pool.request("GET", server.base_url + "/")
        assert not info.value.response_started
        stats = pool.statistics()
        assert (stats.fresh_retries, stats.open, stats.borrowed) == (0, 0, 0)
        assert server.statistics().requests == 1


async def test_a_refused_connection_is_not_tried_again() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    async with Pool(timeouts=FAST) as pool:
        with pytest.raises(ConnectError):
            await pool.request("GET", f"http://127.0.0.1:{port}/")
        stats = pool.statistics()
        assert (stats.fresh_retries, stats.connections_created, stats.open) == (0, 0, 0)


async def test_at_most_max_idle_per_host_connections_are_kept(
    autojump_clock: trio.testing.MockClock,
) -> None:
    gate = trio.Event()

    async def handler(request: Request) -> Response:
        await gate.wait()
        return Response(body=b"ok")

    limits = PoolLimits(max_connections=10, max_idle_per_host=2)
    async with open_http_server(handler) as server, Pool(limits=limits, timeouts=FAST) as pool:
        async with trio.open_nursery() as nursery:
            for _ in range(3):
                nursery.start_soon(pool.request, "GET", server.base_url + "/")
            await trio.testing.wait_all_tasks_blocked()
            gate.set()
        stats = pool.statistics()
        assert (stats.open, stats.idle, stats.max_connections) == (2, 2, 10)
        await server.wait_connections_closed(expected_open=2)
        assert server.statistics().connections_open == 2


async def test_closing_the_pool_leaves_nothing_idle() -> None:
    async with open_http_server() as server:
        pool = Pool(timeouts=FAST)
        await pool.request("GET", server.base_url + "/")
        assert pool.statistics().idle == 1
        await pool.aclose()
        stats = pool.statistics()
        assert (stats.open, stats.idle) == (0, 0)
        await server.wait_connections_closed()


async def test_leaving_a_stream_unread_closes_its_connection() -> None:
    async with open_http_server() as server, Pool(timeouts=FAST) as pool:
        async with pool.stream("GET", server.base_url + "/") as response:
            assert response.status == 200
            assert pool.statistics().borrowed == 1
        stats = pool.statistics()
        assert (stats.borrowed, stats.open) == (0, 0)
        await server.wait_connections_closed()


async def test_headers_and_body_reach_the_server_through_both_calls() -> None:
    async with open_http_server(echo_handler) as server, Pool(timeouts=FAST) as pool:
        url = server.base_url + "/echo"
        sent = await pool.request("POST", url, headers={"x-trace": "r1"}, body=b"abc")
        seen = json.loads(sent.content)
        assert (seen["headers"]["x-trace"], seen["body_length"]) == ("r1", 3)
        async with pool.stream("POST", url, headers=[("x-trace", "s1")], body=b"abcd") as r:
            seen = json.loads(await r.read())
        assert (seen["headers"]["x-trace"], seen["body_length"]) == ("s1", 4)


# --------------------------------------------------------------------------------------
# A total deadline bounds every phase


async def test_a_total_shorter_than_the_pool_timeout_ends_the_wait_for_a_lease(
    autojump_clock: trio.testing.MockClock,
) -> None:
    gate = trio.Event()

    async def handler(request: Request) -> Response:
        await gate.wait()
        return Response(body=b"ok")

    limits = PoolLimits(max_connections=1)
    async with (
        open_http_server(handler) as server,
        Pool(limits=limits, timeouts=FAST) as pool,
        trio.open_nursery() as nursery,
    ):
        nursery.start_soon(pool.request, "GET", server.base_url + "/")
        await trio.testing.wait_all_tasks_blocked()
        start = trio.current_time()
        with pytest.raises(TotalTimeout) as info:
            await pool.request("GET", server.base_url + "/", timeouts=Timeouts(pool=5, total=0.25))
        assert trio.current_time() - start == pytest.approx(0.25)
        assert (info.value.phase, info.value.limit) == ("total", 0.25)
        gate.set()


async def test_a_total_shorter_than_the_connect_timeout_ends_the_handshake(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def silent(stream: trio.SocketStream) -> None:
        await trio.sleep_forever()

    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(partial(trio.serve_tcp, silent, 0, host="127.0.0.1"))
        port = listeners[0].socket.getsockname()[1]
        with pytest.warns(InsecureRequestWarning):
            pool = Pool(verify=False)
        async with pool:
            start = trio.current_time()
            with pytest.raises(TotalTimeout) as info:
                await pool.request(
                    "GET", f"https://127.0.0.1:{port}/", timeouts=Timeouts(connect=5, total=0.25)
                )
            assert trio.current_time() - start == pytest.approx(0.25)
            assert (info.value.phase, info.value.limit) == ("total", 0.25)
            assert pool.statistics().open == 0
        nursery.cancel_scope.cancel()


async def test_a_total_timeout_reading_the_response_names_its_limit(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def handler(request: Request) -> Response:
        return Response(body=b"x" * 12, trickle=0.05)

    async with open_http_server(handler) as server, Pool() as pool:
        with pytest.raises(TotalTimeout) as info:
            await pool.request("GET", server.base_url + "/", timeouts=Timeouts(read=1, total=0.3))
        assert info.value.limit == 0.3


# --------------------------------------------------------------------------------------
# Socket options


def _idle_socket(pool: Pool) -> socket.socket:
    """The socket of the pool's one idle connection."""
    (conn,) = [conn for conns in pool._idle.values() for conn in conns]
    return conn._transport.socket


@pytest.mark.parametrize(
    ("keepalive", "expected"),
    [
        (60.0, (1, 60, 15, 4)),  # the default: probes after a minute idle
        (0.5, (1, 1, 1, 4)),  # at least one second each
        (None, (0, None, None, None)),  # off
    ],
)
# An IP address is dialled directly, a host name through trio's open_tcp_stream.
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_tcp_keepalive_is_set_on_every_connection(
    keepalive: float | None,
    expected: tuple[int, int | None, int | None, int | None],
    host: str,
) -> None:
    async with open_http_server() as server:
        limits = PoolLimits(tcp_keepalive=keepalive)
        async with Pool(limits=limits, timeouts=FAST) as pool:
            url = server.base_url.replace("127.0.0.1", host) + "/"
            await pool.request("GET", url)
            sock = _idle_socket(pool)  # the pool keeps the connection idle
            options = [sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) != 0]
            for name in ("TCP_KEEPIDLE", "TCP_KEEPINTVL", "TCP_KEEPCNT"):
                option = getattr(socket, name, None)
                options.append(
                    sock.getsockopt(socket.IPPROTO_TCP, option) if option is not None else None
                )
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    keepalive_on, *tuning = options
    assert int(keepalive_on) == expected[0]
    if expected[0]:
        assert [t for t in tuning if t is not None] == [
            e for e, t in zip(expected[1:], tuning, strict=True) if t is not None
        ]
