"""The circuit breaker's values: its states, its policy, an admission, a statistics snapshot.

Theory of operation. :class:`BreakerPolicy` is what a user configures (public as
``trio_openai.BreakerPolicy``): when a breaker opens (a failure rate over a window of
the latest calls) and how it recovers (open duration, growth, probes). Its fields are
checked at construction, with errors naming the field and the rule. An
:class:`Admission` is the breaker's answer to "may this request go?" and ties the
request's outcome to the state it was admitted in; :class:`BreakerStatistics` is a
frozen snapshot for metrics. The state machine that uses them is
``_breaker.CircuitBreaker``; the reasoning behind the defaults is in its docstring
and in docs/resilience.md.

Rules kept: frozen msgspec Structs, stdlib and msgspec only, no behaviour beyond
validation.
"""

from __future__ import annotations

import enum
import math

import msgspec

__all__ = ["Admission", "BreakerPolicy", "BreakerStatistics", "CircuitState"]


# --------------------------------------------------------------------------- states


class CircuitState(enum.Enum):
    """Where a circuit breaker stands."""

    CLOSED = "closed"
    """Requests flow; failures are being counted."""
    OPEN = "open"
    """Requests are rejected until the open duration has passed."""
    HALF_OPEN = "half_open"
    """A limited number of probes may go through to test the service."""


# --------------------------------------------------------------------------- policy


def _check_count(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"BreakerPolicy.{name} must be an int, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"BreakerPolicy.{name} must be >= 1, got {value!r}")


def _check_seconds(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(
            f"BreakerPolicy.{name} must be a number of seconds, got {type(value).__name__}"
        )
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"BreakerPolicy.{name} must be a finite number > 0, got {value!r}")


_MAX_WINDOW = 100_000
"""Largest ``window_size`` accepted (the ring holds one byte per call)."""


class BreakerPolicy(msgspec.Struct, frozen=True):
    """When a circuit breaker opens (a failure rate) and how it recovers.

    The breaker keeps the outcomes of the last ``window_size`` calls to an origin
    (each attempt, retries included, is a call; 4xx and 429 are not counted). It opens
    when at least ``minimum_calls`` are in the window and ``failure_rate`` of them or
    more failed. Defaults: 60% of the last 50 calls, with at least 20; open 30 s,
    doubling on repeated trips up to 120 s; 3 probes. A 20% transient error rate
    does not open it; a dead origin opens it at the 20th call. See
    docs/resilience.md for the numbers.

    Attributes:
        failure_rate: the fraction of failed calls in the window at or above which the
            circuit opens, in ``(0, 1]``.
        minimum_calls: calls the window must hold before the rate is judged (at most
            ``window_size``). Also the number of calls a dead origin needs to open a
            fresh breaker.
        window_size: how many of the latest calls the window holds.
        open_for: seconds the circuit stays open after a trip before probes go. Also
            the time after which an unanswered probe is presumed lost.
        max_open_for: the open duration doubles each time a probe fails, up to this
            many seconds (``>= open_for``; equal to it turns the growth off).
        half_open_probes: probes admitted at the same time while half-open; that many
            probe successes close the circuit, one probe failure opens it again.
        enabled: ``False`` turns the breaker into a counter that admits everything.

    Raises:
        TypeError: a field has the wrong type (the message names the field).
        ValueError: a field is out of range (the message names field and rule).
    """

    failure_rate: float = 0.6
    minimum_calls: int = 20
    window_size: int = 50
    open_for: float = 30.0
    max_open_for: float = 120.0
    half_open_probes: int = 3
    enabled: bool = True

    def __post_init__(self) -> None:
        rate = self.failure_rate
        if isinstance(rate, bool) or not isinstance(rate, (int, float)):
            raise TypeError(
                f"BreakerPolicy.failure_rate must be a number, got {type(rate).__name__}"
            )
        if not 0 < rate <= 1:  # (NaN fails this too)
            raise ValueError(f"BreakerPolicy.failure_rate must be > 0 and <= 1, got {rate!r}")
        _check_count("minimum_calls", self.minimum_calls)
        _check_count("window_size", self.window_size)
        if self.window_size > _MAX_WINDOW:
            raise ValueError(
                f"BreakerPolicy.window_size must be <= {_MAX_WINDOW}, got {self.window_size!r}"
            )
        if self.minimum_calls > self.window_size:
            raise ValueError(
                f"BreakerPolicy.minimum_calls must be <= window_size ({self.window_size}), "
                f"got {self.minimum_calls!r}"
            )
        _check_seconds("open_for", self.open_for)
        _check_seconds("max_open_for", self.max_open_for)
        if self.max_open_for < self.open_for:
            raise ValueError(
                f"BreakerPolicy.max_open_for must be >= open_for ({self.open_for!r}), "
                f"got {self.max_open_for!r}"
            )
        _check_count("half_open_probes", self.half_open_probes)
        if not isinstance(self.enabled, bool):
            raise TypeError(
                f"BreakerPolicy.enabled must be a bool, got {type(self.enabled).__name__}"
            )


# --------------------------------------------------------------------------- values


class Admission(msgspec.Struct, frozen=True):
    """The answer of :meth:`CircuitBreaker.before_request`.

    Hand it back to exactly one of ``record_success`` / ``record_failure`` /
    ``record_neutral`` when the request has an outcome (admitted requests only).

    Attributes:
        admitted: whether the request may be sent.
        retry_in: when rejected, seconds until a probe could be admitted (in OPEN, the
            rest of the open duration; in a full HALF_OPEN, the latest time a probe
            slot frees up). ``0.0`` when admitted.
        probe: whether this request is a half-open probe.
        state: the breaker's state when it answered.
        ticket: opaque serial number of this admission.
        generation: opaque count of transitions the breaker had made when it answered.
    """

    admitted: bool
    retry_in: float
    probe: bool
    state: CircuitState
    ticket: int
    generation: int


class BreakerStatistics(msgspec.Struct, frozen=True):
    """A snapshot of one breaker, from :meth:`CircuitBreaker.statistics`.

    ``requests == admitted + rejections`` always, and once every admission has been
    recorded, ``admitted == successes + failures + neutral``.

    Attributes:
        state: the current state.
        changed_at: the ``now`` of the last transition (the creation time before any).
        requests: calls to ``before_request``.
        admitted: requests admitted (including probes).
        rejections: requests rejected.
        successes: outcomes recorded as success.
        failures: outcomes recorded as failure (a stream cut after a recorded success
            adds one).
        neutral: outcomes recorded as neutral.
        window_calls: outcomes in the sliding window (at most ``window_size``; the
            window is emptied when the circuit closes).
        window_failures: failures among them.
        failure_rate: ``window_failures / window_calls`` (``0.0`` for an empty window).
        open_duration: how long the circuit stays (or stayed, or will next stay) open:
            ``open_for``, doubled per failed probe, at most ``max_open_for``.
        consecutive_trips: openings since the circuit was last closed (0 when closed
            and healthy; 1 after a trip; +1 per failed probe).
        half_open_successes: probe successes since the circuit became half-open.
        probes_in_flight: probes admitted and not yet answered.
        times_opened: how many times the circuit has opened.
    """

    state: CircuitState
    changed_at: float
    requests: int
    admitted: int
    rejections: int
    successes: int
    failures: int
    neutral: int
    window_calls: int
    window_failures: int
    failure_rate: float
    open_duration: float
    consecutive_trips: int
    half_open_successes: int
    probes_in_flight: int
    times_opened: int
