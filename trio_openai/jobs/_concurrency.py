"""Bounded concurrency for many calls: ``map`` and ``as_completed``.

A low module of :mod:`trio_openai.jobs`: it imports nothing of the package, and
the runners build on it (``as_completed`` runs their lines; :func:`check_limit` and
:func:`collapse` check their counts and unwrap their nurseries' groups).

Theory of operation
-------------------
``await jobs.map(fn, items, limit=N)`` and ``async with jobs.as_completed(fn, items,
limit=N) as results`` run ``fn(item)`` for every item with at most ``N`` calls at once,
in a nursery of their own. Each call's result is an :class:`outcome.Outcome`: a
:class:`outcome.Value` or an :class:`outcome.Error` holding the ``Exception`` it
raised. One item's failure is just that item's result; it cancels nothing.

The engine is ``N`` worker tasks sharing one iterator over ``items``. A worker takes
the next item, calls ``fn``, hands the outcome on (``map``: into the result list at the
item's index; ``as_completed``: into a bounded buffer the consumer drains) and takes the
next item. So items are pulled lazily, one per free worker: a generator of ten million
items never sits in memory, and ``as_completed`` holds at most ``limit`` items in
flight plus ``buffer`` finished outcomes (a worker whose outcome does not fit waits,
holding its slot, so a slow consumer slows the producers instead of growing memory).
``items`` may be an iterable or an async iterable; an async one is read by one worker
at a time.

Rules kept
----------
- Failures are outcomes: an ``Exception`` raised by ``fn`` (an ``ExceptionGroup``
  included) becomes ``outcome.Error``. Not so a plain (non-async) ``fn``: the first
  call whose result cannot be awaited stops the job with a ``TypeError`` saying so,
  raised by ``map`` (or the ``async for`` over ``as_completed``) like a broken input;
  no other item is started. (A plain function that *returns* an awaitable, such as
  a lambda around an async call, is fine, so this is found on the first call rather
  than by looking at ``fn``; an async generator function is refused up front.)
  ``BaseException`` s that are not ``Exception`` (``trio.Cancelled``,
  ``KeyboardInterrupt``, ``SystemExit``) are never captured: they propagate and end
  the whole job.
- Cancellation: cancelling the caller (any enclosing cancel scope) cancels every call
  in flight at its next checkpoint and starts no more; nothing is left running.
- ExceptionGroups: none come out of these functions in practice. The internal nursery
  collapses what it raises: ``trio.Cancelled`` (possibly many) comes out as one
  ``Cancelled``, and a single other exception (your block's own error, a
  ``KeyboardInterrupt``) comes out as itself. Only when two or more *different*
  non-cancellation ``BaseException`` s happen at once (say your ``async with`` block
  raises while a call raises ``KeyboardInterrupt``) is the ``BaseExceptionGroup``
  raised as is, since dropping either would hide something.
- An exception raised while iterating ``items`` (a bug in the input, not a result)
  stops the job: no new item starts, calls in flight are cancelled, and the exception
  is raised as itself, by ``map`` or, after the outcomes already buffered, by the
  ``async for`` over ``as_completed`` (or at the end of its block if you stopped
  iterating earlier).
- Fair and cheap: a worker whose ``fn`` never yields (a trivial function) still yields
  to the scheduler at least every :data:`_BUDGET` items, as does the consumer of
  ``as_completed``; a real ``fn`` (an API call) yields on every item anyway. This
  budget, like tokio's cooperative budget, keeps the per-item overhead at 2-4 us
  (a million trivial items in a few seconds) where a scheduler pass per item costs
  ~6 us on its own.

Options rejected
----------------
- *A task per item under a* ``trio.CapacityLimiter``: measured at ~13 us of overhead
  per item against ~3 us for this worker pool (trio 0.35, CPython 3.11, a function
  that returns at once), and it needs a feeder task. The limiter is still offered for
  what it is good at: pass ``limiter=`` to share one concurrency budget between
  several jobs; each call then also holds one of its tokens.
- ``outcome.acapture``: it captures ``BaseException`` too, so a ``Cancelled`` would
  become a result and the job would not stop.
- *A memory channel for* ``as_completed``: ``send`` and ``receive`` are full
  scheduler passes each, the dominant cost for cheap calls; a deque with two
  parking lots does the same job with a pass only when someone must wait.
"""

from __future__ import annotations

import inspect
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar, cast

import trio
from outcome import Error, Outcome, Value

from .._compat import BaseExceptionGroup

__all__ = ["JobStatistics", "Results", "as_completed", "check_limit", "collapse", "map"]

T = TypeVar("T")
R = TypeVar("R")

_BUDGET: Final = 64
"""Items a worker (or the consumer) may handle without a scheduler pass."""

_AsyncFn = Callable[[T], Awaitable[R]]

_NOT_CALLED: Final = object()
"""What a worker's ``call`` holds until ``async_fn`` has returned."""


def _not_async(fn: object, returned: object) -> TypeError:
    """The error for an ``async_fn`` that returned something that cannot be awaited."""
    return TypeError(
        f"async_fn must be an async function (or return an awaitable), but {fn!r} "
        f"returned a {type(returned).__name__}; define it with `async def`"
    )


@dataclass(frozen=True)
class JobStatistics:
    """A snapshot of a running :func:`as_completed` job.

    Attributes:
        limit: the most calls running at once.
        started: items taken from the input so far.
        finished: calls that ended (with a value or an error).
        failed: calls that ended with an error.
        running: calls started and not yet finished.
        buffered: finished outcomes waiting to be read.
        exhausted: whether the input has no more items.
    """

    limit: int
    started: int
    finished: int
    failed: int
    running: int
    buffered: int
    exhausted: bool


def check_limit(name: str, value: object) -> int:
    """``value`` if it is an int >= 1 (a limit, a count), else a clear error.

    Raises:
        TypeError: not an int (a ``bool`` is not a count).
        ValueError: less than 1.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return value


def _leaves(exc: BaseException) -> Iterator[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            yield from _leaves(inner)
    else:
        yield exc


def collapse(
    group: BaseExceptionGroup[BaseException], prefer: BaseException | None
) -> BaseException:
    """What to raise instead of the internal nursery's group (see the module docstring)."""
    leaves = list(_leaves(group))
    others = [e for e in leaves if not isinstance(e, trio.Cancelled)]
    if not others:
        return prefer if prefer is not None and prefer in leaves else leaves[0]
    if len(others) == 1:
        return others[0]
    return cast("BaseException", group)  # Any under mypy's 3.10 view of the backport


class _Buffer(Generic[R]):
    """Finished ``(index, outcome)`` pairs between the workers and the consumer.

    Wake-ups are rationed: at most one parked putter is woken at a time (``waking``);
    once it has put its entry it wakes the next one if there is still room. Waking
    every parked putter per free slot would wake most of them for nothing when a
    single worker refills the buffer on its own (a call that does not yield).
    """

    __slots__ = ("capacity", "closed", "getters", "items", "putters", "waking")

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.items: deque[tuple[int, Outcome[R]]] = deque()
        self.getters = trio.lowlevel.ParkingLot()
        self.putters = trio.lowlevel.ParkingLot()
        self.waking = False
        self.closed = False

    async def put(self, entry: tuple[int, Outcome[R]]) -> None:
        # No scheduler pass unless the buffer is full: the caller's budget covers it.
        items = self.items
        while len(items) >= self.capacity:
            try:
                await self.putters.park()
            finally:
                self.waking = False
        items.append(entry)
        if self.getters:
            self.getters.unpark()
        if self.putters and not self.waking and len(items) < self.capacity:
            self.waking = True
            self.putters.unpark()

    def take(self) -> tuple[int, Outcome[R]]:
        entry = self.items.popleft()
        if self.putters and not self.waking:
            self.waking = True
            self.putters.unpark()
        return entry

    def close(self) -> None:
        self.closed = True
        self.getters.unpark_all()


class _Engine(Generic[T, R]):
    """The worker pool behind :func:`map` (``results``) and :func:`as_completed`
    (``buffer``); exactly one of the two is given."""

    __slots__ = (
        "_aiter",
        "_async_lock",
        "_buffer",
        "_fn",
        "_iter",
        "_limiter",
        "_results",
        "_scope",
        "exhausted",
        "failed",
        "finished",
        "limit",
        "source_error",
        "started",
    )

    def __init__(
        self,
        fn: _AsyncFn[T, R],
        items: Iterable[T] | AsyncIterable[T],
        limit: int,
        limiter: trio.CapacityLimiter | None,
        *,
        results: list[Outcome[R] | None] | None = None,
        buffer: _Buffer[R] | None = None,
    ) -> None:
        if not callable(fn):
            raise TypeError(f"async_fn must be callable, got {fn!r}")
        if inspect.isasyncgenfunction(fn):
            raise TypeError(
                f"async_fn must be an async function, got the async generator function {fn!r}"
            )
        self._fn = fn
        self._iter: Iterator[T] | None = None
        self._aiter: AsyncIterator[T] | None = None
        self._async_lock: trio.Lock | None = None
        if isinstance(items, AsyncIterable):
            self._aiter = items.__aiter__()
            self._async_lock = trio.Lock()
        elif isinstance(items, Iterable):
            self._iter = iter(items)
        else:
            raise TypeError(f"items must be an iterable or an async iterable, got {items!r}")
        if limiter is not None and not isinstance(limiter, trio.CapacityLimiter):
            raise TypeError(f"limiter must be a trio.CapacityLimiter, got {limiter!r}")
        self.limit = limit
        self._limiter = limiter
        self._results = results
        self._buffer = buffer
        self._scope = trio.CancelScope()
        self.started = 0
        self.finished = 0
        self.failed = 0
        self.exhausted = False
        self.source_error: BaseException | None = None

    def stop(self) -> None:
        """Start nothing more and cancel the calls in flight."""
        self.exhausted = True
        self._scope.cancel()

    def _fail(self, exc: BaseException) -> None:
        if self.source_error is None:
            self.source_error = exc
        self.stop()

    async def _next_async(self) -> tuple[bool, T | None]:
        lock = self._async_lock
        aiter = self._aiter
        assert lock is not None
        assert aiter is not None
        try:
            lock.acquire_nowait()
        except trio.WouldBlock:
            await lock.acquire()
        try:
            if self.exhausted:
                return False, None
            try:
                item = await aiter.__anext__()
            except StopAsyncIteration:
                self.exhausted = True
                return False, None
            except Exception as exc:  # the input is broken: stop the job, raise it later
                self._fail(exc)
                return False, None
            return True, item
        finally:
            lock.release()

    async def _worker(self) -> None:
        # The hot loop: locals only, no helper coroutine per item (each costs an
        # allocation and a frame; see the module docstring on the budget).
        fn = self._fn
        limiter = self._limiter
        sync_iter = self._iter
        results = self._results
        buffer = self._buffer
        budget = _BUDGET
        result: Outcome[R]
        while not self.exhausted:
            if sync_iter is not None:
                try:
                    item = next(sync_iter)
                except StopIteration:
                    self.exhausted = True
                    return
                except Exception as exc:  # the input is broken: stop the job, raise it later
                    self._fail(exc)
                    return
            else:
                ok, got = await self._next_async()
                if not ok:
                    return
                item = cast("T", got)
            index = self.started
            self.started = index + 1
            call: Any = _NOT_CALLED
            try:
                if limiter is not None:
                    async with limiter:
                        call = fn(item)
                        value = await call
                else:
                    call = fn(item)
                    value = await call
            except Exception as exc:  # a failure is this item's result; BaseException propagates
                if call is not _NOT_CALLED and not inspect.isawaitable(call):
                    # A plain function: not an item's failure but the job's. (Awaiting
                    # its result raised at once, so no other worker has called it.)
                    self._fail(_not_async(fn, call))
                    return
                result = Error(exc)
                self.failed += 1
            else:
                result = Value(value)
            self.finished += 1
            if results is not None:
                # Calls finish out of order: grow the list up to the index; the gaps
                # belong to calls still running, which fill them before run() returns.
                missing = index + 1 - len(results)
                if missing > 0:
                    results.extend([None] * missing)
                results[index] = result
            else:
                assert buffer is not None
                items = buffer.items
                if len(items) < buffer.capacity and not buffer.putters:
                    items.append((index, result))
                    if buffer.getters:
                        buffer.getters.unpark()
                else:
                    await buffer.put((index, result))
            del item, result
            budget -= 1
            if budget <= 0:
                budget = _BUDGET
                await trio.lowlevel.checkpoint()

    async def run(self) -> None:
        """Run the workers until the input is exhausted (or :meth:`stop`)."""
        with self._scope:
            async with trio.open_nursery() as nursery:
                for _ in range(self.limit):
                    nursery.start_soon(self._worker)


async def map(
    async_fn: Callable[[T], Awaitable[R]],
    items: Iterable[T] | AsyncIterable[T],
    *,
    limit: int = 32,
    limiter: trio.CapacityLimiter | None = None,
) -> list[Outcome[R]]:
    """Call ``async_fn(item)`` for every item, at most ``limit`` at once.

    Items are taken lazily, one per free worker. Unwrap the results with
    ``[o.unwrap() for o in outcomes]``, or inspect them (``isinstance(o,
    outcome.Error)``, ``o.error``).

    Args:
        async_fn: an async function of one argument.
        items: an iterable or async iterable of arguments.
        limit: the most calls running at once (>= 1).
        limiter: a ``trio.CapacityLimiter`` shared with other work; each call also
            holds one of its tokens.

    Returns:
        One :class:`outcome.Outcome` per item, in input order: ``Value(result)``, or
        ``Error(exc)`` for a call that raised an ``Exception``.

    Raises:
        trio.Cancelled, KeyboardInterrupt: cancellation (every call is cancelled).
        Exception: whatever iterating ``items`` raised (the calls in flight were
            cancelled).
        TypeError, ValueError: bad arguments (before anything runs).
    """
    limit = check_limit("limit", limit)
    results: list[Outcome[R] | None] = []
    engine: _Engine[T, R] = _Engine(async_fn, items, limit, limiter, results=results)
    raised: BaseException | None = None
    try:
        await engine.run()
    except BaseExceptionGroup as group:
        raised = collapse(group, None)
    if raised is not None:
        raise raised
    if engine.source_error is not None:
        raise engine.source_error
    return cast("list[Outcome[R]]", results)


class Results(Generic[R]):
    """The finished calls of :func:`as_completed`, as ``(index, outcome)`` pairs.

    ``async for index, outcome in results`` yields each call's outcome as soon as it
    finishes; ``index`` is the item's position in the input. Iterating is a cancel
    point on every item and a scheduler pass whenever it waits (and at least every
    64 items).
    """

    __slots__ = ("_budget", "_buffer", "_engine", "_raised")

    def __init__(self, engine: _Engine[Any, R], buffer: _Buffer[R]) -> None:
        self._engine = engine
        self._buffer = buffer
        self._budget = _BUDGET
        self._raised = False

    def __aiter__(self) -> Results[R]:
        return self

    async def __anext__(self) -> tuple[int, Outcome[R]]:
        await trio.lowlevel.checkpoint_if_cancelled()
        buffer = self._buffer
        items = buffer.items
        if items:
            self._budget -= 1
            if self._budget <= 0:
                self._budget = _BUDGET
                await trio.lowlevel.cancel_shielded_checkpoint()
        while not items:
            if buffer.closed:
                error = self._engine.source_error
                if error is not None and not self._raised:
                    self._raised = True
                    raise error
                raise StopAsyncIteration
            await buffer.getters.park()
        return buffer.take()

    def statistics(self) -> JobStatistics:
        """Return a frozen snapshot of the job's counters."""
        engine = self._engine
        return JobStatistics(
            limit=engine.limit,
            started=engine.started,
            finished=engine.finished,
            failed=engine.failed,
            running=engine.started - engine.finished,
            buffered=len(self._buffer.items),
            exhausted=engine.exhausted,
        )

    def __repr__(self) -> str:
        s = self.statistics()
        state = "done" if self._buffer.closed else "running"
        return (
            f"<jobs.Results {state} limit={s.limit} started={s.started} "
            f"finished={s.finished} failed={s.failed} buffered={s.buffered}>"
        )


@asynccontextmanager
async def as_completed(
    async_fn: Callable[[T], Awaitable[R]],
    items: Iterable[T] | AsyncIterable[T],
    *,
    limit: int = 32,
    buffer: int | None = None,
    limiter: trio.CapacityLimiter | None = None,
) -> AsyncIterator[Results[R]]:
    """Call ``async_fn(item)`` for every item, at most ``limit`` at once; read the
    outcomes as they finish::

        async with jobs.as_completed(fetch, urls, limit=32) as results:
            async for index, outcome in results:
                ...

    Memory stays flat however long the input: at most ``limit`` items are in flight
    and ``buffer`` outcomes wait to be read. Leaving the block cancels the calls still
    running, starts no more, and waits for the cancelled calls to end.

    Args:
        async_fn: an async function of one argument.
        items: an iterable or async iterable of arguments, consumed lazily.
        limit: the most calls running at once (>= 1).
        buffer: the most finished outcomes kept for the reader (default: ``limit``).
        limiter: a ``trio.CapacityLimiter`` shared with other work; each call also
            holds one of its tokens.

    Yields:
        :class:`Results`: an async iterator of ``(index, outcome)``.

    Raises:
        trio.Cancelled, KeyboardInterrupt: cancellation (every call is cancelled).
        Exception: whatever iterating ``items`` raised, after the outcomes already
            buffered; also whatever your block raises, as itself.
        TypeError, ValueError: bad arguments (before anything runs).
    """
    limit = check_limit("limit", limit)
    capacity = limit if buffer is None else check_limit("buffer", buffer)
    buf: _Buffer[R] = _Buffer(capacity)
    engine: _Engine[T, R] = _Engine(async_fn, items, limit, limiter, buffer=buf)
    results = Results(engine, buf)

    async def supervise() -> None:
        try:
            await engine.run()
        finally:
            buf.close()

    body_error: BaseException | None = None
    raised: BaseException | None = None
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(supervise)
            try:
                yield results
            except BaseException as exc:
                body_error = exc  # only remembered, to prefer it below; re-raised by the nursery
                raise
            finally:
                engine.stop()
    except BaseExceptionGroup as group:
        raised = collapse(group, body_error)
    if raised is not None:
        raise raised
    if engine.source_error is not None and not results._raised:
        results._raised = True
        raise engine.source_error
