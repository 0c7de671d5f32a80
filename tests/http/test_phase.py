"""Tests of _phase: a phase limit under a total deadline, and the error each raises.

On trio's autojump clock: no real sleeping, exact times.
"""

from __future__ import annotations

import math

import pytest
import trio
import trio.testing

from trio_openai._http import (
    ConnectTimeout,
    PoolTimeout,
    ReadTimeout,
    TotalTimeout,
    TransportTimeout,
    WriteTimeout,
)
from trio_openai._http._phase import PhaseScope

INF = math.inf


async def stall(scope: PhaseScope) -> None:
    with scope:
        await trio.sleep_forever()


@pytest.mark.parametrize(
    ("limit", "total", "error", "at"),
    [
        (2.0, 10.0, ReadTimeout, 2.0),  # the phase limit comes first
        (10.0, 3.0, TotalTimeout, 3.0),  # the total deadline comes first
        (3.0, 3.0, TotalTimeout, 3.0),  # a tie is the total's
        (None, 4.0, TotalTimeout, 4.0),  # no phase limit
    ],
)
async def test_the_nearer_deadline_fires_and_names_itself(
    autojump_clock: trio.testing.MockClock,
    limit: float | None,
    total: float,
    error: type[TransportTimeout],
    at: float,
) -> None:
    start = trio.current_time()
    with pytest.raises(TransportTimeout) as info:
        await stall(PhaseScope(start + total, total, ReadTimeout, limit))
    assert type(info.value) is error
    assert info.value.limit == (total if error is TotalTimeout else limit)
    assert trio.current_time() - start == pytest.approx(at)
    assert info.value.__suppress_context__  # the Cancelled is not shown as a cause


@pytest.mark.parametrize("error", [PoolTimeout, ConnectTimeout, WriteTimeout, ReadTimeout])
async def test_each_phase_raises_its_own_error(
    autojump_clock: trio.testing.MockClock, error: type[TransportTimeout]
) -> None:
    with pytest.raises(error, match=f"{error.phase} timeout"):
        await stall(PhaseScope(INF, None, error, 1.0))


async def test_without_limits_nothing_times_out(autojump_clock: trio.testing.MockClock) -> None:
    with PhaseScope(INF, None, ReadTimeout, None):
        await trio.sleep(10_000)


async def test_enter_moves_one_scope_from_phase_to_phase(
    autojump_clock: trio.testing.MockClock,
) -> None:
    start = trio.current_time()

    async def write_then_read() -> None:
        with PhaseScope(start + 100, 100.0) as phases:
            assert phases.enter(WriteTimeout, 5.0) == start + 5
            await trio.sleep(4)  # within the write limit
            assert phases.enter(ReadTimeout, 3.0, response_started=True) == start + 7
            await trio.sleep_forever()

    with pytest.raises(ReadTimeout) as info:
        await write_then_read()
    assert trio.current_time() - start == pytest.approx(7)
    assert info.value.response_started
    assert info.value.limit == 3.0


async def test_a_phase_past_the_total_gets_the_total_deadline(
    autojump_clock: trio.testing.MockClock,
) -> None:
    start = trio.current_time()
    phases = PhaseScope(start + 2, 2.0)
    assert phases.enter(ReadTimeout, 5.0) == start + 2
    with pytest.raises(TotalTimeout):
        await stall(phases)


async def test_a_callers_cancel_passes_through_untouched(
    autojump_clock: trio.testing.MockClock,
) -> None:
    with trio.move_on_after(1) as outer:
        with PhaseScope(INF, None, ReadTimeout, 10.0):
            await trio.sleep_forever()
    assert outer.cancelled_caught


async def test_other_errors_propagate_as_they_are() -> None:
    async def fail() -> None:
        with PhaseScope(INF, None, ReadTimeout, 10.0):
            await trio.lowlevel.checkpoint()
            raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        await fail()
