"""The lock hierarchy: the resources a task holds across checkpoints, and their order.

Theory of operation
-------------------
In trio, code between two checkpoints runs without any other task interleaving, so
the client's shared bookkeeping (breaker transitions, the rate budget, the pool's idle
lists and counters, the metrics) is changed in short synchronous sections that need
no lock. What can deadlock is what a task *holds across a checkpoint* while it waits
for something else. Those are the ordered resources, highest first (seed section 12.3,
DESIGN.md section 6):

1. **services**: nothing is held. Services are created by synchronous code on first
   access, so no lock guards them; the level stays so the order reads as designed.
2. **breaker admission**: a half-open *probe ticket*, held from ``before_request`` to
   the attempt's recorded outcome (a stream's at its response head). Acquiring never
   waits (a refusal is ``CircuitOpenError``). While holding it the task waits for the
   limiter (3), the pool (4) and the exchange up to the response head.
3. **rate-limiter permit**: nothing is held. The permit is *spent* (budget taken)
   when ``acquire`` returns; acquiring may wait (FIFO, for time to refill the budget).
   It is a level for the order check only.
4. **pool lease**: a connection in use, from the pool's token until the response ends
   (body read to the end, or closed); an open stream holds one. Acquiring may wait for
   another task's lease. While holding it only network I/O is awaited: never another
   lease, the limiter or the breaker.

A task may only acquire a resource whose level is strictly greater than that of every
resource it holds; it releases a lower one (a higher level number) before waiting on a
higher one. The request path keeps that order by construction: each attempt asks the
breaker, then the limiter, then the pool; a failed attempt's response is read and
closed (its lease returned) before the retry backoff and before the next admission.

Which task holds a pool lease: the one that sent the request, until another task reads
from the response (``Response.receive_chunk`` hands the lease to the reader), so a
stream handed to a consumer task belongs to the consumer.

Checks
------
- **Every mode**: a request that the pool can never serve because every connection is
  held by leases of the *same task* (typically: a stream open on a client with
  ``max_connections=1``, and another call inside its loop) fails at once with
  ``PoolDeadlockError`` naming the holder, instead of waiting for the pool timeout.
  That check is the pool's own (``_http/_pool.py``), since it is cheap there.
- **Debug mode** (``python -X dev`` or ``TRIO_OPENAI_DEBUG=1``, read once with
  ``import trio_openai``; :func:`set_debug` overrides it for clients created
  afterwards): every acquisition checks what the task holds and raises
  :class:`LockOrderError` naming both resources when the order is broken, e.g. a call
  made while the same task holds an open stream, whatever the pool size (under load,
  that is the deadlock above). The breaker and limiter levels are checked by the
  orchestrator and the limiter; the pool's by a :class:`PoolLeaseChecker` the
  orchestrator installs on its pool. The switch itself is ``_debug``, so that this
  module loads only when a client is made in debug mode.

Options rejected
----------------
- *Tracking holdings in a contextvar*: a child task inherits a copy of its parent's
  context, so it would believe it holds its parent's stream, and a release in another
  task could not update the owner's copy. A dict keyed by
  ``trio.lowlevel.current_task()``, kept in a ``RunVar`` (one per trio run, dropped
  with it), is exact.
- *A ``trio.Lock`` per level* (the former ``OrderedLock``): no critical section of the
  library awaits, so no such lock was ever taken; it was removed with its tests.
- *Checking in normal mode too*: the bookkeeping costs a dict lookup and a list
  append per resource; normal mode pays one ``is None`` test per acquisition instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, final

import trio
from trio.lowlevel import RunVar, Task, current_task

from ._debug import debug_enabled as debug_enabled
from ._debug import set_debug as set_debug

if TYPE_CHECKING:
    from .._http import Lease, PreparedRequest

__all__ = [
    "BREAKER_ADMISSION",
    "LEVEL_BREAKER",
    "LEVEL_LIMITER",
    "LEVEL_POOL",
    "LEVEL_SERVICES",
    "LIMITER_PERMIT",
    "POOL_LEASE",
    "Holding",
    "LockOrderError",
    "OrderedResource",
    "PoolLeaseChecker",
    "check_order",
    "debug_enabled",
    "held",
    "hold",
    "check_attempt",
    "describe",
    "set_debug",
]

LEVEL_SERVICES: Final = 1
LEVEL_BREAKER: Final = 2
LEVEL_LIMITER: Final = 3
LEVEL_POOL: Final = 4


@final
class OrderedResource:
    """A kind of resource with its place in the hierarchy (1 = taken first).

    Attributes:
        level: the level; a task may only take a resource of a greater level than
            every one it holds.
        name: a short name used in errors.
    """

    __slots__ = ("level", "name")

    def __init__(self, level: int, name: str) -> None:
        if isinstance(level, bool) or not isinstance(level, int) or level < 1:
            raise ValueError(f"OrderedResource level must be an int >= 1, got {level!r}")
        self.level = level
        self.name = name

    def __repr__(self) -> str:
        return f"<OrderedResource {self.name!r} level={self.level}>"


BREAKER_ADMISSION: Final = OrderedResource(LEVEL_BREAKER, "circuit-breaker admission")
LIMITER_PERMIT: Final = OrderedResource(LEVEL_LIMITER, "rate-limiter permit")
POOL_LEASE: Final = OrderedResource(LEVEL_POOL, "connection-pool lease")


# Debug mode only: per trio run, what each task holds, oldest first. A task that holds
# nothing has no entry, so the table keeps no finished task alive.
_HELD: RunVar[dict[Task, list[Holding]]] = RunVar("trio_openai_held_resources")


def _table() -> dict[Task, list[Holding]]:
    try:
        return _HELD.get()
    except LookupError:
        table: dict[Task, list[Holding]] = {}
        _HELD.set(table)
        return table


@final
class Holding:
    """One resource held by one task (debug mode bookkeeping).

    Attributes:
        resource: what is held.
        what: what holds it, for messages (its ``str`` is read only when needed).
        owner: the task holding it; ``None`` once released.
    """

    __slots__ = ("_table", "owner", "resource", "what")

    def __init__(
        self, table: dict[Task, list[Holding]], resource: OrderedResource, what: object, owner: Task
    ) -> None:
        self._table = table
        self.resource = resource
        self.what = what
        self.owner: Task | None = owner
        table.setdefault(owner, []).append(self)

    def _forget(self) -> None:
        owner = self.owner
        if owner is None:
            return
        self.owner = None
        held = self._table.get(owner)
        if held is not None:
            for i, other in enumerate(held):
                if other is self:
                    del held[i]
                    break
            if not held:
                del self._table[owner]

    def release(self) -> None:
        """Stop holding. Idempotent; callable from any task, or outside trio."""
        self._forget()

    def move_to(self, task: Task) -> None:
        """Hand the resource to ``task`` (a stream read by another task)."""
        if self.owner is None or self.owner is task:
            return
        self._forget()
        self.owner = task
        self._table.setdefault(task, []).append(self)

    def describe(self) -> str:
        what = str(self.what)
        return f"{self.resource.name} (level {self.resource.level})" + (
            f" for {what}" if what else ""
        )

    def __repr__(self) -> str:
        state = "released" if self.owner is None else "held"
        return f"<Holding {self.describe()} {state}>"


class LockOrderError(RuntimeError):
    """A task tried to acquire a resource out of hierarchy order (debug mode).

    Attributes:
        acquiring: the resource the task tried to take.
        what: what it was taken for (e.g. ``GET /v1/models``), or ``""``.
        held: what the task holds that ranks at or below it (``held.resource``,
            ``held.what``).
    """

    def __init__(self, acquiring: OrderedResource, what: object, held: Holding) -> None:
        wanted = f"{acquiring.name} (level {acquiring.level})" + (f" for {what}" if what else "")
        message = (
            f"lock order violated: acquiring {wanted} while this task holds "
            f"{held.describe()}; resources must be taken in increasing level order "
            f"(1 services, 2 breaker, 3 limiter, 4 pool)"
        )
        if held.resource is POOL_LEASE:
            message += (
                ". That lease belongs to a response not finished (an open stream, or a "
                "body not read to its end): close it (leave the stream's `async with`) "
                "or read it to its end before making another request"
            )
        super().__init__(message)
        self.acquiring = acquiring
        self.what = what
        self.held = held


def held() -> tuple[Holding, ...]:
    """What the current task holds, oldest first (tracked in debug mode only)."""
    return tuple(_table().get(current_task(), ()))


def check_order(resource: OrderedResource, what: object = "") -> None:
    """Raise :class:`LockOrderError` if the current task may not take ``resource`` now.

    Raises:
        LockOrderError: the task holds a resource whose level is not smaller.
    """
    for holding in _table().get(current_task(), ()):
        if holding.resource.level >= resource.level:
            raise LockOrderError(resource, what, holding)


def hold(resource: OrderedResource, what: object = "") -> Holding:
    """Record that the current task now holds ``resource`` (after :func:`check_order`)."""
    return Holding(_table(), resource, what, current_task())


async def check_attempt(first: OrderedResource, what: object) -> None:
    """Check that the current task may start a request whose first resource is ``first``.

    A task that holds a pool lease first gives tasks it just handed a response the
    time to claim it: two scheduler passes (a task started with ``start_soon`` runs in
    the next batch, which trio may order before or after this one), as the pool does
    before it declares a self-deadlock.

    Raises:
        LockOrderError: the task still holds something ranked at or below ``first``.
    """
    table = _table()
    task = current_task()
    holdings = table.get(task)
    if holdings is None:
        return
    if any(h.resource is POOL_LEASE for h in holdings):
        for _ in range(2):
            await trio.lowlevel.checkpoint()
    check_order(first, what)


def describe(prepared: PreparedRequest) -> str:
    """``"METHOD /path"`` of a request, for messages (the query is left out)."""
    target = prepared.head.target.split(b"?", 1)[0]
    return f"{prepared.method} {target.decode('ascii', 'replace')}"


@final
class PoolLeaseChecker:
    """The pool's lease observer in debug mode: level 4 of the order check.

    The pool calls it around each lease (see ``_http._pool.LeaseObserver``).
    """

    __slots__ = ()

    def acquiring(self, lease: Lease) -> None:
        check_order(POOL_LEASE, lease)

    def acquired(self, lease: Lease) -> Holding:
        return hold(POOL_LEASE, lease)
