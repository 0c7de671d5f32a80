"""RateLimiter under trio: budgets over many requests, server headers, FIFO order,
cancellation, 429 penalties and the nowait twin. Time is trio's autojump clock, so
every wait below is virtual and the file runs in well under a second. Concurrent
tests run under a (virtual) ``fail_after`` so that a lost wake-up fails instead of
hanging.
"""

from __future__ import annotations

import bisect
import logging

import pytest
import trio
import trio.testing

from trio_openai import RateLimitError
from trio_openai._resilience._limiter import RateLimiter
from trio_openai._resilience._ratelimit_budget import MAX_SERVER_WAIT, RateLimits

# --------------------------------------------------------------------------- helpers

GUARD = 10_000.0  # virtual seconds; far beyond any wait expected below


def max_in_window(times: list[float], window: float) -> int:
    """Most events in any half-open window [t, t + window) that starts at an event."""
    times = sorted(times)
    return max(
        (bisect.bisect_left(times, t + window - 1e-9) - i for i, t in enumerate(times)),
        default=0,
    )


async def run_in_order(*fns: object) -> None:
    """Start each async fn in turn, letting it block before the next starts."""
    with trio.fail_after(GUARD):
        async with trio.open_nursery() as nursery:
            for fn in fns:
                nursery.start_soon(fn)  # type: ignore[arg-type]
                await trio.testing.wait_all_tasks_blocked()


# --------------------------------------------------------------------------- budgets


async def test_fast_path_does_not_wait_but_is_a_checkpoint(
    autojump_clock: trio.testing.MockClock,
) -> None:
    limiter = RateLimiter(RateLimits(requests_per_minute=600, burst_seconds=6))
    with trio.testing.assert_checkpoints():
        assert await limiter.acquire() == 0.0
    assert trio.current_time() == 0.0


async def test_no_client_budget_means_no_waiting(autojump_clock: trio.testing.MockClock) -> None:
    limiter = RateLimiter()
    for _ in range(1000):
        assert await limiter.acquire(tokens=10**6) == 0.0
    assert trio.current_time() == 0.0


async def test_request_budget_holds_over_200_concurrent_requests(
    autojump_clock: trio.testing.MockClock,
) -> None:
    limiter = RateLimiter(RateLimits(requests_per_minute=60))
    done: list[float] = []

    async def one() -> None:
        await limiter.acquire()
        done.append(trio.current_time())

    with trio.fail_after(GUARD):
        async with trio.open_nursery() as nursery:
            for _ in range(200):
                nursery.start_soon(one)
    assert len(done) == 200
    assert max_in_window(done, 60.0) <= 60
    # Paced, not starved: one per second after the first.
    assert max(done) == pytest.approx(199.0)
    assert limiter.statistics().acquired == 200


async def test_token_budget_holds_over_200_requests(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # 6000 tokens/min: refills 100/s and holds 100.
    limiter = RateLimiter(RateLimits(tokens_per_minute=6000))
    spent: list[tuple[float, int]] = []
    for i in range(200):
        cost = 10 + (i * 37) % 90
        await limiter.acquire(tokens=cost)
        spent.append((trio.current_time(), cost))
    for start, _ in spent:
        in_window = sum(c for t, c in spent if start <= t < start + 60.0)
        assert in_window <= 100 + 6000
    total = sum(c for _, c in spent)
    assert trio.current_time() == pytest.approx((total - 100) / 100, abs=1.0)


# --------------------------------------------------------------------------- server


async def test_server_remaining_zero_makes_the_next_acquire_wait_for_the_reset(
    autojump_clock: trio.testing.MockClock,
) -> None:
    limiter = RateLimiter()
    server = limiter.update_from_headers(
        {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "2s"}
    )
    assert server is not None
    assert server.remaining_requests == 0
    waited = await limiter.acquire()
    assert waited == pytest.approx(2.0)
    assert await limiter.acquire() == 0.0  # the reset has passed


async def test_server_remaining_allows_that_many_before_the_reset(
    autojump_clock: trio.testing.MockClock,
) -> None:
    limiter = RateLimiter()
    limiter.update_from_headers(
        [
            (b"x-ratelimit-remaining-tokens", b"300"),
            (b"x-ratelimit-reset-tokens", b"6m0s"),
        ]
    )
    assert await limiter.acquire(tokens=200) == 0.0
    assert await limiter.acquire(tokens=100) == 0.0
    assert await limiter.acquire(tokens=1) == pytest.approx(360.0)


async def test_server_remaining_lowers_the_client_bucket(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # Client budget alone would allow a burst of 10.
    limiter = RateLimiter(RateLimits(requests_per_minute=60, burst_seconds=10))
    limiter.update_from_headers(
        {"x-ratelimit-remaining-requests": "1", "x-ratelimit-reset-requests": "1ms"}
    )
    assert await limiter.acquire() == 0.0
    # The server figure is stale after 1 ms, but the client bucket was lowered to 1
    # and now refills at 1/s.
    assert await limiter.acquire() == pytest.approx(1.0)


async def test_headers_without_rate_limits_change_nothing(
    autojump_clock: trio.testing.MockClock,
) -> None:
    limiter = RateLimiter()
    assert limiter.update_from_headers({"content-type": "application/json"}) is None
    assert limiter.statistics().server_limits is None
    assert await limiter.acquire() == 0.0


async def test_a_header_update_wakes_a_waiter_early(
    autojump_clock: trio.testing.MockClock,
) -> None:
    limiter = RateLimiter(RateLimits(tokens_per_minute=600))  # 10/s, holds 10
    await limiter.acquire(tokens=10)
    waited: list[float] = []

    async def waiter() -> None:
        waited.append(await limiter.acquire(tokens=10))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(waiter)
        await trio.sleep(0.2)
        limiter.record_usage(estimated_tokens=10, actual_tokens=2)  # refund 8
    assert waited == [pytest.approx(0.2)]


# --------------------------------------------------------------------------- FIFO


async def test_waiters_are_served_in_arrival_order_and_small_ones_do_not_overtake(
    autojump_clock: trio.testing.MockClock,
) -> None:
    limiter = RateLimiter(RateLimits(tokens_per_minute=600))  # 10/s, holds 10
    await limiter.acquire(tokens=10)  # empty the bucket
    order: list[str] = []

    def task(name: str, tokens: int) -> object:
        async def run() -> None:
            await limiter.acquire(tokens=tokens)
            order.append(name)

        return run

    sizes = [("big", 10), ("tiny", 1), ("mid", 5), ("tiny2", 1), ("big2", 9)]
    await run_in_order(*(task(n, s) for n, s in sizes))
    assert order == [n for n, _ in sizes]
    # The tiny request could have gone at 0.1 s, but waited behind the big one.
    assert trio.current_time() == pytest.approx(2.6)


async def test_a_new_caller_queues_behind_waiters_even_if_budget_would_fit(
    autojump_clock: trio.testing.MockClock,
) -> None:
    limiter = RateLimiter(RateLimits(tokens_per_minute=600))
    await limiter.acquire(tokens=5)  # 5 left
    order: list[str] = []

    async def big() -> None:
        await limiter.acquire(tokens=10)
        order.append("big")

    async def small() -> None:
        await limiter.acquire(tokens=1)
        order.append("small")

    await run_in_order(big, small)
    assert order == ["big", "small"]


# --------------------------------------------------------------------------- cancel


async def test_cancelled_waiter_leaves_promptly_and_takes_nothing(
    autojump_clock: trio.testing.MockClock,
) -> None:
    limiter = RateLimiter(RateLimits(requests_per_minute=60))  # 1/s, holds 1
    await limiter.acquire()
    scope = trio.CancelScope()

    async def cancel_soon() -> None:
        await trio.sleep(0.5)
        scope.cancel()  # a cancel without a deadline: the wait was accepted

    async with trio.open_nursery() as nursery:
        nursery.start_soon(cancel_soon)
        with scope:
            await limiter.acquire()
    assert scope.cancelled_caught
    assert trio.current_time() == pytest.approx(0.5)
    assert limiter.statistics().waiters == 0
    # The budget is exactly what it would have been: ready at 1.0 s.
    assert await limiter.acquire() == pytest.approx(0.5)
    assert limiter.statistics().acquired == 2


async def test_cancelling_the_head_lets_the_next_waiter_go_on_its_own_terms(
    autojump_clock: trio.testing.MockClock,
) -> None:
    limiter = RateLimiter(RateLimits(tokens_per_minute=600))  # 10/s, holds 10
    await limiter.acquire(tokens=10)
    finished: dict[str, float] = {}

    head_scope = trio.CancelScope()

    async def head() -> None:
        with head_scope:
            await limiter.acquire(tokens=10)
            finished["head"] = trio.current_time()

    async def second() -> None:
        await limiter.acquire(tokens=2)
        finished["second"] = trio.current_time()

    async def cancel_head() -> None:
        await trio.sleep(0.3)
        head_scope.cancel()

    await run_in_order(head, second, cancel_head)
    assert "head" not in finished
    assert finished["second"] == pytest.approx(0.3)  # 3 tokens had refilled by then


async def test_cancelling_a_waiter_in_the_middle_keeps_the_order(
    autojump_clock: trio.testing.MockClock,
) -> None:
    limiter = RateLimiter(RateLimits(requests_per_minute=60))
    await limiter.acquire()
    order: list[str] = []
    middle_scope = trio.CancelScope()

    async def named(name: str, scope: trio.CancelScope | None = None) -> None:
        with scope or trio.CancelScope():
            await limiter.acquire()
            order.append(name)

    with trio.fail_after(GUARD):
        async with trio.open_nursery() as nursery:
            for name in ("a", "b", "c"):
                nursery.start_soon(named, name, middle_scope if name == "b" else None)
                await trio.testing.wait_all_tasks_blocked()
            middle_scope.cancel()
    assert order == ["a", "c"]
    assert trio.current_time() == pytest.approx(2.0)


# --------------------------------------------------------------------------- 429


async def test_penalize_backs_off_every_caller(autojump_clock: trio.testing.MockClock) -> None:
    limiter = RateLimiter()
    assert limiter.penalize(5.0) == 5.0
    finished: list[float] = []

    async def caller() -> None:
        await limiter.acquire()
        finished.append(trio.current_time())

    with trio.fail_after(GUARD):
        async with trio.open_nursery() as nursery:
            for _ in range(5):
                nursery.start_soon(caller)
    assert finished == [pytest.approx(5.0)] * 5
    stats = limiter.statistics()
    assert stats.penalties == 1
    assert stats.blocked_until == pytest.approx(5.0)


async def test_penalty_without_retry_after_is_one_second(
    autojump_clock: trio.testing.MockClock,
) -> None:
    limiter = RateLimiter()
    limiter.penalize(None)
    assert await limiter.acquire() == pytest.approx(1.0)


# --------------------------------------------------------------------------- bounds


async def test_a_wait_past_max_wait_fails_at_once_with_retry_after(
    autojump_clock: trio.testing.MockClock,
) -> None:
    limiter = RateLimiter()
    limiter.penalize(120.0)  # a 429 said retry-after: 120
    with pytest.raises(RateLimitError) as info:
        await limiter.acquire(max_wait=60.0)
    assert trio.current_time() == 0.0  # never slept
    assert info.value.retry_after == 120.0
    assert info.value.status_code == 429
    assert info.value.request_id is None
    assert "would wait 120.0 s for a 429 back-off" in str(info.value)
    assert "the longest wait accepted (60 s)" in str(info.value)
    stats = limiter.statistics()
    assert (stats.refused, stats.acquired, stats.waiters) == (1, 0, 0)


async def test_a_wait_that_would_reach_the_deadline_fails_at_once(
    autojump_clock: trio.testing.MockClock,
) -> None:
    limiter = RateLimiter()
    limiter.penalize(5.0)
    with trio.fail_after(3.0), pytest.raises(RateLimitError) as info:
        await limiter.acquire()
    assert trio.current_time() == 0.0
    assert info.value.retry_after == 5.0
    assert "the caller's deadline (in 3.0 s)" in str(info.value)


async def test_a_wait_within_both_bounds_is_waited(
    autojump_clock: trio.testing.MockClock,
) -> None:
    limiter = RateLimiter()
    limiter.penalize(5.0)
    with trio.fail_after(5.001):
        assert await limiter.acquire(max_wait=5.0) == 5.0


async def test_the_queue_ahead_counts_toward_a_newcomers_wait(
    autojump_clock: trio.testing.MockClock,
) -> None:
    limiter = RateLimiter(RateLimits(requests_per_minute=60))  # 1/s, holds 1
    await limiter.acquire()
    served: list[float] = []

    async def patient() -> None:
        await limiter.acquire()
        served.append(trio.current_time())

    refused: list[RateLimitError] = []

    async def hurried() -> None:
        with trio.fail_after(5.5):
            try:
                await limiter.acquire()
            except RateLimitError as exc:
                refused.append(exc)

    await run_in_order(*([patient] * 5), hurried)
    assert [exc.retry_after for exc in refused] == [pytest.approx(6.0)]  # 5 ahead, 1/s
    assert served == [pytest.approx(float(i)) for i in range(1, 6)]


async def test_a_429_that_lengthens_the_queue_sends_hurried_waiters_away_at_once(
    autojump_clock: trio.testing.MockClock,
) -> None:
    limiter = RateLimiter(RateLimits(requests_per_minute=60))
    await limiter.acquire()
    outcomes: dict[str, object] = {}

    async def waiter(name: str, limit: float) -> None:
        with trio.fail_after(limit):
            try:
                await limiter.acquire()
                outcomes[name] = trio.current_time()
            except RateLimitError as exc:
                outcomes[name] = (trio.current_time(), exc.retry_after)

    async def penalize_soon() -> None:
        await trio.sleep(0.25)
        limiter.penalize(30.0)

    await run_in_order(
        lambda: waiter("hurried", 10.0), lambda: waiter("patient", 100.0), penalize_soon
    )
    assert outcomes["hurried"] == (0.25, pytest.approx(30.0))  # left when it knew
    assert outcomes["patient"] == pytest.approx(30.25)


async def test_server_waiters_go_at_the_refill_rate_not_all_at_the_reset(
    autojump_clock: trio.testing.MockClock,
) -> None:
    limiter = RateLimiter()
    limiter.update_from_headers(
        {
            "x-ratelimit-limit-requests": "3",
            "x-ratelimit-remaining-requests": "0",
            "x-ratelimit-reset-requests": "3s",
        }
    )
    served: list[float] = []

    async def caller() -> None:
        await limiter.acquire()
        served.append(trio.current_time())

    await run_in_order(caller, caller, caller)
    assert served == [pytest.approx(1.0), pytest.approx(2.0), pytest.approx(3.0)]


async def test_a_huge_server_reset_is_capped_and_refused_at_once(
    autojump_clock: trio.testing.MockClock,
) -> None:
    limiter = RateLimiter()
    limiter.update_from_headers(
        {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "99999999h"}
    )
    with pytest.raises(RateLimitError) as info:
        await limiter.acquire(max_wait=60.0)
    assert info.value.retry_after == MAX_SERVER_WAIT
    assert trio.current_time() == 0.0


async def test_a_wait_over_a_second_is_logged_with_its_reason(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    limiter = RateLimiter(RateLimits(requests_per_minute=30))  # one per 2 s
    await limiter.acquire()
    with caplog.at_level(logging.INFO, logger="trio_openai"):
        assert await limiter.acquire() == pytest.approx(2.0)
    (record,) = caplog.records
    assert record.name == "trio_openai"
    assert record.levelno == logging.INFO
    assert record.getMessage() == (
        "trio_openai: waiting 2.0 s for the client's requests_per_minute budget"
    )


async def test_a_short_wait_is_not_logged(
    autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    limiter = RateLimiter(RateLimits(requests_per_minute=120, burst_seconds=0.5))  # holds 1
    await limiter.acquire()
    with caplog.at_level(logging.INFO, logger="trio_openai"):
        assert await limiter.acquire() == pytest.approx(0.5)
    assert caplog.records == []


async def test_max_wait_must_be_a_non_negative_number(
    autojump_clock: trio.testing.MockClock,
) -> None:
    limiter = RateLimiter()
    with pytest.raises(ValueError, match="max_wait"):
        await limiter.acquire(max_wait=-1.0)
    with pytest.raises(TypeError, match="max_wait"):
        await limiter.acquire(max_wait="60")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- nowait


async def test_acquire_nowait(autojump_clock: trio.testing.MockClock) -> None:
    limiter = RateLimiter(RateLimits(requests_per_minute=60, burst_seconds=2))  # holds 2
    limiter.acquire_nowait()
    limiter.acquire_nowait()
    with pytest.raises(trio.WouldBlock):
        limiter.acquire_nowait()
    assert limiter.statistics().acquired == 2
    await trio.sleep(1.0)
    limiter.acquire_nowait()


async def test_acquire_nowait_respects_waiters_and_penalties(
    autojump_clock: trio.testing.MockClock,
) -> None:
    limiter = RateLimiter(RateLimits(tokens_per_minute=600))
    await limiter.acquire(tokens=5)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(limiter.acquire, 1, 10)
        await trio.testing.wait_all_tasks_blocked()
        with pytest.raises(trio.WouldBlock):
            limiter.acquire_nowait(tokens=1)  # would fit, but someone is waiting
    limiter.penalize(3.0)
    with pytest.raises(trio.WouldBlock):
        limiter.acquire_nowait(tokens=0)


# --------------------------------------------------------------------------- misc


async def test_bad_amounts_are_rejected_before_waiting(
    autojump_clock: trio.testing.MockClock,
) -> None:
    limiter = RateLimiter()
    with pytest.raises(ValueError, match="requests"):
        await limiter.acquire(requests=-1)
    with pytest.raises(ValueError, match="tokens"):
        limiter.acquire_nowait(tokens=float("nan"))
    assert limiter.statistics().acquired == 0


async def test_statistics_and_repr_show_the_state(autojump_clock: trio.testing.MockClock) -> None:
    limiter = RateLimiter(RateLimits(requests_per_minute=60, tokens_per_minute=6000))
    await limiter.acquire(tokens=50)
    limiter.update_from_headers(
        {"x-ratelimit-remaining-requests": "7", "x-ratelimit-limit-requests": "60"}
    )
    async with trio.open_nursery() as nursery:
        nursery.start_soon(limiter.acquire)
        await trio.testing.wait_all_tasks_blocked()
        stats = limiter.statistics()
        assert stats.waiters == 1
        assert "waiters=1" in repr(limiter)
    stats = limiter.statistics()
    assert stats.waiters == 0
    assert stats.acquired == 2
    assert stats.waited == 1
    assert stats.waited_seconds == pytest.approx(1.0)
    assert stats.server_limits is not None
    assert stats.server_limits.remaining_requests == 7
    assert "server_remaining=7req" in repr(limiter)
    assert "/60/min" in repr(limiter)
