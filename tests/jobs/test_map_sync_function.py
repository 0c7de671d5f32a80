"""``jobs.map`` / ``jobs.as_completed`` given a plain (non-async) function: a clear
``TypeError`` at once, not one error outcome per item. A plain function that
returns an awaitable (a lambda around an async call) is fine."""

from __future__ import annotations

import functools

import pytest
import trio
import trio.testing

from trio_openai import jobs


async def test_map_refuses_a_plain_function_at_once(autojump_clock: trio.testing.MockClock) -> None:
    calls: list[int] = []

    def double(x: int) -> int:
        calls.append(x)
        return 2 * x

    with pytest.raises(TypeError, match=r"async_fn must be an async function.*double.*int"):
        await jobs.map(double, range(10_000), limit=8)  # type: ignore[arg-type]
    assert calls == [0]  # one call showed it; no other item was started


async def test_as_completed_refuses_a_plain_function_at_once(
    autojump_clock: trio.testing.MockClock,
) -> None:
    def upper(s: str) -> str:
        return s.upper()

    seen: list[object] = []

    async def collect() -> None:
        async with jobs.as_completed(upper, ["a", "b", "c"], limit=2) as results:  # type: ignore[arg-type]
            async for pair in results:
                seen.append(pair)

    with pytest.raises(TypeError, match="async_fn must be an async function"):
        await collect()
    assert seen == []


async def test_an_async_generator_function_is_refused_before_anything_runs() -> None:
    async def numbers(x: int):  # type: ignore[no-untyped-def]
        yield x

    with pytest.raises(TypeError, match="async generator"):
        await jobs.map(numbers, [1, 2])


async def test_callables_returning_awaitables_still_work(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def slow_double(x: int) -> int:
        await trio.sleep(1)
        return 2 * x

    by_lambda = await jobs.map(lambda x: slow_double(x), range(5), limit=5)
    by_partial = await jobs.map(functools.partial(slow_double), range(5), limit=5)
    assert [o.unwrap() for o in by_lambda] == [o.unwrap() for o in by_partial] == [0, 2, 4, 6, 8]


async def test_a_type_error_raised_inside_an_async_function_is_still_an_outcome(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def picky(x: int) -> int:
        if x == 1:
            raise TypeError("not this one")
        return x

    outcomes = await jobs.map(picky, range(3))
    assert [type(o).__name__ for o in outcomes] == ["Value", "Error", "Value"]
