"""Retries, circuit breaker and rate limiting through the client, on real sockets.

Every test runs on trio's ``MockClock(autojump_threshold=0)`` (the ``autojump_clock``
fixture): the loopback server answers at once, every wait the client imposes is a
virtual sleep, so waits are asserted exactly (or within the jitter bounds stated) and
the file takes no real time waiting. The handler stamps each request with
``trio.current_time()``, so a wait is measured where the server sees it.
"""

from __future__ import annotations

import email.utils
import itertools
import json
import math
import time
from collections.abc import Callable

import pytest
import trio
import trio.testing

import trio_openai
from trio_openai import BreakerPolicy, Client, RateLimits, RetryPolicy
from trio_openai._resilience._locks import LockOrderError, set_debug
from trio_openai.testing import Request, Response, open_http_server

KEY = "sk-test-resilience"
JSON = [("content-type", "application/json")]
MODEL = b'{"id":"m","object":"model","created":1,"owned_by":"o"}'


def _err(
    status: int, code: str | None = None, extra: list[tuple[str, str]] | None = None
) -> Response:
    body = json.dumps(
        {
            "error": {
                "message": f"status {status}",
                "type": "server_error",
                "param": None,
                "code": code,
            }
        }
    ).encode()
    return Response(status=status, headers=[*JSON, *(extra or [])], body=body)


class Scripted:
    """A handler answering the i-th request with the i-th response (then 200s), and
    stamping every request with the (virtual) time it arrived."""

    def __init__(self, *responses: Callable[[], Response]) -> None:
        self.answers = list(responses)
        self.arrivals: list[float] = []

    async def __call__(self, request: Request) -> Response:
        self.arrivals.append(trio.current_time())
        if self.answers:
            return self.answers.pop(0)()
        return Response(headers=JSON, body=MODEL)

    def gaps(self) -> list[float]:
        return [b - a for a, b in itertools.pairwise(self.arrivals)]


def client_for(server: object, **kwargs: object) -> Client:
    return Client(api_key=KEY, base_url=server.base_url + "/v1", **kwargs)  # type: ignore[attr-defined, arg-type]


# --------------------------------------------------------------------------- retry waits


@pytest.mark.parametrize(
    ("header", "value", "wait"),
    [("retry-after", "1", 1.0), ("retry-after-ms", "300", 0.3), ("retry-after", "2.5", 2.5)],
)
async def test_429_retry_waits_exactly_what_the_server_says(
    header: str, value: str, wait: float, autojump_clock: trio.testing.MockClock
) -> None:
    # The server's figure is the wait: no backoff on top, no jitter.
    handler = Scripted(lambda: _err(429, "rate_limit_exceeded", [(header, value)]))
    async with open_http_server(handler) as server, client_for(server) as client:
        model = await client.models.retrieve("m")
    assert model.id == "m"
    assert handler.gaps() == [wait]
    assert client.metrics.retries_by_reason == {"status_429": 1}


async def test_a_503_with_retry_after_ms_waits_exactly_that(
    autojump_clock: trio.testing.MockClock,
) -> None:
    handler = Scripted(lambda: _err(503, None, [("retry-after-ms", "300")]))
    async with open_http_server(handler) as server, client_for(server) as client:
        await client.models.retrieve("m")
    assert handler.gaps() == [0.3]


async def test_an_http_date_retry_after_waits_until_that_date(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # The date is made when the 429 is sent (not at setup, which may cross a second
    # boundary), five whole seconds after the wall-clock second it is sent in. The
    # client reads it with the wall clock a moment later, so the virtual wait is the
    # date minus that moment: between (date - wall time after) and (date - wall time
    # at sending), a window of the few real milliseconds the exchange takes.
    stamps: dict[str, float] = {}

    def dated() -> Response:
        stamps["sent"] = time.time()
        stamps["date"] = math.floor(stamps["sent"]) + 5
        return _err(
            429, "x", [("retry-after", email.utils.formatdate(stamps["date"], usegmt=True))]
        )

    handler = Scripted(dated)
    async with open_http_server(handler) as server, client_for(server) as client:
        await client.models.retrieve("m")
        after = time.time()
    (waited,) = handler.gaps()
    assert stamps["date"] - after <= waited <= stamps["date"] - stamps["sent"]
    assert 4.0 - (after - stamps["sent"]) < waited <= 5.0


async def test_a_wait_above_the_cap_surfaces_the_429_at_once(
    autojump_clock: trio.testing.MockClock,
) -> None:
    handler = Scripted(lambda: _err(429, "rate_limit_exceeded", [("retry-after", "600")]))
    async with open_http_server(handler) as server, client_for(server) as client:
        with pytest.raises(trio_openai.RateLimitError) as info:
            await client.models.retrieve("m")
        assert trio.current_time() == 0.0
    assert info.value.retry_after == 600
    assert len(server.requests) == 1


async def test_should_retry_false_and_insufficient_quota_are_not_retried(
    autojump_clock: trio.testing.MockClock,
) -> None:
    handler = Scripted(
        lambda: _err(500, None, [("x-should-retry", "false")]),
        lambda: _err(429, "insufficient_quota"),
    )
    async with open_http_server(handler) as server, client_for(server) as client:
        with pytest.raises(trio_openai.InternalServerError):
            await client.models.retrieve("m")
        with pytest.raises(trio_openai.RateLimitError) as info:
            await client.models.retrieve("m")
        assert info.value.is_insufficient_quota
        assert trio.current_time() == 0.0
    assert len(server.requests) == 2


async def test_5xx_backoff_doubles_from_half_a_second_without_jitter(
    autojump_clock: trio.testing.MockClock,
) -> None:
    handler = Scripted(*(lambda: _err(503) for _ in range(5)))
    policy = RetryPolicy(jitter=0.0)
    async with (
        open_http_server(handler) as server,
        client_for(server, breaker=None, retry_policy=policy) as client,
    ):
        with pytest.raises(trio_openai.InternalServerError):
            await client.models.retrieve("m", max_retries=1)
        assert len(server.requests) == 2
        first_call_end = trio.current_time()
        model = await client.models.retrieve("m", max_retries=3)  # 3 more 503s, then 200
        assert model.id == "m"
    assert len(server.requests) == 6
    assert first_call_end == 0.5
    assert handler.gaps() == [0.5, 0.0, 0.5, 1.0, 2.0]
    snap = client.metrics
    assert snap.attempts == snap.requests + snap.retries
    assert snap.retries == 4


async def test_5xx_backoff_with_the_default_jitter_stays_in_its_bounds(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # Default jitter 25%: the n-th backoff lies in [0.75 * base, base], base 0.5 * 2**n.
    handler = Scripted(*(lambda: _err(503) for _ in range(3)))
    async with open_http_server(handler) as server, client_for(server, breaker=None) as client:
        await client.models.retrieve("m", max_retries=3)
    assert len(server.requests) == 4
    for gap, base in zip(handler.gaps(), (0.5, 1.0, 2.0), strict=True):
        assert 0.75 * base <= gap <= base


async def test_one_idempotency_key_per_post_across_attempts(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def handler(request: Request) -> Response:
        if len(server.requests) % 2 == 1:
            return _err(500)
        return Response(
            headers=JSON,
            body=b'{"id":"modr","model":"m","results":[]}',
        )

    async with open_http_server(handler) as server, client_for(server) as client:
        for _ in range(3):
            await client.moderations.create(input="hello")
    keys = [r.header("idempotency-key") for r in server.requests]
    assert len(keys) == 6 and all(keys)
    assert keys[0] == keys[1] and keys[2] == keys[3] and keys[4] == keys[5]
    assert len({keys[0], keys[2], keys[4]}) == 3


# --------------------------------------------------------------------------- breaker


async def test_breaker_opens_fails_fast_half_opens_and_closes(
    autojump_clock: trio.testing.MockClock,
) -> None:
    failing = True

    async def handler(request: Request) -> Response:
        if failing:
            return _err(500)
        return Response(headers=JSON, body=MODEL)

    policy = BreakerPolicy(
        failure_rate=1.0, minimum_calls=3, window_size=3, open_for=0.3, half_open_probes=1
    )
    async with (
        open_http_server(handler) as server,
        client_for(server, breaker=policy, max_retries=0) as client,
    ):
        for _ in range(3):
            with pytest.raises(trio_openai.InternalServerError):
                await client.models.retrieve("m")
        with pytest.raises(trio_openai.CircuitOpenError) as info:
            await client.models.retrieve("m")
        assert info.value.retry_in == 0.3
        assert len(server.requests) == 3  # nothing reached the server while open
        await trio.sleep(0.3)
        # half-open: a bad probe reopens, for twice as long
        with pytest.raises(trio_openai.InternalServerError):
            await client.models.retrieve("m")
        with pytest.raises(trio_openai.CircuitOpenError) as info:
            await client.models.retrieve("m")
        assert info.value.retry_in == pytest.approx(0.6)
        await trio.sleep(0.6)
        failing = False
        assert (await client.models.retrieve("m")).id == "m"  # good probe closes
        for _ in range(3):
            await client.models.retrieve("m")
        (stats,) = client.metrics.breakers.values()
        assert stats.state is trio_openai.CircuitState.CLOSED
        assert (stats.window_calls, stats.window_failures) == (3, 0)
        assert stats.times_opened == 2


async def test_4xx_and_429_never_open_the_breaker(autojump_clock: trio.testing.MockClock) -> None:
    async def handler(request: Request) -> Response:
        return _err(429 if len(server.requests) % 2 else 400, "x")

    policy = BreakerPolicy(minimum_calls=2, open_for=30)
    async with (
        open_http_server(handler) as server,
        client_for(server, breaker=policy, max_retries=0, follow_server_limits=False) as client,
    ):
        for _ in range(6):
            with pytest.raises(trio_openai.APIStatusError):
                await client.models.retrieve("m")
        (stats,) = client.metrics.breakers.values()
        assert (stats.neutral, stats.window_calls) == (6, 0)
    assert len(server.requests) == 6


# --------------------------------------------------------------------------- rate limits


async def test_server_reported_limits_pace_the_client_at_the_refill_rate(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # "1 request per window, none left, full again in 2 s": one request every 2 s.
    got_429 = 0

    async def handler(request: Request) -> Response:
        nonlocal got_429
        arrivals.append(trio.current_time())
        if len(arrivals) == 1:
            return Response(
                headers=[
                    *JSON,
                    ("x-ratelimit-limit-requests", "1"),
                    ("x-ratelimit-remaining-requests", "0"),
                    ("x-ratelimit-reset-requests", "2s"),
                ],
                body=MODEL,
            )
        if any(0 < b - a < 2.0 for a, b in itertools.pairwise(arrivals)):
            got_429 += 1
            return _err(429, "rate_limit_exceeded", [("retry-after", "1")])
        return Response(headers=JSON, body=MODEL)

    arrivals: list[float] = []
    async with open_http_server(handler) as server, client_for(server) as client:
        await client.models.retrieve("m")
        async with trio.open_nursery() as nursery:
            for _ in range(3):
                nursery.start_soon(client.models.retrieve, "m")
    assert got_429 == 0
    assert arrivals == [0.0, 2.0, 4.0, 6.0]
    assert client.metrics.rate_limit_wait == 2.0 + 4.0 + 6.0


async def test_client_side_rpm_budget_holds(autojump_clock: trio.testing.MockClock) -> None:
    handler = Scripted()
    async with (
        open_http_server(handler) as server,
        client_for(server, rate_limits=RateLimits(requests_per_minute=1200)) as client,
        trio.open_nursery() as nursery,
    ):
        for _ in range(60):
            nursery.start_soon(client.models.retrieve, "m")
    # 1200/min = 20/s with a one-second burst: 20 at once, then one every 50 ms.
    assert len(server.requests) == 60
    expected = [0.0] * 20 + [0.05 * i for i in range(1, 41)]
    assert sorted(handler.arrivals) == [pytest.approx(t) for t in expected]


async def test_cancel_during_backoff_is_prompt_and_leaks_nothing(
    autojump_clock: trio.testing.MockClock,
) -> None:
    handler = Scripted(*(lambda: _err(429, "x", [("retry-after", "30")]) for _ in range(3)))
    async with open_http_server(handler) as server, client_for(server) as client:
        # retry-after 30 is under the 60 s cap and no deadline is set: the client
        # sleeps 30 s, until the caller cancels (a cancel without a deadline).
        async with trio.open_nursery() as nursery:
            nursery.start_soon(client.models.retrieve, "m")
            await trio.sleep(0.3)
            assert client.metrics.in_flight == 1
            nursery.cancel_scope.cancel()
        assert trio.current_time() == 0.3
        assert len(server.requests) == 1
        assert client.pool.statistics().borrowed == 0
        assert client.metrics.in_flight == 0


async def test_a_retry_never_outlives_the_callers_deadline(
    autojump_clock: trio.testing.MockClock,
) -> None:
    handler = Scripted(lambda: _err(503, None, [("retry-after", "5")]))
    async with open_http_server(handler) as server, client_for(server) as client:
        with (
            trio.fail_after(3),
            trio.move_on_after(2),
            pytest.raises(trio_openai.InternalServerError),
        ):
            await client.models.retrieve("m")
        assert trio.current_time() == 0.0  # raised at once, no sleep first
    assert len(server.requests) == 1


async def test_lock_order_violation_raises_in_debug_mode() -> None:
    # A call made while the same task holds a response (here an unread one, from the
    # raw pool) breaks the order: pool lease (4) held, breaker admission (2) wanted.
    previous = set_debug(True)
    try:
        async with (
            open_http_server(Scripted()) as server,
            client_for(server) as client,
            client.pool.stream("GET", server.base_url + "/v1/models/m"),
        ):
            with pytest.raises(LockOrderError) as info:
                await client.models.retrieve("m")
        assert "connection-pool lease" in str(info.value)
        assert "circuit-breaker admission" in str(info.value)
    finally:
        set_debug(previous)


async def test_stress_with_faults_keeps_the_books_straight(
    autojump_clock: trio.testing.MockClock,
) -> None:
    count = 0

    async def handler(request: Request) -> Response:
        nonlocal count
        count += 1
        if count % 5 == 0:
            return _err(500)
        if count % 7 == 0:
            return _err(429, "rate_limit_exceeded", [("retry-after-ms", "10")])
        return Response(headers=JSON, body=MODEL)

    previous = set_debug(True)
    try:
        # The default breaker: 20% of attempts fail with 500, and it stays closed.
        async with open_http_server(handler) as server, client_for(server) as client:
            failures = 0

            async def one() -> None:
                nonlocal failures
                try:
                    await client.models.retrieve("m")
                except trio_openai.APIError:
                    failures += 1

            with trio.fail_after(60):
                async with trio.open_nursery() as nursery:
                    for _ in range(1000):
                        nursery.start_soon(one)
            snap = client.metrics
    finally:
        set_debug(previous)
    assert snap.requests == 1000
    assert snap.attempts == snap.requests + snap.retries
    assert snap.attempts == len(server.requests)
    assert snap.successes + snap.failures == 1000
    assert failures == snap.failures
    (breaker,) = snap.breakers.values()
    assert breaker.times_opened == 0
    assert client.pool.statistics().borrowed == 0


async def test_opentelemetry_spans_carry_the_outcome_without_secrets(
    autojump_clock: trio.testing.MockClock,
) -> None:
    sdk_trace = pytest.importorskip("opentelemetry.sdk.trace")
    export = pytest.importorskip("opentelemetry.sdk.trace.export")
    in_memory = pytest.importorskip("opentelemetry.sdk.trace.export.in_memory_span_exporter")
    from opentelemetry import trace

    exporter = in_memory.InMemorySpanExporter()
    provider = sdk_trace.TracerProvider()
    provider.add_span_processor(export.SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    handler = Scripted(lambda: _err(500))
    async with open_http_server(handler) as server, client_for(server, tracing=True) as client:
        await client.models.retrieve("m")
        with pytest.raises(trio_openai.ValidationError):
            await client.models.retrieve("")
    (span,) = exporter.get_finished_spans()
    attrs = dict(span.attributes or {})
    assert attrs["http.response.status_code"] == 200
    assert attrs["openai.attempts"] == 2
    assert attrs["url.path"] == "/models/m"
    assert KEY not in repr(attrs)


async def test_retry_policy_sets_the_longest_server_wait_honoured(
    autojump_clock: trio.testing.MockClock,
) -> None:
    handler = Scripted(lambda: _err(429, "rate_limit_exceeded", [("retry-after", "1")]))
    policy = trio_openai.RetryPolicy(max_retry_after=0.5)
    async with open_http_server(handler) as server, client_for(server, retry_policy=policy) as c:
        with pytest.raises(trio_openai.RateLimitError):
            await c.models.retrieve("m")
    assert len(server.requests) == 1


async def test_follow_server_limits_false_ignores_headers_and_429_backoff(
    autojump_clock: trio.testing.MockClock,
) -> None:
    handler = Scripted(
        lambda: Response(
            headers=[
                *JSON,
                ("x-ratelimit-remaining-requests", "0"),
                ("x-ratelimit-reset-requests", "30s"),
            ],
            body=MODEL,
        )
    )
    async with (
        open_http_server(handler) as server,
        client_for(
            server, follow_server_limits=False, rate_limits=RateLimits(requests_per_minute=6000)
        ) as client,
    ):
        for _ in range(3):
            await client.models.retrieve("m")
        assert trio.current_time() == 0.0


async def test_server_limit_headers_are_followed_whatever_their_case(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # A proxy may re-case header names; the limiter must still see them.
    handler = Scripted(
        lambda: Response(
            headers=[
                *JSON,
                ("X-RateLimit-Limit-Requests", "500"),
                ("X-RateLimit-Remaining-Requests", "499"),
                ("X-RateLimit-Reset-Requests", "120ms"),
            ],
            body=MODEL,
        )
    )
    async with open_http_server(handler) as server, client_for(server) as client:
        await client.models.retrieve("m")
        limiter = client.rate_limiter
        assert limiter is not None
        limits = limiter.statistics().server_limits
        assert limits is not None
        assert (limits.limit_requests, limits.remaining_requests) == (500, 499)
