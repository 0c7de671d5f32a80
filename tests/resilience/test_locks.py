"""The lock hierarchy's bookkeeping: ordered resources held per task, checked in debug
mode, and what the limiter and the pool check at their acquisition points."""

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

import trio_openai
from trio_openai._resilience import RateLimiter, RateLimits
from trio_openai._resilience._locks import (
    BREAKER_ADMISSION,
    LEVEL_BREAKER,
    LEVEL_LIMITER,
    LEVEL_POOL,
    LEVEL_SERVICES,
    LIMITER_PERMIT,
    POOL_LEASE,
    LockOrderError,
    OrderedResource,
    check_attempt,
    check_order,
    debug_enabled,
    held,
    hold,
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


def test_levels_follow_the_documented_hierarchy() -> None:
    assert LEVEL_SERVICES < LEVEL_BREAKER < LEVEL_LIMITER < LEVEL_POOL
    assert [r.level for r in (BREAKER_ADMISSION, LIMITER_PERMIT, POOL_LEASE)] == [2, 3, 4]


def test_what_users_touch_is_exported() -> None:
    assert trio_openai.LockOrderError is LockOrderError
    assert issubclass(LockOrderError, RuntimeError)
    assert issubclass(trio_openai.PoolDeadlockError, trio_openai.APIConnectionError)
    assert "OrderedLock" not in dir(trio_openai)


async def test_taking_resources_in_order_is_fine() -> None:
    taken = []
    for resource in (BREAKER_ADMISSION, LIMITER_PERMIT, POOL_LEASE):
        check_order(resource, "GET /x")
        taken.append(hold(resource, "GET /x"))
    assert held() == tuple(taken)
    for holding in taken:
        holding.release()
    assert held() == ()
    check_order(BREAKER_ADMISSION)  # nothing held any more


async def test_out_of_order_raises_naming_both_resources() -> None:
    lease = hold(POOL_LEASE, "POST /v1/chat/completions")
    try:
        with pytest.raises(LockOrderError) as info:
            check_order(BREAKER_ADMISSION, "GET /v1/models")
        message = str(info.value)
        assert "circuit-breaker admission (level 2) for GET /v1/models" in message
        assert "connection-pool lease (level 4) for POST /v1/chat/completions" in message
        assert "close it" in message
        assert info.value.acquiring is BREAKER_ADMISSION
        assert info.value.held is lease
        assert info.value.what == "GET /v1/models"
        with pytest.raises(LockOrderError, match="rate-limiter permit"):
            check_order(LIMITER_PERMIT)
        with pytest.raises(LockOrderError):  # the same level twice
            check_order(POOL_LEASE)
    finally:
        lease.release()


async def test_releasing_out_of_order_and_twice_keeps_tracking_right() -> None:
    probe = hold(BREAKER_ADMISSION)
    lease = hold(POOL_LEASE)
    probe.release()  # not LIFO
    assert held() == (lease,)
    with pytest.raises(LockOrderError):
        check_order(LIMITER_PERMIT)
    lease.release()
    lease.release()  # idempotent
    assert held() == ()
    assert "released" in repr(lease)


async def test_holdings_are_per_task_and_not_inherited_by_children() -> None:
    lease = hold(POOL_LEASE, "POST /a")
    seen: list[tuple[object, ...]] = []

    async def child() -> None:
        seen.append(held())
        check_order(BREAKER_ADMISSION)  # a child holds nothing of its parent's

    async with trio.open_nursery() as nursery:
        nursery.start_soon(child)
    assert seen == [()]
    assert held() == (lease,)
    lease.release()


async def test_a_holding_moves_to_another_task_and_is_released_from_anywhere() -> None:
    lease = hold(POOL_LEASE, "POST /a")
    got: list[object] = []

    async def reader() -> None:
        lease.move_to(trio.lowlevel.current_task())
        got.append(held())

    async with trio.open_nursery() as nursery:
        nursery.start_soon(reader)
    assert got == [(lease,)]
    assert held() == ()
    lease.release()  # the reader ended; a release from here still forgets it
    assert lease.owner is None


async def test_check_attempt_lets_a_reader_claim_a_handed_over_lease() -> None:
    lease = hold(POOL_LEASE, "POST /a")

    async def reader() -> None:
        lease.move_to(trio.lowlevel.current_task())
        await trio.sleep_forever()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(reader)
        await check_attempt(BREAKER_ADMISSION, "GET /b")  # no error: the reader took it
        nursery.cancel_scope.cancel()
    lease.release()
    kept = hold(POOL_LEASE, "POST /c")
    with pytest.raises(LockOrderError, match="POST /c"):
        await check_attempt(BREAKER_ADMISSION, "GET /b")
    kept.release()


async def test_concurrent_stress_in_order_raises_nothing() -> None:
    resources = [BREAKER_ADMISSION, LIMITER_PERMIT, POOL_LEASE, OrderedResource(5, "extra")]
    rng = random.Random(1234)
    plans = [
        sorted(rng.sample(resources, rng.randint(1, len(resources))), key=lambda r: r.level)
        for _ in range(40)
    ]
    taken = 0

    async def worker(plan: list[OrderedResource], seed: int) -> None:
        nonlocal taken
        local = random.Random(seed)
        for _ in range(15):
            holdings = []
            try:
                for resource in plan:
                    check_order(resource)
                    holdings.append(hold(resource))
                    taken += 1
                    assert held() == tuple(holdings)
                    if local.random() < 0.5:
                        await trio.lowlevel.checkpoint()
            finally:
                for holding in reversed(holdings):
                    holding.release()
            await trio.lowlevel.checkpoint()

    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            for i, plan in enumerate(plans):
                nursery.start_soon(worker, plan, i)
    assert taken == sum(len(plan) for plan in plans) * 15


def test_bad_levels_are_rejected() -> None:
    for bad in (0, -1, True, 1.5):
        with pytest.raises(ValueError, match="level"):
            OrderedResource(bad, "x")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- the limiter


@pytest.mark.usefixtures("debug")
async def test_the_limiter_checks_the_order_in_debug_mode() -> None:
    limiter = RateLimiter(RateLimits(requests_per_minute=60))
    lease = hold(POOL_LEASE, "POST /v1/chat/completions")
    try:
        with pytest.raises(LockOrderError, match="rate-limiter permit"):
            limiter.acquire_nowait()
        with pytest.raises(LockOrderError, match="rate-limiter permit"):
            await limiter.acquire()
        assert limiter.statistics().acquired == 0  # refused before spending
    finally:
        lease.release()
    await limiter.acquire()
    assert held() == ()  # a spent permit is nothing held


@pytest.mark.usefixtures("normal")
async def test_the_limiter_does_not_check_in_normal_mode() -> None:
    limiter = RateLimiter(RateLimits(requests_per_minute=60))
    lease = hold(POOL_LEASE, "POST /v1/chat/completions")
    try:
        limiter.acquire_nowait()
        await limiter.acquire()
    finally:
        lease.release()
    assert limiter.statistics().acquired == 2


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
