"""OrderedLock: the lock hierarchy is enforced in debug mode and free otherwise."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest
import trio
import trio.lowlevel
import trio.testing

from trio_openai._resilience._locks import (
    LEVEL_BREAKER,
    LEVEL_LIMITER,
    LEVEL_POOL,
    LEVEL_SERVICES,
    LockOrderError,
    OrderedLock,
    debug_enabled,
    held_locks,
    set_debug,
)

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def debug() -> Iterator[None]:
    previous = set_debug(True)
    try:
        yield
    finally:
        set_debug(previous)


@pytest.fixture
def normal() -> Iterator[None]:
    previous = set_debug(False)
    try:
        yield
    finally:
        set_debug(previous)


def hierarchy() -> list[OrderedLock]:
    return [
        OrderedLock(LEVEL_SERVICES, "services"),
        OrderedLock(LEVEL_BREAKER, "breaker"),
        OrderedLock(LEVEL_LIMITER, "limiter"),
        OrderedLock(LEVEL_POOL, "pool"),
    ]


def test_levels_follow_the_documented_hierarchy() -> None:
    assert LEVEL_SERVICES < LEVEL_BREAKER < LEVEL_LIMITER < LEVEL_POOL


# --------------------------------------------------------------------------- debug


@pytest.mark.usefixtures("debug")
async def test_taking_locks_in_order_is_fine() -> None:
    services, breaker, limiter, pool = hierarchy()
    async with services, breaker, limiter, pool:
        assert held_locks() == (services, breaker, limiter, pool)
    assert held_locks() == ()
    async with breaker, pool:  # skipping levels is fine
        assert pool.locked()
    assert not pool.locked()


@pytest.mark.usefixtures("debug")
async def test_out_of_order_raises_naming_both_locks() -> None:
    services, breaker, limiter, _ = hierarchy()
    async with limiter:
        with pytest.raises(LockOrderError) as info:
            await breaker.acquire()
        assert "'breaker' (level 2)" in str(info.value)
        assert "'limiter' (level 3)" in str(info.value)
        assert info.value.acquiring is breaker
        assert info.value.held is limiter
        assert not breaker.locked()  # refused before taking it
        with pytest.raises(LockOrderError, match="services"):
            async with services:
                pass
        assert held_locks() == (limiter,)
    assert not limiter.locked()


@pytest.mark.usefixtures("debug")
async def test_same_level_and_reentry_are_refused() -> None:
    a = OrderedLock(LEVEL_LIMITER, "limits-a")
    b = OrderedLock(LEVEL_LIMITER, "limits-b")
    async with a:
        with pytest.raises(LockOrderError, match="limits-b"):
            await b.acquire()
        with pytest.raises(LockOrderError, match="already held"):
            await a.acquire()


@pytest.mark.usefixtures("debug")
async def test_acquire_nowait_checks_the_order_too() -> None:
    _, breaker, limiter, _ = hierarchy()
    limiter.acquire_nowait()
    try:
        with pytest.raises(LockOrderError):
            breaker.acquire_nowait()
    finally:
        limiter.release()
    breaker.acquire_nowait()
    breaker.release()


@pytest.mark.usefixtures("debug")
async def test_releasing_out_of_order_keeps_tracking_right() -> None:
    services, breaker, limiter, pool = hierarchy()
    await services.acquire()
    await limiter.acquire()
    services.release()  # not LIFO
    assert held_locks() == (limiter,)
    with pytest.raises(LockOrderError):
        await breaker.acquire()
    await pool.acquire()
    pool.release()
    limiter.release()
    assert held_locks() == ()
    await breaker.acquire()  # nothing held any more
    breaker.release()


@pytest.mark.usefixtures("debug")
async def test_order_is_per_task() -> None:
    _, breaker, limiter, _ = hierarchy()
    async with limiter, trio.open_nursery() as nursery:
        # Another task holds nothing, so it may take the higher-ranked lock.
        nursery.start_soon(breaker.acquire)
        await trio.testing.wait_all_tasks_blocked()
    assert breaker.locked()
    assert breaker.statistics().owner is not trio.lowlevel.current_task()


@pytest.mark.usefixtures("debug")
async def test_release_by_a_task_that_does_not_hold_it_fails() -> None:
    _, breaker, _, _ = hierarchy()
    with pytest.raises(RuntimeError):
        breaker.release()


@pytest.mark.usefixtures("debug")
async def test_concurrent_stress_in_order_raises_nothing() -> None:
    locks = [*hierarchy(), OrderedLock(5, "extra")]
    rng = random.Random(1234)
    plans = [
        [sorted(rng.sample(locks, rng.randint(1, len(locks))), key=lambda lk: lk.level)]
        for _ in range(40)
    ]
    taken = 0

    async def worker(plan: list[OrderedLock], seed: int) -> None:
        nonlocal taken
        local = random.Random(seed)
        for _ in range(15):
            acquired: list[OrderedLock] = []
            try:
                for lock in plan:
                    await lock.acquire()
                    acquired.append(lock)
                    taken += 1
                    assert held_locks() == tuple(acquired)
                    if local.random() < 0.5:
                        await trio.lowlevel.checkpoint()
            finally:
                for lock in reversed(acquired):
                    lock.release()
            await trio.lowlevel.checkpoint()

    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            for i, (plan,) in enumerate(plans):
                nursery.start_soon(worker, plan, i)
    assert taken == sum(len(plan) for (plan,) in plans) * 15
    for lock in locks:
        stats = lock.statistics()
        assert not stats.locked
        assert stats.tasks_waiting == 0


# --------------------------------------------------------------------------- normal


@pytest.mark.usefixtures("normal")
async def test_normal_mode_does_not_check() -> None:
    _, breaker, limiter, _ = hierarchy()
    async with limiter, breaker:
        assert held_locks() == ()  # nothing tracked
    assert not breaker.statistics().checked
    assert "checked" not in repr(breaker)


@pytest.mark.usefixtures("normal")
async def test_normal_mode_is_a_plain_trio_lock() -> None:
    lock = OrderedLock(LEVEL_POOL, "pool")
    with trio.testing.assert_checkpoints():
        async with lock:
            assert lock.locked()
            with pytest.raises(RuntimeError, match="re-acquire"):  # trio's own check
                lock.acquire_nowait()
    assert not lock.locked()
    async with trio.open_nursery() as nursery:
        await lock.acquire()
        nursery.start_soon(lock.acquire)
        await trio.testing.wait_all_tasks_blocked()
        stats = lock.statistics()
        assert stats.tasks_waiting == 1
        assert stats.owner is trio.lowlevel.current_task()
        assert (stats.name, stats.level) == ("pool", LEVEL_POOL)
        assert "'pool' level=4 locked" in repr(lock)
        lock.release()
    assert lock.statistics().owner is not trio.lowlevel.current_task()


def test_bad_levels_are_rejected() -> None:
    for bad in (0, -1, True, 1.5):
        with pytest.raises(ValueError, match="level"):
            OrderedLock(bad, "x")  # type: ignore[arg-type]


def test_set_debug_returns_the_previous_setting() -> None:
    original = debug_enabled()
    try:
        set_debug(True)
        assert set_debug(False) is True
        assert debug_enabled() is False
    finally:
        set_debug(original)


@pytest.mark.parametrize(
    ("flags", "env", "expected"),
    [
        ([], {}, False),
        (["-X", "dev"], {}, True),
        ([], {"TRIO_OPENAI_DEBUG": "1"}, True),
        ([], {"TRIO_OPENAI_DEBUG": "0"}, False),
    ],
)
def test_debug_mode_comes_from_dev_mode_or_the_environment(
    flags: list[str], env: dict[str, str], expected: bool
) -> None:
    environ = {k: v for k, v in os.environ.items() if k != "TRIO_OPENAI_DEBUG"}
    environ.pop("PYTHONDEVMODE", None)
    environ.update(env)
    code = "from trio_openai._resilience import _locks; print(_locks.debug_enabled())"
    result = subprocess.run(
        [sys.executable, *flags, "-c", code],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.strip() == str(expected)
