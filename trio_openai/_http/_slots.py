"""The pool's budget of exchanges in flight: at most ``total`` at once, waiters in order.

Theory of operation
-------------------
What ``trio.CapacityLimiter`` does for the pool, without what the pool does not use
(borrower sets, per-borrower checks, KI protection wrappers), since taking and
returning a slot is on the path of every request: :meth:`Slots.take_nowait` takes a
free slot, or says there is none; :meth:`Slots.wait` parks the task in a FIFO
``trio.lowlevel.ParkingLot`` until a slot is handed to it; :meth:`Slots.give_back`
hands the slot straight to the longest waiter if there is one (so a newcomer can
never take it first), else frees it.

Rules kept: a slot is handed over only to a parked task, and a task woken by the
hand-over owns the slot even if its scope is cancelled at that moment (trio delivers
the wake-up, not the cancellation); a task cancelled while parked is removed from the
lot and owns nothing. Bookkeeping is synchronous (atomic under trio).
"""

from __future__ import annotations

import trio

__all__ = ["Slots"]


class Slots:
    """Up to ``total`` slots, handed out first come, first served."""

    __slots__ = ("_lot", "borrowed", "total")

    def __init__(self, total: int) -> None:
        self.total = total
        self.borrowed = 0  # slots held, including those handed to woken waiters
        self._lot = trio.lowlevel.ParkingLot()

    @property
    def waiting(self) -> int:
        """Tasks parked for a slot."""
        return len(self._lot)

    def take_nowait(self) -> bool:
        """Take a slot if one is free and nobody waits for one; say whether it was."""
        if self.borrowed < self.total and not self._lot:
            self.borrowed += 1
            return True
        return False

    async def wait(self) -> None:
        """Wait (in order) until a slot is handed to this task; it then holds it.

        Cancellable: a task cancelled while waiting holds nothing.
        """
        await trio.lowlevel.checkpoint_if_cancelled()
        if self.take_nowait():
            # (shielded: a cancel here would leave the slot taken and unowned)
            await trio.lowlevel.cancel_shielded_checkpoint()
            return
        await self._lot.park()

    def give_back(self) -> None:
        """Return a slot: to the longest waiter if any (it holds it now), else free."""
        lot = self._lot
        if not (lot and lot.unpark()):
            self.borrowed -= 1
