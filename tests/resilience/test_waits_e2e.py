"""No silent long waits, and client-side token budgets, through the public ``Client``.

Every wait the client imposes (a shared back-off after a 429, a server reset, a budget,
a retry) is bounded by the caller's deadline and by the longest server-directed wait
it honours (``RetryPolicy.max_retry_after``, 60 s): past either, the call fails at
once with ``RateLimitError`` carrying ``retry_after``, before any sleep. Waits over a
second are logged at INFO on the ``trio_openai`` logger. Time is trio's autojump
clock, so "at once" is asserted as zero elapsed virtual time.
"""

from __future__ import annotations

import json
import logging

import pytest
import trio
import trio.testing

import trio_openai
from trio_openai import Client, RateLimits
from trio_openai.testing import Request, Response, open_http_server, open_mock_server

KEY = "sk-test-waits"
JSON = [("content-type", "application/json")]
MODEL = b'{"id":"m","object":"model","created":1,"owned_by":"o"}'
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


def _429(retry_after: str) -> Response:
    body = json.dumps(
        {"error": {"message": "slow down", "type": "requests", "code": "rate_limit_exceeded"}}
    ).encode()
    return Response(status=429, headers=[*JSON, ("retry-after", retry_after)], body=body)


class FirstThen:
    """Answer the first request with ``first``, every later one with a model."""

    def __init__(self, first: Response) -> None:
        self.first: Response | None = first
        self.arrivals: list[float] = []

    async def __call__(self, request: Request) -> Response:
        self.arrivals.append(trio.current_time())
        if self.first is not None:
            first, self.first = self.first, None
            return first
        return Response(headers=JSON, body=MODEL)


def client_for(server: object, **kwargs: object) -> Client:
    return Client(api_key=KEY, base_url=server.base_url + "/v1", **kwargs)  # type: ignore[attr-defined, arg-type]


# --------------------------------------------------------------------------- 429 back-off


async def test_after_a_long_retry_after_the_next_call_fails_fast_instead_of_blocking(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # The example: a 429 with retry-after: 120 raises at once (above the 60 s
    # the client honours); the next call used to block silently for 120 s.
    handler = FirstThen(_429("120"))
    async with open_http_server(handler) as server, client_for(server) as client:
        with pytest.raises(trio_openai.RateLimitError) as first:
            await client.models.retrieve("m")
        assert first.value.retry_after == 120.0
        with pytest.raises(trio_openai.RateLimitError) as second:
            await client.models.retrieve("m")
        assert trio.current_time() == 0.0  # neither call slept
        assert second.value.retry_after == 120.0
        assert second.value.request_id is None  # refused by the client, not sent
        assert "the longest wait accepted (60 s)" in str(second.value)
        # Once the back-off has passed, calls go through again.
        await trio.sleep(120.0)
        assert (await client.models.retrieve("m")).id == "m"
    assert len(handler.arrivals) == 2


async def test_a_shared_back_off_within_the_bounds_is_waited_and_logged(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    handler = FirstThen(_429("30"))
    async with open_http_server(handler) as server, client_for(server) as client:
        with pytest.raises(trio_openai.RateLimitError):
            await client.models.retrieve("m", max_retries=0)
        with caplog.at_level(logging.INFO, logger="trio_openai"):
            assert (await client.models.retrieve("m")).id == "m"
    assert handler.arrivals == [0.0, 30.0]
    messages = [r.getMessage() for r in caplog.records if r.name == "trio_openai"]
    assert "trio_openai: waiting 30.0 s for a 429 back-off (retry-after)" in messages


async def test_a_shared_back_off_past_the_callers_deadline_fails_at_once(
    autojump_clock: trio.testing.MockClock,
) -> None:
    handler = FirstThen(_429("30"))
    async with open_http_server(handler) as server, client_for(server) as client:
        with pytest.raises(trio_openai.RateLimitError):
            await client.models.retrieve("m", max_retries=0)
        with trio.fail_after(10), pytest.raises(trio_openai.RateLimitError) as info:
            await client.models.retrieve("m")
        assert trio.current_time() == 0.0
        assert info.value.retry_after == 30.0
        assert "the caller's deadline (in 10.0 s)" in str(info.value)
        # A per-call timeout= bounds the wait as well.
        with pytest.raises(trio_openai.RateLimitError):
            await client.models.retrieve("m", timeout=5.0)
        assert trio.current_time() == 0.0
    assert len(handler.arrivals) == 1


async def test_the_retrying_call_waits_the_server_figure_once(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # The call that got the 429 sleeps retry-after; its retry then finds the shared
    # back-off over (no second wait on top).
    handler = FirstThen(_429("30"))
    async with open_http_server(handler) as server, client_for(server) as client:
        assert (await client.models.retrieve("m")).id == "m"
    assert handler.arrivals == [0.0, 30.0]
    assert client.metrics.rate_limit_wait == 0.0


# --------------------------------------------------------------------------- server reset


async def test_an_absurd_server_reset_is_capped_and_refused_at_once(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # x-ratelimit-reset-requests: 99999999h would be a wait of 3.6e11 s.
    handler = FirstThen(
        Response(
            headers=[
                *JSON,
                ("x-ratelimit-limit-requests", "100"),
                ("x-ratelimit-remaining-requests", "0"),
                ("x-ratelimit-reset-requests", "99999999h"),
            ],
            body=MODEL,
        )
    )
    async with open_http_server(handler) as server, client_for(server) as client:
        await client.models.retrieve("m")
        with pytest.raises(trio_openai.RateLimitError) as info:
            await client.models.retrieve("m")
        assert trio.current_time() == 0.0
    # The reset is believed up to a day: 100 requests a day, one in 864 s.
    assert info.value.retry_after == pytest.approx(864.0)
    assert "the server's request limit" in str(info.value)
    assert len(handler.arrivals) == 1


# --------------------------------------------------------------------------- retry waits


async def test_a_retry_wait_over_a_second_is_logged_with_its_reason(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    body = b'{"error": {"message": "busy", "type": "server_error"}}'
    handler = FirstThen(Response(status=503, headers=[*JSON, ("retry-after", "2")], body=body))
    async with open_http_server(handler) as server, client_for(server) as client:
        with caplog.at_level(logging.INFO, logger="trio_openai"):
            await client.models.retrieve("m")
    assert handler.arrivals == [0.0, 2.0]
    messages = [r.getMessage() for r in caplog.records if r.name == "trio_openai"]
    assert "trio_openai: retrying GET /models/m in 2.0 s (attempt 1 failed: status_5xx)" in (
        messages
    )


# --------------------------------------------------------------------------- token budget


async def test_a_client_token_budget_is_charged_the_usage_not_the_estimate(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # 6,000 tokens a minute: a bucket of 100. The request is estimated at about 2,000
    # tokens (its max_completion_tokens), which drives the bucket into debt while it
    # runs; the response's usage (a dozen tokens) then corrects the charge. No virtual
    # time passes, so the bucket shows exactly 100 - usage.
    async with (
        open_mock_server() as server,
        Client(
            api_key=server.api_key,
            base_url=server.base_url,
            rate_limits=RateLimits(tokens_per_minute=6000),
        ) as client,
    ):
        limiter = client.rate_limiter
        assert limiter is not None
        estimate = client._estimate_tokens({**CHAT, "max_completion_tokens": 2000})
        assert estimate >= 2000
        completion = await client.chat.completions.create(**CHAT, max_completion_tokens=2000)
        assert completion.usage is not None
        used = completion.usage.total_tokens
        assert 0 < used < 100
        assert limiter.statistics().tokens_available == 100 - used
        assert trio.current_time() == 0.0


async def test_a_streamed_call_corrects_the_token_budget_from_its_usage_chunk(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with (
        open_mock_server() as server,
        Client(
            api_key=server.api_key,
            base_url=server.base_url,
            rate_limits=RateLimits(tokens_per_minute=6000),
        ) as client,
    ):
        limiter = client.rate_limiter
        assert limiter is not None
        async with await client.chat.completions.create(
            **CHAT,
            max_completion_tokens=2000,
            stream=True,
            stream_options={"include_usage": True},
        ) as stream:
            usage = None
            async for chunk in stream:
                usage = chunk.usage or usage
        assert usage is not None
        assert limiter.statistics().tokens_available == 100 - usage.total_tokens


async def test_a_token_budget_paces_calls_by_their_real_usage(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # An estimate above the bucket (100) goes when the bucket is full. Corrected to
    # its usage, each call leaves the bucket short by that usage only, so the next
    # waits usage / 100 s; charged their estimates (2,000 each) they would wait 20 s.
    async with (
        open_mock_server() as server,
        Client(
            api_key=server.api_key,
            base_url=server.base_url,
            rate_limits=RateLimits(tokens_per_minute=6000),
        ) as client,
    ):
        used = []
        for _ in range(5):
            completion = await client.chat.completions.create(**CHAT, max_completion_tokens=2000)
            assert completion.usage is not None
            used.append(completion.usage.total_tokens)
        assert trio.current_time() == pytest.approx(sum(used[:4]) / 100)
