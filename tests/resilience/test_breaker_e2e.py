"""The circuit breaker through the public ``Client``, against real loopback sockets.

What counts as a failure end to end: a refused connection (a closed 127.0.0.1 port), a
connect timeout, a 5xx, and a stream cut after its head; a cancelled half-open probe
gives its slot back. The default policy is used wherever the test is about the
defaults (a dead origin opens it at its 20th call: 6 requests of 3 attempts, then the
7th request's second attempt). Time is trio's autojump clock: backoffs and the open
duration are virtual, so they are asserted exactly.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

import pytest
import trio
import trio.testing

import trio_openai
from trio_openai import BreakerPolicy, CircuitState, Client, Timeouts
from trio_openai.testing import Fault, Schedule, open_mock_server

if TYPE_CHECKING:
    from trio_openai._resilience._breaker import BreakerStatistics
    from trio_openai._streaming import Stream

KEY = "sk-test-breaker"


async def closed_port() -> int:
    sock = trio.socket.socket()
    await sock.bind(("127.0.0.1", 0))
    port: int = sock.getsockname()[1]
    sock.close()  # nothing listens there now: connections are refused
    return port


def only_breaker(client: Client) -> BreakerStatistics:
    (stats,) = client.metrics.breakers.values()
    return stats


async def read_to_the_end(stream: Stream[Any]) -> None:
    async with stream:
        async for _ in stream:
            pass


# --------------------------------------------------------------------------- transport


async def test_an_unreachable_port_opens_the_default_breaker_at_the_20th_call(
    autojump_clock: trio.testing.MockClock,
) -> None:
    port = await closed_port()
    async with Client(api_key=KEY, base_url=f"http://127.0.0.1:{port}/v1") as client:
        for _ in range(6):  # 3 refused attempts each: 18 failures
            with pytest.raises(trio_openai.APIConnectionError) as info:
                await client.models.list()
            assert info.value.phase == "connect"
        # Attempts 19 and 20 are refused, the 20th opens it: the 3rd is not sent.
        with pytest.raises(trio_openai.CircuitOpenError) as opened:
            await client.models.list()
        # It opened at the 20th attempt; the retry slept its backoff (1 s less up to
        # 25% jitter) before finding it open.
        assert 30.0 - 1.0 <= opened.value.retry_in <= 30.0 - 0.75
        stats = only_breaker(client)
        assert (stats.state, stats.failures, stats.times_opened) == (CircuitState.OPEN, 20, 1)
        # Later calls fail fast: no attempt, no backoff.
        start = trio.current_time()
        with pytest.raises(trio_openai.CircuitOpenError):
            await client.models.list()
        assert trio.current_time() == start
        assert only_breaker(client).failures == 20


async def test_a_connect_timeout_counts_as_a_failure(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # A TCP server that accepts but never answers the TLS ClientHello: every attempt
    # times out in its connect phase (which covers the TLS handshake).
    async def silent(stream: trio.SocketStream) -> None:
        await trio.sleep_forever()

    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(partial(trio.serve_tcp, silent, 0, host="127.0.0.1"))
        port = listeners[0].socket.getsockname()[1]
        policy = BreakerPolicy(minimum_calls=4, window_size=4)
        async with Client(
            api_key=KEY,
            base_url=f"https://127.0.0.1:{port}/v1",
            timeout=Timeouts(connect=0.25),
            breaker=policy,
            max_retries=0,
        ) as client:
            for _ in range(4):
                with pytest.raises(trio_openai.APITimeoutError) as info:
                    await client.models.list()
                assert info.value.phase == "connect"
            assert trio.current_time() == pytest.approx(1.0)  # 4 timeouts of 0.25 s
            with pytest.raises(trio_openai.CircuitOpenError):
                await client.models.list()
            stats = only_breaker(client)
            assert (stats.state, stats.failures) == (CircuitState.OPEN, 4)
        nursery.cancel_scope.cancel()


# --------------------------------------------------------------------------- probes


async def test_a_cancelled_half_open_probe_gives_its_slot_back(
    autojump_clock: trio.testing.MockClock,
) -> None:
    policy = BreakerPolicy(
        failure_rate=1.0, minimum_calls=2, window_size=2, open_for=10.0, half_open_probes=1
    )
    async with open_mock_server() as server:
        server.add_fault(Fault.status(503), path="/v1/models", when=Schedule.first(2))
        server.add_fault(Fault.stall(), path="/v1/models", when=Schedule.first(1))
        async with Client(
            api_key=server.api_key, base_url=server.base_url, breaker=policy, max_retries=0
        ) as client:
            for _ in range(2):
                with pytest.raises(trio_openai.InternalServerError):
                    await client.models.list()
            assert only_breaker(client).state is CircuitState.OPEN
            await trio.sleep(10.0)
            with trio.move_on_after(1.0) as scope:
                await client.models.list()  # the probe; the server never answers
            assert scope.cancelled_caught
            stats = only_breaker(client)
            assert (stats.state, stats.probes_in_flight) == (CircuitState.HALF_OPEN, 0)
            # Well before the probe would be presumed lost (10 s), the next call goes
            # through as a new probe, and its success closes the circuit.
            page = await client.models.list()
            assert page.data
            assert only_breaker(client).state is CircuitState.CLOSED
            assert trio.current_time() == pytest.approx(11.0)


async def test_a_probe_that_leaves_the_rate_limiter_early_gives_its_slot_back(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # The probe is admitted by the breaker, then waits in the rate limiter (a shared
    # 429 back-off): refused there at once (its deadline is too near), or cancelled
    # while waiting. Either way its probe slot is free for the next call.
    policy = BreakerPolicy(
        failure_rate=1.0, minimum_calls=2, window_size=2, open_for=30.0, half_open_probes=1
    )
    async with open_mock_server() as server:
        server.add_fault(Fault.status(503), path="/v1/models", when=Schedule.first(2))
        async with Client(
            api_key=server.api_key, base_url=server.base_url, breaker=policy, max_retries=0
        ) as client:
            for _ in range(2):
                with pytest.raises(trio_openai.InternalServerError):
                    await client.models.list()
            await trio.sleep(30.0)
            limiter = client.rate_limiter
            assert limiter is not None
            limiter.penalize(5.0)
            with trio.fail_after(1.0), pytest.raises(trio_openai.RateLimitError):
                await client.models.list()  # a probe, refused by the limiter

            async def probe() -> None:
                await client.models.list()

            async with trio.open_nursery() as nursery:  # no deadline: the wait is accepted
                nursery.start_soon(probe)
                await trio.sleep(2.0)
                assert only_breaker(client).probes_in_flight == 1
                nursery.cancel_scope.cancel()  # ...and cancelled while it waits
            stats = only_breaker(client)
            assert (stats.state, stats.probes_in_flight) == (CircuitState.HALF_OPEN, 0)
            await trio.sleep(3.0)  # the back-off is over
            await client.models.list()  # the next probe goes, and closes the circuit
            assert only_breaker(client).state is CircuitState.CLOSED
            assert len(server.requests) == 3


# --------------------------------------------------------------------------- streams


async def test_streams_cut_after_their_head_open_the_breaker(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # Each stream's head is a 200 (a success when it arrives); its body is then cut
    # after the first event. Twenty such calls are a dead origin.
    async with open_mock_server() as server:
        server.add_fault(Fault.drop_mid_stream(1), path="/v1/chat/completions")
        async with Client(api_key=server.api_key, base_url=server.base_url) as client:
            for i in range(20):
                stream = await client.chat.completions.create(
                    model="gpt-4o-mini",
                    messages=[{"role": "user", "content": "hi"}],
                    stream=True,
                )
                with pytest.raises(trio_openai.APIConnectionError):
                    await read_to_the_end(stream)
                stats = only_breaker(client)
                if i < 19:
                    assert (stats.window_calls, stats.window_failures) == (i + 1, i + 1)
            stats = only_breaker(client)
            assert stats.state is CircuitState.OPEN
            assert (stats.successes, stats.failures) == (20, 20)  # heads, then cuts
            with pytest.raises(trio_openai.CircuitOpenError):
                await client.chat.completions.create(
                    model="gpt-4o-mini",
                    messages=[{"role": "user", "content": "hi"}],
                    stream=True,
                )


async def test_a_stream_read_to_its_end_is_a_success(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with (
        open_mock_server() as server,
        Client(api_key=server.api_key, base_url=server.base_url) as client,
    ):
        for _ in range(3):
            await read_to_the_end(
                await client.chat.completions.create(
                    model="gpt-4o-mini",
                    messages=[{"role": "user", "content": "hi"}],
                    stream=True,
                )
            )
            # leaving early by choice is not a failure either
            async with await client.chat.completions.create(
                model="gpt-4o-mini",
                messages=[{"role": "user", "content": "hi"}],
                stream=True,
            ) as stream:
                async for _ in stream:
                    break
        stats = only_breaker(client)
        assert (stats.window_calls, stats.window_failures, stats.failures) == (6, 0, 0)
