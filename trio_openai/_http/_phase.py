"""Phase time limits under a total deadline: one cancel scope, one error mapping.

Theory of operation
-------------------
Every phase of an exchange has its own limit in seconds (waiting for a pool slot,
connecting, writing, each read), and the whole exchange may have a total deadline
(an absolute ``trio.current_time()``, ``math.inf`` for none). A phase ends at
whichever comes first. :class:`PhaseScope` is a ``trio.CancelScope`` set to that
earlier time; when it fires, leaving the ``with`` block raises the timeout error of
the phase in force: :class:`TotalTimeout` when the total deadline was the nearer one
(ties included), else the phase's own error (``PoolTimeout``, ``ConnectTimeout``,
``WriteTimeout``, ``ReadTimeout``) naming its limit.

One scope may serve several phases in turn: :meth:`PhaseScope.enter` moves its
deadline to the next phase's. An exchange covers writing the request and waiting for
the response head that way, with a single scope (cheaper than a scope per phase on
the hot path).

Rules kept:
- Only this scope's own deadline becomes a timeout. A cancellation from a caller's
  scope is not caught here and propagates as ``trio.Cancelled``, untouched.
- The timeout is raised in place of the swallowed ``Cancelled`` (its context
  suppressed: the cancellation is how the limit is enforced, not a second failure).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Final

import trio

from ._exceptions import TotalTimeout, TransportTimeout

if TYPE_CHECKING:
    from types import TracebackType

    from typing_extensions import Self

__all__ = ["PhaseScope"]

_INF: Final = math.inf


class PhaseScope:
    """A cancel scope for a phase limit capped by a total deadline.

    Args:
        deadline: the total deadline (absolute trio time; ``math.inf``: none).
        total: the total limit in seconds behind ``deadline``, for the error message.
        error: the phase's timeout type; ``None`` starts with the total deadline only.
        limit: the phase's limit in seconds (``None``: the phase has none).
        response_started: copied to the error (see ``TransportError``).

    Raises (on leaving the block, when its deadline cancelled it):
        TotalTimeout: the total deadline came first.
        TransportTimeout: the subclass ``error`` of the phase in force, with its limit.
    """

    __slots__ = ("_deadline", "_error", "_limit", "_scope", "_total", "response_started")

    def __init__(
        self,
        deadline: float,
        total: float | None,
        error: type[TransportTimeout] | None = None,
        limit: float | None = None,
        *,
        response_started: bool = False,
    ) -> None:
        self._deadline = deadline
        self._total = total
        self._error: type[TransportTimeout] | None = None
        self._limit = 0.0
        self.response_started = response_started
        # The first phase's deadline is given to the scope as it is made: setting a
        # scope's deadline later goes through trio's bookkeeping again (a few µs, on
        # every request).
        if error is not None:
            deadline = self._phase_deadline(error, limit)
        self._scope = trio.CancelScope(deadline=deadline)

    def enter(
        self, error: type[TransportTimeout], limit: float | None, *, response_started: bool = False
    ) -> float:
        """Start a phase now: the deadline becomes ``min(now + limit, total deadline)``.

        Returns that deadline.
        """
        self.response_started = response_started
        deadline = self._scope.deadline = self._phase_deadline(error, limit)
        return deadline

    def _phase_deadline(self, error: type[TransportTimeout], limit: float | None) -> float:
        """``min(now + limit, total deadline)``; which of the two it is decides the
        error :meth:`expired` gives."""
        deadline = self._deadline
        self._error = None
        if limit is not None:
            phase_deadline = trio.current_time() + limit
            if phase_deadline < deadline:
                self._error = error
                self._limit = limit
                return phase_deadline
        return deadline

    def expired(self) -> TransportTimeout:
        """The error for the deadline in force having passed."""
        kind = self._error
        error = TotalTimeout(self._total or 0.0) if kind is None else kind(self._limit)
        error.response_started = self.response_started
        return error

    def __enter__(self) -> Self:
        self._scope.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        scope = self._scope
        scope.__exit__(exc_type, exc, tb)
        if scope.cancelled_caught:
            # The scope swallowed its own cancellation (and nothing else): raise the
            # timeout in its place. Any other exception propagates as it was.
            raise self.expired() from None
