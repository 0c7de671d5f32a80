"""Tests of _slots: the pool's budget of exchanges, first come first served."""

from __future__ import annotations

import trio
import trio.testing

from trio_openai._http._slots import Slots


async def test_slots_are_taken_until_none_is_free() -> None:
    slots = Slots(2)
    assert slots.take_nowait() and slots.take_nowait()
    assert not slots.take_nowait()
    assert (slots.borrowed, slots.waiting) == (2, 0)
    slots.give_back()
    assert slots.borrowed == 1
    with trio.testing.assert_checkpoints():
        await slots.wait()  # a free slot: taken at once, still a checkpoint
    assert slots.borrowed == 2


async def test_a_returned_slot_goes_to_the_longest_waiter_not_a_newcomer() -> None:
    slots = Slots(1)
    assert slots.take_nowait()
    order: list[int] = []

    async def waiter(n: int) -> None:
        await slots.wait()
        order.append(n)

    async with trio.open_nursery() as nursery:
        for n in range(3):
            nursery.start_soon(waiter, n)
            await trio.testing.wait_all_tasks_blocked()
        assert slots.waiting == 3
        slots.give_back()  # handed to waiter 0: a newcomer finds none free
        assert not slots.take_nowait()
        assert slots.borrowed == 1
        await trio.testing.wait_all_tasks_blocked()
        slots.give_back()
        await trio.testing.wait_all_tasks_blocked()
        slots.give_back()
    assert order == [0, 1, 2]
    assert (slots.borrowed, slots.waiting) == (1, 0)


async def test_a_waiter_cancelled_while_parked_holds_nothing() -> None:
    slots = Slots(1)
    assert slots.take_nowait()
    with trio.move_on_after(0.01) as scope:
        await slots.wait()
    assert scope.cancelled_caught
    assert (slots.borrowed, slots.waiting) == (1, 0)
    slots.give_back()
    assert slots.borrowed == 0


async def test_a_slot_handed_over_is_owned_even_if_the_waiter_is_cancelled_then() -> None:
    slots = Slots(1)
    assert slots.take_nowait()
    got: list[bool] = []

    async def waiter(scope: trio.CancelScope) -> None:
        with scope:
            await slots.wait()
            got.append(True)

    scope = trio.CancelScope()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(waiter, scope)
        await trio.testing.wait_all_tasks_blocked()
        slots.give_back()  # the waiter is woken with the slot...
        scope.cancel()  # ...and cancelled before it runs: it still holds the slot
    assert got == [True]
    assert slots.borrowed == 1
