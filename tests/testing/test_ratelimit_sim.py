"""Rate-limit simulation: token buckets (sans-IO) and the server's headers and 429s."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from trio_openai._http._pool import Pool
from trio_openai._resilience import parse_reset_duration
from trio_openai.testing import (
    MockOpenAIServer,
    RateLimitSim,
    estimate_tokens,
    format_go_duration,
    open_mock_server,
)

if TYPE_CHECKING:
    from trio_openai._http._pool import Pool

HEADERS = {"authorization": "Bearer sk-test", "content-type": "application/json"}
CHAT = msgspec.json.encode(
    {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello there"}]}
)


# --------------------------------------------------------------------------------------
# Sans-IO


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (-1, "0s"),
        (1e-7, "100ns"),
        (0.00025, "250µs"),
        (0.0015, "2ms"),
        (0.02, "20ms"),
        (0.547, "547ms"),
        (1, "1s"),
        (1.5, "1.5s"),
        (33.023, "33.023s"),
        (172.8, "2m52.8s"),
        (360, "6m0s"),
        (3600, "1h0m0s"),
        (3725.5, "1h2m5.5s"),
    ],
)
def test_go_duration_format(seconds: float, text: str) -> None:
    assert format_go_duration(seconds) == text


@given(st.floats(min_value=0.001, max_value=10 * 86400, allow_nan=False))
def test_go_durations_parse_back_to_the_value(seconds: float) -> None:
    parsed = parse_reset_duration(format_go_duration(seconds))
    assert parsed is not None
    assert math.isclose(parsed, seconds, abs_tol=0.0005 + 1e-12 * seconds)


def test_request_bucket_refuses_then_refills_continuously() -> None:
    sim = RateLimitSim(rpm=3)
    decisions = [sim.check(100.0, tokens=1) for _ in range(3)]
    assert all(d.allowed for d in decisions)
    assert [dict(d.headers)["x-ratelimit-remaining-requests"] for d in decisions] == [
        "2",
        "1",
        "0",
    ]
    assert dict(decisions[0].headers)["x-ratelimit-limit-requests"] == "3"
    assert dict(decisions[0].headers)["x-ratelimit-reset-requests"] == "20s"
    assert dict(decisions[2].headers)["x-ratelimit-reset-requests"] == "1m0s"

    refused = sim.check(100.0, tokens=1, model="gpt-4o-mini")
    assert not refused.allowed
    assert refused.limit_type == "requests"
    assert refused.retry_after == pytest.approx(20.0)
    headers = dict(refused.headers)
    assert headers["retry-after"] == "20"
    assert headers["retry-after-ms"] == "20000"
    assert refused.error is not None
    error = refused.error["error"]
    assert isinstance(error, dict)
    assert error["type"] == "requests"
    assert error["code"] == "rate_limit_exceeded"
    assert error["message"].startswith(
        "Rate limit reached for gpt-4o-mini in organization org-mock on requests per min "
        "(RPM): Limit 3, Used 3, Requested 1. Please try again in 20s."
    )

    assert not sim.check(110.0, tokens=1).allowed  # half refilled
    later = sim.check(120.0, tokens=1)
    assert later.allowed
    assert dict(later.headers)["x-ratelimit-remaining-requests"] == "0"
    assert sim.remaining(1000.0) == (3, None)


def test_token_bucket_refuses_with_type_tokens() -> None:
    sim = RateLimitSim(tpm=100)
    assert sim.check(0.0, tokens=60).allowed
    refused = sim.check(0.0, tokens=60)
    assert refused.limit_type == "tokens"
    assert refused.retry_after == pytest.approx(12.0)
    assert dict(refused.headers)["retry-after"] == "12"
    assert dict(refused.headers)["x-ratelimit-remaining-tokens"] == "40"
    assert "x-ratelimit-limit-requests" not in dict(refused.headers)
    too_big = sim.check(1000.0, tokens=101)
    assert too_big.limit_type == "tokens"
    assert too_big.retry_after is None
    assert "retry-after" not in dict(too_big.headers)
    assert too_big.error is not None
    assert str(too_big.error["error"]["message"]).startswith("Request too large")  # type: ignore[index]


def test_sub_second_waits_round_retry_after_up_to_one_second() -> None:
    sim = RateLimitSim(rpm=600)  # one request every 0.1 s
    for _ in range(600):
        assert sim.check(5.0, tokens=1).allowed
    refused = sim.check(5.0, tokens=1)
    assert dict(refused.headers)["retry-after"] == "1"
    assert dict(refused.headers)["retry-after-ms"] == "100"


def test_insufficient_quota_refuses_everything_without_retry_after() -> None:
    sim = RateLimitSim(rpm=10, insufficient_quota=True)
    decision = sim.check(0.0, tokens=1)
    assert not decision.allowed
    assert decision.limit_type == "insufficient_quota"
    assert decision.retry_after is None
    assert "retry-after" not in dict(decision.headers)
    assert decision.error is not None
    error = decision.error["error"]
    assert isinstance(error, dict)
    assert error["code"] == "insufficient_quota"
    assert error["type"] == "insufficient_quota"


def test_limits_must_be_positive_integers() -> None:
    with pytest.raises(ValueError, match="rpm"):
        RateLimitSim(rpm=0)
    with pytest.raises(TypeError, match="unknown key"):
        RateLimitSim.from_value({"rpd": 1})
    assert RateLimitSim.from_value({"tpm": 5}) == RateLimitSim(tpm=5)


def test_token_estimate_is_chars_over_four_plus_max_tokens() -> None:
    body = {"messages": [{"role": "user", "content": "x" * 40}], "max_tokens": 7}
    assert estimate_tokens(body) == 10 + 7
    assert estimate_tokens({"input": ["abcd", "efgh"], "max_output_tokens": 1}) == 3
    assert estimate_tokens({"prompt": [[1, 2, 3]]}) == 3
    assert estimate_tokens({}) == 1
    assert estimate_tokens([1, 2]) == 0


# --------------------------------------------------------------------------------------
# Through the server


async def post_chat(
    pool: Pool, server: MockOpenAIServer, body: bytes = CHAT
) -> tuple[int, dict[str, str], bytes]:
    r = await pool.request(
        "POST", server.base_url + "/chat/completions", headers=HEADERS, body=body
    )
    return r.status, dict(r.headers), bytes(r.content)


async def test_server_sends_headers_and_429_over_budget(pool: Pool) -> None:
    async with open_mock_server(rate_limits={"rpm": 2, "tpm": 10_000}) as server:
        remaining = []
        for _ in range(2):
            status, headers, _ = await post_chat(pool, server)
            assert status == 200
            remaining.append(headers["x-ratelimit-remaining-requests"])
            assert headers["x-ratelimit-limit-requests"] == "2"
            assert headers["x-ratelimit-limit-tokens"] == "10000"
            assert int(headers["x-ratelimit-remaining-tokens"]) < 10_000
            assert parse_reset_duration(headers["x-ratelimit-reset-requests"]) is not None
            assert parse_reset_duration(headers["x-ratelimit-reset-tokens"]) is not None
        assert remaining == ["1", "0"]

        status, headers, body = await post_chat(pool, server)
        assert status == 429
        assert int(headers["retry-after"]) >= 1
        assert 0 < int(headers["retry-after-ms"]) <= 30_000
        assert headers["x-ratelimit-remaining-requests"] == "0"
        error = msgspec.json.decode(body)["error"]
        assert error["type"] == "requests"
        assert error["code"] == "rate_limit_exceeded"
        assert error["param"] is None
        assert "Limit 2, Used 2, Requested 1" in error["message"]

        models = await pool.request("GET", server.base_url + "/models", headers=HEADERS)
        assert models.status == 200
        assert "x-ratelimit-limit-requests" not in models.headers
        stats = server.stats
        assert stats.rate_limited == 1
        assert stats.too_many_requests == 1
        assert stats.statuses == {200: 3, 429: 1}


async def test_server_refuses_on_tokens(pool: Pool) -> None:
    async with open_mock_server(rate_limits=RateLimitSim(tpm=40)) as server:
        big = msgspec.json.encode(
            {
                "model": "gpt-4o-mini",
                "messages": [{"role": "user", "content": "x" * 100}],
                "max_tokens": 5,
            }
        )
        assert (await post_chat(pool, server, big))[0] == 200
        status, headers, body = await post_chat(pool, server, big)
        assert status == 429
        assert msgspec.json.decode(body)["error"]["type"] == "tokens"
        assert "x-ratelimit-remaining-requests" not in headers


async def test_bad_requests_still_carry_rate_limit_headers(pool: Pool) -> None:
    async with open_mock_server(rate_limits={"rpm": 5}) as server:
        status, headers, _ = await post_chat(pool, server, b"{broken")
        assert status == 400
        assert headers["x-ratelimit-remaining-requests"] == "4"


async def test_insufficient_quota_mode(pool: Pool) -> None:
    async with open_mock_server(rate_limits={"insufficient_quota": True}) as server:
        status, headers, body = await post_chat(pool, server)
        assert status == 429
        assert "retry-after" not in headers
        assert "retry-after-ms" not in headers
        assert msgspec.json.decode(body)["error"]["code"] == "insufficient_quota"


async def test_rate_limits_can_be_changed_at_runtime(pool: Pool) -> None:
    async with open_mock_server() as server:
        _, headers, _ = await post_chat(pool, server)
        assert "x-ratelimit-limit-requests" not in headers
        server.rate_limits = RateLimitSim(rpm=1)
        assert (await post_chat(pool, server))[0] == 200
        assert (await post_chat(pool, server))[0] == 429
        server.rate_limits = None
        assert (await post_chat(pool, server))[0] == 200
