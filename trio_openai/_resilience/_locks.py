"""Ordered locks: trio locks that carry their place in the lock hierarchy.

Lock hierarchy (seed section 12.3), highest first
-------------------------------------------------
A task that holds several locks must have taken them in this order: it may only take
a lock whose level number is strictly greater than that of every lock it holds.

====  ==================  =====================================================
level name                guards
====  ==================  =====================================================
1     services            lazy creation of the client's services (first access)
2     breaker state       circuit-breaker transitions (``_breaker.py``)
3     limiter limits      server-reported rate limits (``_limiter.py``)
4     pool internals      the connection pool's bookkeeping (``_http/_pool.py``)
====  ==================  =====================================================

Rules kept everywhere
---------------------
- **No lock is held across network I/O.** Take it, mutate, release; send and receive
  outside. A lock held while waiting on a peer turns one slow server into a stall of
  every task that needs the lock.
- **In trio, code without a checkpoint is atomic.** Only one task runs at a time and
  it switches only at an ``await`` that checkpoints. The sans-IO structures (breaker,
  rate budget, pool bookkeeping) are mutated by plain synchronous calls and therefore
  need no lock at all; today none of levels 2-4 needs one. A lock is needed only when
  a critical section must ``await`` (e.g. creating a service that does I/O once). Do
  not add a checkpoint to a critical section that has none just to take a lock.
- Check order, never guess: in debug mode every :class:`OrderedLock` checks the order
  before it waits, so a would-be deadlock becomes an immediate :class:`LockOrderError`
  naming both locks.

Debug mode is on when Python runs with ``-X dev`` (``sys.flags.dev_mode``) or the
environment has ``TRIO_OPENAI_DEBUG=1``, evaluated once when this module loads;
:func:`set_debug` overrides it for locks created afterwards (tests use it).

Options rejected
----------------
- *A check on every acquire, branching on a flag*: normal mode binds the
  ``trio.Lock`` methods straight onto the instance at construction, so an acquire costs
  exactly what ``trio.Lock.acquire`` costs.
- *Tracking held locks in a contextvar*: a child task inherits its parent's context
  but not its locks; a dict keyed by ``trio.lowlevel.current_task()`` is exact.
- *Re-entrant locks*: taking a lock twice is an ordering bug here and raises.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import trio
from trio.lowlevel import Task, current_task

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from types import TracebackType

__all__ = [
    "LEVEL_BREAKER",
    "LEVEL_LIMITER",
    "LEVEL_POOL",
    "LEVEL_SERVICES",
    "LockOrderError",
    "OrderedLock",
    "OrderedLockStatistics",
    "debug_enabled",
    "held_locks",
    "set_debug",
]

LEVEL_SERVICES: Final = 1
LEVEL_BREAKER: Final = 2
LEVEL_LIMITER: Final = 3
LEVEL_POOL: Final = 4


def _debug_from_environment() -> bool:
    return bool(sys.flags.dev_mode) or os.environ.get("TRIO_OPENAI_DEBUG", "") == "1"


_debug: bool = _debug_from_environment()

# Debug mode only: the ordered locks each task holds, in acquisition order. A task
# with no locks has no entry, so the dict holds no finished task.
_held: dict[Task, list[OrderedLock]] = {}


def debug_enabled() -> bool:
    """Return whether locks created now check the lock order."""
    return _debug


def set_debug(enabled: bool | None) -> bool:
    """Turn order checking on or off for locks created after this call.

    Args:
        enabled: ``True``/``False``, or ``None`` to re-read ``-X dev`` and
            ``TRIO_OPENAI_DEBUG``.

    Returns:
        The previous setting, so a test can restore it.
    """
    global _debug
    previous = _debug
    _debug = _debug_from_environment() if enabled is None else bool(enabled)
    return previous


def held_locks() -> tuple[OrderedLock, ...]:
    """Return the checked locks the current task holds, oldest first.

    Only locks created in debug mode are tracked; must run inside trio.
    """
    return tuple(_held.get(current_task(), ()))


class LockOrderError(RuntimeError):
    """A task tried to take a lock out of hierarchy order (debug mode only).

    Attributes:
        acquiring: the lock the task tried to take.
        held: the lock it holds that ranks at or below the one it wanted.
    """

    def __init__(self, acquiring: OrderedLock, held: OrderedLock) -> None:
        if acquiring is held:
            message = f"lock {acquiring.name!r} (level {acquiring.level}) is already held"
        else:
            message = (
                f"lock order violated: acquiring {acquiring.name!r} (level "
                f"{acquiring.level}) while holding {held.name!r} (level {held.level}); "
                f"locks must be taken in increasing level order"
            )
        super().__init__(message)
        self.acquiring = acquiring
        self.held = held


@dataclass(frozen=True, slots=True)
class OrderedLockStatistics:
    """A snapshot from :meth:`OrderedLock.statistics`.

    Attributes:
        name: the lock's name.
        level: its place in the hierarchy (1 = highest).
        locked: whether it is held.
        owner: the task holding it, or ``None``.
        tasks_waiting: tasks blocked in ``acquire``.
        checked: whether this lock checks the order (created in debug mode).
    """

    name: str
    level: int
    locked: bool
    owner: Task | None
    tasks_waiting: int
    checked: bool


class OrderedLock:
    """A ``trio.Lock`` with a level in the lock hierarchy and a name.

    Use as ``async with lock:`` (enter acquires and is a checkpoint; exit releases and
    is not), or call :meth:`acquire` / :meth:`acquire_nowait` and :meth:`release`.
    In debug mode (see the module docstring) ``acquire`` and ``acquire_nowait`` raise
    :class:`LockOrderError` before waiting if the task already holds a lock whose level
    is not smaller than this one's; in normal mode they *are* the ``trio.Lock``'s.

    Args:
        level: 1 for the highest rank (taken first); see ``LEVEL_*``.
        name: a short name used in errors and reprs.

    Attributes:
        acquire: ``async () -> None``; wait for and take the lock.
        acquire_nowait: ``() -> None``; take it or raise ``trio.WouldBlock``.
        release: ``() -> None``; release it (the owning task only, else
            ``RuntimeError``).
    """

    __slots__ = ("_checked", "_lock", "acquire", "acquire_nowait", "level", "name", "release")

    acquire: Callable[[], Awaitable[None]]
    acquire_nowait: Callable[[], None]
    release: Callable[[], None]

    def __init__(self, level: int, name: str) -> None:
        if isinstance(level, bool) or not isinstance(level, int) or level < 1:
            raise ValueError(f"OrderedLock level must be an int >= 1, got {level!r}")
        self.level = level
        self.name = name
        self._lock = trio.Lock()
        self._checked = _debug
        if self._checked:
            self.acquire = self._checked_acquire
            self.acquire_nowait = self._checked_acquire_nowait
            self.release = self._checked_release
        else:
            self.acquire = self._lock.acquire
            self.acquire_nowait = self._lock.acquire_nowait
            self.release = self._lock.release

    # ---------------------------------------------------------------- debug paths

    def _check_order(self, task: Task) -> None:
        for other in _held.get(task, ()):
            if other.level >= self.level:
                raise LockOrderError(self, other)

    def _record(self, task: Task) -> None:
        _held.setdefault(task, []).append(self)

    async def _checked_acquire(self) -> None:
        task = current_task()
        self._check_order(task)
        await self._lock.acquire()
        self._record(task)

    def _checked_acquire_nowait(self) -> None:
        task = current_task()
        self._check_order(task)
        self._lock.acquire_nowait()
        self._record(task)

    def _checked_release(self) -> None:
        task = current_task()
        self._lock.release()  # raises RuntimeError if this task is not the owner
        held = _held.get(task)
        if held is not None:
            for i, lock in enumerate(held):
                if lock is self:
                    del held[i]
                    break
            if not held:
                del _held[task]

    # ---------------------------------------------------------------- common

    def locked(self) -> bool:
        """Return whether the lock is held by any task."""
        return self._lock.locked()

    def statistics(self) -> OrderedLockStatistics:
        """Return a frozen snapshot of the lock's state."""
        s = self._lock.statistics()
        return OrderedLockStatistics(
            name=self.name,
            level=self.level,
            locked=s.locked,
            owner=s.owner,
            tasks_waiting=s.tasks_waiting,
            checked=self._checked,
        )

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def __repr__(self) -> str:
        state = "locked" if self._lock.locked() else "unlocked"
        mode = " checked" if self._checked else ""
        return f"<OrderedLock {self.name!r} level={self.level} {state}{mode}>"
