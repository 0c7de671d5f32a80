"""``jobs.map`` and ``jobs.as_completed``: order, outcomes, isolation, cancellation,
lazy input and flat memory, and which exceptions come out.

Time is trio's autojump clock wherever calls sleep, so the sleeps are virtual. Every
concurrent test runs under a (virtual) ``fail_after`` so a lost wake-up fails instead
of hanging.
"""

from __future__ import annotations

import gc
import sys
import tracemalloc
from collections.abc import AsyncIterator, Iterator

import outcome
import pytest
import trio
import trio.testing
from hypothesis import given, settings
from hypothesis import strategies as st

from trio_openai import jobs

if sys.version_info < (3, 11):  # pragma: no cover - depends on the interpreter
    from exceptiongroup import BaseExceptionGroup, ExceptionGroup

GUARD = 10_000.0  # virtual seconds


class Tracker:
    """Counts calls running at once, and which items were started and finished."""

    def __init__(self) -> None:
        self.running = 0
        self.peak = 0
        self.started: list[int] = []
        self.finished: list[int] = []
        self.cancelled = 0

    async def call(self, item: tuple[int, float, bool]) -> int:
        index, delay, fail = item
        self.running += 1
        self.peak = max(self.peak, self.running)
        self.started.append(index)
        try:
            await trio.sleep(delay)
            if fail:
                raise ValueError(f"item {index} failed")
            self.finished.append(index)
            return index * 10
        except trio.Cancelled:
            self.cancelled += 1
            raise
        finally:
            self.running -= 1


# --------------------------------------------------------------------------- map


async def test_map_returns_outcomes_in_input_order(autojump_clock: trio.testing.MockClock) -> None:
    tracker = Tracker()
    # Later items finish first, so completion order is the reverse of input order.
    items = [(i, 10.0 - i, False) for i in range(10)]
    with trio.fail_after(GUARD):
        results = await jobs.map(tracker.call, items, limit=4)
    assert [r.unwrap() for r in results] == [i * 10 for i in range(10)]
    assert tracker.peak == 4


async def test_map_failure_is_that_items_outcome_only(
    autojump_clock: trio.testing.MockClock,
) -> None:
    tracker = Tracker()
    # Item 0 fails at once while the others are still sleeping: none is cancelled.
    items = [(0, 0.0, True)] + [(i, 5.0, False) for i in range(1, 6)]
    with trio.fail_after(GUARD):
        results = await jobs.map(tracker.call, items, limit=6)
    assert isinstance(results[0], outcome.Error)
    assert isinstance(results[0].error, ValueError)
    assert str(results[0].error) == "item 0 failed"
    assert [r.unwrap() for r in results[1:]] == [10, 20, 30, 40, 50]
    assert tracker.cancelled == 0


async def test_map_of_an_empty_input_is_an_empty_list() -> None:
    async def never(x: int) -> int:
        raise AssertionError("not called")

    assert await jobs.map(never, [], limit=3) == []


async def test_map_accepts_an_async_iterable(autojump_clock: trio.testing.MockClock) -> None:
    async def numbers() -> AsyncIterator[int]:
        for i in range(20):
            await trio.sleep(0.1)
            yield i

    async def double(x: int) -> int:
        await trio.sleep(1 - x / 40)
        return 2 * x

    with trio.fail_after(GUARD):
        results = await jobs.map(double, numbers(), limit=3)
    assert [r.unwrap() for r in results] == [2 * i for i in range(20)]


async def test_map_raises_what_iterating_the_input_raised(
    autojump_clock: trio.testing.MockClock,
) -> None:
    tracker = Tracker()

    def broken() -> Iterator[tuple[int, float, bool]]:
        yield (0, 100.0, False)
        yield (1, 100.0, False)
        raise KeyError("bad input")

    with trio.fail_after(GUARD), pytest.raises(KeyError, match="bad input"):
        await jobs.map(tracker.call, broken(), limit=5)
    # The calls in flight were cancelled rather than waited for.
    assert trio.current_time() < 100
    assert tracker.cancelled == 2
    assert tracker.running == 0


async def test_map_is_cancelled_with_its_caller(autojump_clock: trio.testing.MockClock) -> None:
    tracker = Tracker()
    items = [(i, 1000.0, False) for i in range(50)]
    with trio.move_on_after(5) as scope:
        await jobs.map(tracker.call, items, limit=8)
    assert scope.cancelled_caught
    assert trio.current_time() == pytest.approx(5)
    assert tracker.started == list(range(8))  # no more were started
    assert tracker.cancelled == 8
    assert tracker.running == 0


async def test_map_shares_a_capacity_limiter(autojump_clock: trio.testing.MockClock) -> None:
    limiter = trio.CapacityLimiter(3)
    first, second = Tracker(), Tracker()
    both = {"running": 0, "peak": 0}

    def counting(tracker: Tracker):  # type: ignore[no-untyped-def]
        async def call(item: tuple[int, float, bool]) -> int:
            both["running"] += 1
            both["peak"] = max(both["peak"], both["running"])
            try:
                return await tracker.call(item)
            finally:
                both["running"] -= 1

        return call

    items = [(i, 1.0, False) for i in range(12)]
    with trio.fail_after(GUARD):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(lambda: jobs.map(counting(first), items, limit=10, limiter=limiter))
            nursery.start_soon(lambda: jobs.map(counting(second), items, limit=10, limiter=limiter))
    assert both["peak"] == 3
    assert len(first.finished) == len(second.finished) == 12


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"limit": 0}, ValueError),
        ({"limit": 2.5}, TypeError),
        ({"limit": True}, TypeError),
        ({"limiter": 3}, TypeError),
    ],
)
async def test_map_rejects_bad_arguments(kwargs: dict[str, object], error: type[Exception]) -> None:
    async def fn(x: int) -> int:
        return x

    with pytest.raises(error):
        await jobs.map(fn, [1, 2], **kwargs)  # type: ignore[arg-type]


async def test_map_rejects_an_input_that_is_not_iterable() -> None:
    async def fn(x: int) -> int:
        return x

    with pytest.raises(TypeError, match="iterable"):
        await jobs.map(fn, 42, limit=2)  # type: ignore[arg-type]


@settings(max_examples=40, deadline=None)
@given(
    plan=st.lists(
        st.tuples(st.integers(0, 20), st.booleans()),
        max_size=40,
    ),
    limit=st.integers(1, 8),
)
def test_map_matches_a_sequential_reference(plan: list[tuple[int, bool]], limit: int) -> None:
    clock = trio.testing.MockClock(autojump_threshold=0)
    tracker = Tracker()
    items = [(i, delay / 4, fail) for i, (delay, fail) in enumerate(plan)]

    async def main() -> list[outcome.Outcome[int]]:
        with trio.fail_after(GUARD):
            return await jobs.map(tracker.call, items, limit=limit)

    # A fresh run per example: hypothesis examples must not share a trio run.
    results = trio.run(main, clock=clock)
    assert len(results) == len(items)
    for (index, _, fail), result in zip(items, results, strict=True):
        if fail:
            assert isinstance(result, outcome.Error)
            assert str(result.error) == f"item {index} failed"
        else:
            assert result.unwrap() == index * 10
    assert tracker.peak <= limit
    assert sorted(tracker.started) == list(range(len(items)))


# --------------------------------------------------------------------------- as_completed


async def test_as_completed_yields_each_index_as_it_finishes(
    autojump_clock: trio.testing.MockClock,
) -> None:
    tracker = Tracker()
    items = [(i, 10.0 - i, i % 3 == 0) for i in range(10)]
    seen: list[int] = []
    with trio.fail_after(GUARD):
        async with jobs.as_completed(tracker.call, items, limit=10) as results:
            async for index, result in results:
                seen.append(index)
                if index % 3 == 0:
                    assert isinstance(result, outcome.Error)
                else:
                    assert result.unwrap() == index * 10
    assert seen == list(range(9, -1, -1))  # finishing order: the shortest sleep first
    assert tracker.cancelled == 0


async def test_as_completed_statistics_and_repr(autojump_clock: trio.testing.MockClock) -> None:
    tracker = Tracker()
    items = [(i, 1.0, i == 1) for i in range(6)]
    with trio.fail_after(GUARD):
        async with jobs.as_completed(tracker.call, items, limit=2, buffer=3) as results:
            await trio.testing.wait_all_tasks_blocked()
            stats = results.statistics()
            assert (stats.limit, stats.started, stats.running, stats.finished) == (2, 2, 2, 0)
            async for _ in results:
                pass
            stats = results.statistics()
            assert (stats.started, stats.finished, stats.failed, stats.running) == (6, 6, 1, 0)
            assert stats.exhausted
            assert stats.buffered == 0
            assert repr(results) == (
                "<jobs.Results done limit=2 started=6 finished=6 failed=1 buffered=0>"
            )


async def test_leaving_as_completed_early_cancels_the_rest(
    autojump_clock: trio.testing.MockClock,
) -> None:
    tracker = Tracker()
    items = [(i, 1.0 if i == 0 else 1000.0, False) for i in range(100)]
    with trio.fail_after(GUARD):
        async with jobs.as_completed(tracker.call, items, limit=5) as results:
            async for index, _ in results:
                assert index == 0
                break
    assert trio.current_time() == pytest.approx(1.0)
    assert tracker.cancelled == 5  # items 1..5 were in flight
    assert tracker.running == 0
    assert len(tracker.started) == 6


async def test_as_completed_is_cancelled_with_its_caller(
    autojump_clock: trio.testing.MockClock,
) -> None:
    tracker = Tracker()
    items = [(i, 1000.0, False) for i in range(100)]
    with trio.move_on_after(3) as scope:
        async with jobs.as_completed(tracker.call, items, limit=7) as results:
            async for _ in results:
                raise AssertionError("nothing finishes")
    assert scope.cancelled_caught
    assert tracker.cancelled == 7
    assert tracker.running == 0


async def test_an_error_in_the_block_comes_out_as_itself(
    autojump_clock: trio.testing.MockClock,
) -> None:
    tracker = Tracker()
    items = [(i, 1.0 + i, False) for i in range(20)]

    async def consume() -> None:
        async with jobs.as_completed(tracker.call, items, limit=4) as results:
            async for _ in results:
                raise RuntimeError("consumer gave up")

    with trio.fail_after(GUARD), pytest.raises(RuntimeError, match="consumer gave up") as info:
        await consume()
    assert not isinstance(info.value, BaseExceptionGroup)
    assert tracker.running == 0


async def test_keyboard_interrupt_in_a_call_propagates_alone(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def call(x: int) -> int:
        await trio.sleep(x)
        if x == 3:
            raise KeyboardInterrupt
        return x

    async def consume() -> None:
        async with jobs.as_completed(call, range(10), limit=10) as results:
            async for _ in results:
                pass

    with trio.fail_after(GUARD), pytest.raises(KeyboardInterrupt):
        await jobs.map(call, range(10), limit=10)
    with trio.fail_after(GUARD), pytest.raises(KeyboardInterrupt):
        await consume()


async def test_an_exception_group_from_a_call_is_its_outcome() -> None:
    async def call(x: int) -> int:
        raise ExceptionGroup("inner nursery", [ValueError(x)])

    results = await jobs.map(call, [1, 2], limit=2)
    for result in results:
        assert isinstance(result, outcome.Error)
        assert isinstance(result.error, ExceptionGroup)


async def test_as_completed_raises_the_input_error_after_the_finished_outcomes(
    autojump_clock: trio.testing.MockClock,
) -> None:
    tracker = Tracker()

    async def broken() -> AsyncIterator[tuple[int, float, bool]]:
        yield (0, 1.0, False)
        yield (1, 1.0, False)
        await trio.sleep(5)
        yield (2, 1000.0, False)
        raise OSError("input went away")

    seen: list[int] = []

    async def consume() -> None:
        async with jobs.as_completed(tracker.call, broken(), limit=4) as results:
            async for index, _ in results:
                seen.append(index)

    with trio.fail_after(GUARD), pytest.raises(OSError, match="input went away"):
        await consume()
    assert sorted(seen) == [0, 1]
    assert tracker.cancelled == 1  # item 2 was in flight


async def test_as_completed_raises_the_input_error_at_exit_if_not_iterated() -> None:
    async def fn(x: int) -> int:
        return x

    def broken() -> Iterator[int]:
        yield 1
        raise OSError("input went away")

    async def enter_and_leave() -> None:
        async with jobs.as_completed(fn, broken(), limit=2):
            await trio.sleep(0.01)

    with pytest.raises(OSError, match="input went away"):
        await enter_and_leave()


async def test_iterating_results_is_a_cancel_point(autojump_clock: trio.testing.MockClock) -> None:
    async def fn(x: int) -> int:
        return x

    async with jobs.as_completed(fn, range(1000), limit=4) as results:
        with trio.CancelScope() as scope:
            scope.cancel()
            with pytest.raises(trio.Cancelled):
                await results.__anext__()


# --------------------------------------------------------------------------- lazy input


async def test_input_is_pulled_lazily(autojump_clock: trio.testing.MockClock) -> None:
    pulled = 0

    def numbers() -> Iterator[int]:
        nonlocal pulled
        for i in range(10_000):
            pulled += 1
            yield i

    async def fn(x: int) -> int:
        await trio.sleep(0.001)
        return x

    consumed = 0
    ahead = 0
    with trio.fail_after(GUARD):
        async with jobs.as_completed(fn, numbers(), limit=10, buffer=5) as results:
            async for _ in results:
                consumed += 1
                ahead = max(ahead, pulled - consumed)
                if consumed % 100 == 0:
                    await trio.sleep(0.5)  # a slow consumer must not make the input run ahead
    assert consumed == 10_000
    # At most `limit` items in calls (or holding a finished outcome) + `buffer` waiting.
    assert ahead <= 10 + 5


async def trivial(x: int) -> int:
    return x


async def drain(n: int, sample_every: int = 0) -> tuple[int, list[int]]:
    """Run ``trivial`` over a generator of n items (limit 10); sample live blocks."""
    count = 0
    blocks: list[int] = []

    def numbers() -> Iterator[int]:
        yield from range(n)

    async with jobs.as_completed(trivial, numbers(), limit=10) as results:
        async for _index, result in results:
            count += 1
            if sample_every and count % sample_every == 0:
                blocks.append(sys.getallocatedblocks())
            del result
    return count, blocks


async def test_a_million_items_keep_memory_flat() -> None:
    # tracemalloc costs ~30 us per item on this path (30+ s for a million), so the
    # million-item run counts live allocator blocks (sys.getallocatedblocks, exact and
    # free); the tracemalloc test below measures peak bytes on smaller runs.
    gc.collect()
    count, blocks = await drain(1_000_000, sample_every=10_000)
    assert count == 1_000_000
    baseline = blocks[0]
    growth = max(blocks) - baseline
    # One leaked object per item would be ~1,000,000 blocks.
    assert growth < 2_000, (baseline, max(blocks))


async def test_peak_memory_does_not_grow_with_the_input() -> None:
    await drain(1000)  # warm up caches and code paths
    gc.collect()
    tracemalloc.start()
    try:
        await drain(5_000)
        _, small = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        await drain(50_000)
        _, large = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Ten times the items: the peak must not grow (a leak of one small object per
    # item would add ~2.5 MB here).
    assert large < small + 64 * 1024, (small, large)
    assert large < 512 * 1024


async def test_many_trivial_items_all_arrive_with_map() -> None:
    results = await jobs.map(trivial, range(100_000), limit=10)
    assert [r.unwrap() for r in results[:5]] == [0, 1, 2, 3, 4]
    assert len(results) == 100_000
    assert results[-1].unwrap() == 99_999


async def test_a_call_that_never_yields_does_not_starve_other_tasks() -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await trio.lowlevel.checkpoint()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(ticker)
        await jobs.map(trivial, range(20_000), limit=2)
        nursery.cancel_scope.cancel()
    # Workers yield at least every 64 items: the ticker ran hundreds of times.
    assert ticks >= 20_000 // 64 // 2
