"""Retries, circuit breaker and rate limiting through the client, on real sockets."""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Callable

import pytest
import trio

import trio_openai
from trio_openai import BreakerPolicy, Client, RateLimits
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


def scripted(*responses: Callable[[], Response]) -> Callable[[Request], object]:
    """A handler answering the i-th request with the i-th response (then 200s)."""
    answers = list(responses)

    async def handler(request: Request) -> Response:
        if answers:
            return answers.pop(0)()
        return Response(headers=JSON, body=MODEL)

    return handler


def client_for(server: object, **kwargs: object) -> Client:
    return Client(api_key=KEY, base_url=server.base_url + "/v1", **kwargs)  # type: ignore[attr-defined, arg-type]


@pytest.mark.parametrize(
    ("header", "value", "minimum"),
    [
        ("retry-after", "1", 1.0),
        ("retry-after-ms", "300", 0.3),
        ("retry-after", "http-date", 1.0),
    ],
)
async def test_429_retry_waits_what_the_server_says(
    header: str, value: str, minimum: float
) -> None:
    if value == "http-date":
        value = email.utils.formatdate(time.time() + 2, usegmt=True)
    handler = scripted(lambda: _err(429, "rate_limit_exceeded", [(header, value)]))
    async with open_http_server(handler) as server, client_for(server) as client:
        start = trio.current_time()
        model = await client.models.retrieve("m")
        waited = trio.current_time() - start
    assert model.id == "m"
    assert waited >= minimum - 0.05
    assert waited < minimum + 2.5
    assert len(server.requests) == 2
    assert client.metrics.retries_by_reason == {"status_429": 1}


async def test_a_wait_above_the_cap_surfaces_the_429() -> None:
    handler = scripted(lambda: _err(429, "rate_limit_exceeded", [("retry-after", "600")]))
    async with open_http_server(handler) as server, client_for(server) as client:
        with pytest.raises(trio_openai.RateLimitError) as info:
            await client.models.retrieve("m")
    assert info.value.retry_after == 600
    assert len(server.requests) == 1


async def test_should_retry_false_and_insufficient_quota_are_not_retried() -> None:
    handler = scripted(
        lambda: _err(500, None, [("x-should-retry", "false")]),
        lambda: _err(429, "insufficient_quota"),
    )
    async with open_http_server(handler) as server, client_for(server) as client:
        with pytest.raises(trio_openai.InternalServerError):
            await client.models.retrieve("m")
        with pytest.raises(trio_openai.RateLimitError) as info:
            await client.models.retrieve("m")
        assert info.value.is_insufficient_quota
    assert len(server.requests) == 2


async def test_5xx_is_retried_with_backoff_and_max_retries_per_call() -> None:
    handler = scripted(*(lambda: _err(503) for _ in range(5)))
    async with open_http_server(handler) as server, client_for(server, breaker=None) as client:
        with pytest.raises(trio_openai.InternalServerError):
            await client.models.retrieve("m", max_retries=1)
        assert len(server.requests) == 2
        model = await client.models.retrieve("m", max_retries=3)  # 3 more 503s, then 200
        assert model.id == "m"
    assert len(server.requests) == 6
    snap = client.metrics
    assert snap.attempts == snap.requests + snap.retries
    assert snap.retries == 4


async def test_one_idempotency_key_per_post_across_attempts() -> None:
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


async def test_breaker_opens_fails_fast_half_opens_and_closes() -> None:
    failing = True

    async def handler(request: Request) -> Response:
        if failing:
            return _err(500)
        return Response(headers=JSON, body=MODEL)

    policy = BreakerPolicy(failure_threshold=3, window=10.0, open_for=0.3)
    async with (
        open_http_server(handler) as server,
        client_for(server, breaker=policy, max_retries=0) as client,
    ):
        for _ in range(3):
            with pytest.raises(trio_openai.InternalServerError):
                await client.models.retrieve("m")
        with pytest.raises(trio_openai.CircuitOpenError) as info:
            await client.models.retrieve("m")
        assert 0 < info.value.retry_in <= 0.3
        assert len(server.requests) == 3  # nothing reached the server while open
        await trio.sleep(0.35)
        # half-open: a bad probe reopens
        with pytest.raises(trio_openai.InternalServerError):
            await client.models.retrieve("m")
        with pytest.raises(trio_openai.CircuitOpenError):
            await client.models.retrieve("m")
        await trio.sleep(0.35)
        failing = False
        assert (await client.models.retrieve("m")).id == "m"  # good probe closes
        for _ in range(3):
            await client.models.retrieve("m")
        (stats,) = client.metrics.breakers.values()
        assert stats.state is trio_openai.CircuitState.CLOSED


async def test_4xx_and_429_never_open_the_breaker() -> None:
    async def handler(request: Request) -> Response:
        return _err(429 if len(server.requests) % 2 else 400, "x")

    policy = BreakerPolicy(failure_threshold=2, open_for=30)
    async with (
        open_http_server(handler) as server,
        client_for(server, breaker=policy, max_retries=0, follow_server_limits=False) as client,
    ):
        for _ in range(6):
            with pytest.raises(trio_openai.APIStatusError):
                await client.models.retrieve("m")
    assert len(server.requests) == 6


async def test_server_reported_limits_make_the_client_wait_instead_of_429s() -> None:
    window_end = 0.0
    got_429 = 0

    async def handler(request: Request) -> Response:
        nonlocal window_end, got_429
        now = trio.current_time()
        if len(server.requests) == 1:
            window_end = now + 2.0
            return Response(
                headers=[
                    *JSON,
                    ("x-ratelimit-limit-requests", "1"),
                    ("x-ratelimit-remaining-requests", "0"),
                    ("x-ratelimit-reset-requests", "2s"),
                ],
                body=MODEL,
            )
        if now < window_end:
            got_429 += 1
            return _err(429, "rate_limit_exceeded", [("retry-after", "1")])
        return Response(headers=JSON, body=MODEL)

    async with open_http_server(handler) as server, client_for(server) as client:
        await client.models.retrieve("m")
        start = trio.current_time()
        async with trio.open_nursery() as nursery:
            for _ in range(3):
                nursery.start_soon(client.models.retrieve, "m")
        waited = trio.current_time() - start
    assert got_429 == 0
    assert waited >= 1.9
    assert client.metrics.rate_limit_wait >= 1.9


async def test_client_side_rpm_budget_holds() -> None:
    arrivals: list[float] = []

    async def handler(request: Request) -> Response:
        arrivals.append(trio.current_time())
        return Response(headers=JSON, body=MODEL)

    async with (
        open_http_server(handler) as server,
        client_for(server, rate_limits=RateLimits(requests_per_minute=1200)) as client,
        trio.open_nursery() as nursery,
    ):
        for _ in range(60):
            nursery.start_soon(client.models.retrieve, "m")
    # 1200/min = 20/s with a one-second burst: no sliding second holds more than
    # 20 + 20 (burst plus refill), and the whole run needs about 2 s.
    assert len(server.requests) == 60
    arrivals.sort()
    for i, t in enumerate(arrivals):
        in_window = sum(1 for u in arrivals[i:] if u - t < 1.0)
        assert in_window <= 41
    assert arrivals[-1] - arrivals[0] >= 1.8


async def test_cancel_during_backoff_is_prompt_and_leaks_nothing() -> None:
    handler = scripted(*(lambda: _err(429, "x", [("retry-after", "30")]) for _ in range(3)))
    async with open_http_server(handler) as server, client_for(server) as client:
        # retry-after 30 is under the 60 s cap and no deadline is set: the client
        # sleeps 30 s, until the caller cancels (a cancel without a deadline).
        start = trio.current_time()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(client.models.retrieve, "m")
            await trio.sleep(0.3)
            assert client.metrics.in_flight == 1
            nursery.cancel_scope.cancel()
        assert trio.current_time() - start < 1.5
        assert len(server.requests) == 1
        assert client.pool.statistics().borrowed == 0
        assert client.metrics.in_flight == 0


async def test_a_retry_never_outlives_the_callers_deadline() -> None:
    handler = scripted(lambda: _err(503, None, [("retry-after", "5")]))
    async with open_http_server(handler) as server, client_for(server) as client:
        with (
            trio.fail_after(3),
            trio.move_on_after(2),
            pytest.raises(trio_openai.InternalServerError),
        ):
            await client.models.retrieve("m")
    assert len(server.requests) == 1


async def test_lock_order_violation_raises_in_debug_mode() -> None:
    # A call made while the same task holds a response (here an unread one, from the
    # raw pool) breaks the order: pool lease (4) held, breaker admission (2) wanted.
    previous = set_debug(True)
    try:
        async with (
            open_http_server(scripted()) as server,
            client_for(server) as client,
            client.pool.stream("GET", server.base_url + "/v1/models/m"),
        ):
            with pytest.raises(LockOrderError) as info:
                await client.models.retrieve("m")
        assert "connection-pool lease" in str(info.value)
        assert "circuit-breaker admission" in str(info.value)
    finally:
        set_debug(previous)


async def test_stress_with_faults_keeps_the_books_straight() -> None:
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
        async with (
            open_http_server(handler) as server,
            client_for(server, breaker=BreakerPolicy(failure_threshold=1000)) as client,
        ):
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
    assert client.pool.statistics().borrowed == 0


async def test_opentelemetry_spans_carry_the_outcome_without_secrets() -> None:
    sdk_trace = pytest.importorskip("opentelemetry.sdk.trace")
    export = pytest.importorskip("opentelemetry.sdk.trace.export")
    in_memory = pytest.importorskip("opentelemetry.sdk.trace.export.in_memory_span_exporter")
    from opentelemetry import trace

    exporter = in_memory.InMemorySpanExporter()
    provider = sdk_trace.TracerProvider()
    provider.add_span_processor(export.SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    handler = scripted(lambda: _err(500))
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


async def test_retry_policy_sets_the_longest_server_wait_honoured() -> None:
    handler = scripted(lambda: _err(429, "rate_limit_exceeded", [("retry-after", "1")]))
    policy = trio_openai.RetryPolicy(max_retry_after=0.5)
    async with open_http_server(handler) as server, client_for(server, retry_policy=policy) as c:
        with pytest.raises(trio_openai.RateLimitError):
            await c.models.retrieve("m")
    assert len(server.requests) == 1


async def test_follow_server_limits_false_ignores_headers_and_429_backoff() -> None:
    handler = scripted(
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
        start = trio.current_time()
        for _ in range(3):
            await client.models.retrieve("m")
        assert trio.current_time() - start < 2


async def test_server_limit_headers_are_followed_whatever_their_case() -> None:
    # A proxy may re-case header names; the limiter must still see them.
    handler = scripted(
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
