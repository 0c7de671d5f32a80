"""The circuit breaker's state table: states, events, and every legal move between them.

Theory of operation. A breaker is in one of three states and moves only on one of five
events; the table below *is* the state diagram::

                      TRIP
    CLOSED ─────────────────────────► OPEN ◄──────────┐
      ▲  ▲            RESET             │             │
      │  └──────────────────────────────┤             │ PROBE_FAILED
      │                                 │ COOLED_DOWN │
      │  PROBES_SUCCEEDED, RESET        ▼             │
      └──────────────────────────── HALF_OPEN ────────┘

:func:`next_state` looks a move up in :data:`TRANSITIONS` (``{state: {event:
next_state}}``, read-only); a move the table lacks raises
:class:`BreakerTransitionError` naming the state and the event. ``_breaker.CircuitBreaker``
decides *when* an event happens (counting failures, timing the cool-down, tracking
probes) and changes its state only through :func:`next_state`.

Rules kept:

- Data, not code: the table is the only statement of which moves exist; a test checks
  that every state has a row and every target is a state.
- An illegal move is a bug in the caller of the state machine, never a service
  condition, so it is a ``RuntimeError`` and never retried or swallowed.
- Sans-IO and stdlib only: no time, no I/O, nothing that awaits.

The states themselves, :class:`CircuitState`, are defined with the breaker's other
values in ``_breaker_policy`` (and importable from here): a client needs them when it
is made, this table only with the first breaker, which ``_breaker`` makes for an
origin's first request.

Options rejected:

- Sentinels in the style of h11's states: an ``enum.Enum`` gives names, ``repr`` and
  exhaustive iteration for free, and ``CircuitState`` is public (``trio_openai``).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType

from ._breaker_policy import CircuitState

__all__ = [
    "TRANSITIONS",
    "BreakerEvent",
    "BreakerTransitionError",
    "CircuitState",
    "next_state",
]


class BreakerEvent(enum.Enum):
    """What can move a circuit breaker from one state to another."""

    TRIP = "trip"
    """The window held ``minimum_calls`` calls or more, ``failure_rate`` of them failed."""
    COOLED_DOWN = "cooled_down"
    """The open duration has passed since the circuit opened."""
    PROBES_SUCCEEDED = "probes_succeeded"
    """``half_open_probes`` probes succeeded."""
    PROBE_FAILED = "probe_failed"
    """A probe failed."""
    RESET = "reset"
    """The owner asked for a closed circuit (:meth:`CircuitBreaker.reset`)."""


_C, _O, _H = CircuitState.CLOSED, CircuitState.OPEN, CircuitState.HALF_OPEN

TRANSITIONS: Mapping[CircuitState, Mapping[BreakerEvent, CircuitState]] = MappingProxyType(
    {
        _C: MappingProxyType({BreakerEvent.TRIP: _O}),
        _O: MappingProxyType({BreakerEvent.COOLED_DOWN: _H, BreakerEvent.RESET: _C}),
        _H: MappingProxyType(
            {
                BreakerEvent.PROBES_SUCCEEDED: _C,
                BreakerEvent.PROBE_FAILED: _O,
                BreakerEvent.RESET: _C,
            }
        ),
    }
)
"""Every legal move, as ``{state: {event: next_state}}``. Read-only."""


class BreakerTransitionError(RuntimeError):
    """An event that the transition table does not allow in the current state.

    This is a bug in the caller of the state machine, never a service condition.

    Attributes:
        state: the state the machine was in.
        event: the event that has no move from it.
    """

    def __init__(self, state: CircuitState, event: BreakerEvent) -> None:
        allowed = ", ".join(e.name for e in TRANSITIONS[state]) or "none"
        super().__init__(
            f"circuit breaker cannot handle event {event.name} in state {state.name} "
            f"(allowed there: {allowed})"
        )
        self.state = state
        self.event = event


def next_state(state: CircuitState, event: BreakerEvent) -> CircuitState:
    """Look up where ``event`` takes a breaker that is in ``state``.

    Args:
        state: the current state.
        event: what happened.

    Returns:
        The next state, from :data:`TRANSITIONS`.

    Raises:
        BreakerTransitionError: the table has no such move.
    """
    try:
        return TRANSITIONS[state][event]
    except KeyError:
        raise BreakerTransitionError(state, event) from None
