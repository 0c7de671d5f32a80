"""Circuit breaker for one origin: a sans-IO state machine fed with request outcomes.

Theory of operation
-------------------
A breaker watches the outcomes of the requests sent to one origin and stops sending
when the service is plainly in trouble, so that callers fail fast instead of piling
onto a sick server. Its states, events and legal moves are the table in
``_breaker_table`` (the state diagram); this module decides when each event happens:

- **CLOSED**: every request is admitted. Failures are remembered in a sliding window;
  when ``failure_threshold`` of them fall within ``window`` seconds the breaker opens.
- **OPEN**: every request is rejected with ``retry_in``, the seconds until a probe may
  be sent. The first :meth:`CircuitBreaker.before_request` at or after ``open_for``
  seconds moves the breaker to HALF_OPEN.
- **HALF_OPEN**: up to ``half_open_probes`` requests ("probes") are admitted at once;
  others are rejected. ``successes_to_close`` probe successes close the breaker; one
  probe failure opens it again for another ``open_for`` seconds.

Every state change goes through ``_breaker_table.next_state``; a move the table lacks
raises ``BreakerTransitionError`` naming the state and the event. One breaker serves
one origin; ``_breaker_registry.BreakerRegistry`` keeps one per origin.

Rules kept here
---------------
- Sans-IO: no trio, no clock, no I/O. Every method that depends on time takes
  ``now: float`` (seconds on any monotonic clock; the orchestrator passes
  ``trio.current_time()``). Nothing here awaits, and trio code without a checkpoint is
  atomic, so the breaker needs no lock (see ``_locks.py``).
- **The caller decides what a failure is.** The breaker never looks at errors. Record
  with :meth:`~CircuitBreaker.record_failure` only signs of service trouble:
  connection errors, timeouts and HTTP status >= 500. A 4xx (bad request, auth) or a
  429 (the caller's own quota) says nothing about the service's health: record it with
  :meth:`~CircuitBreaker.record_neutral`, which releases a half-open probe slot without
  counting either way. A request that was cancelled or whose outcome is unknown is also
  recorded neutral (do it in a ``finally``), otherwise its probe slot stays taken.
- Outcomes are tied to the admission they answer. Each :class:`Admission` carries an
  opaque ticket and the breaker's generation (bumped at every transition). A late
  outcome of a request admitted before the last transition still counts in
  :meth:`~CircuitBreaker.statistics` but does not move the state: the failures of the
  requests that were in flight when the breaker opened do not keep it open, and only a
  probe can close or re-open a half-open breaker.
- The breaker never raises for an open circuit; :meth:`~CircuitBreaker.before_request`
  returns a plain :class:`Admission` and the orchestrator raises ``CircuitOpenError``.

Options rejected
----------------
- *A fixed failure window starting at the first failure* (the seed's
  ``failure_count`` + ``window_start``): five failures at 9, 11, 12, 13 and 14 s fall
  within 10 s but straddle two fixed windows. A sliding window over the last
  ``failure_threshold`` failure times (a bounded deque) is exact and as cheap.
  ``window_start`` survives as the time of the oldest failure still counted.
- *Consecutive-failure counting* (a success resets the count): one lucky request among
  many failures would keep a failing service in use. Successes in CLOSED do not reset
  the window; failures simply age out of it.
- *Trusting every probe to report back.* If a caller loses its probe admission (a bug,
  or a cancellation without the ``finally``), a half-open breaker would reject
  everything forever. A probe in flight for longer than ``open_for`` seconds is
  presumed lost and its slot is reused; its late outcome is then ignored.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable

import msgspec

from ._breaker_table import BreakerEvent, CircuitState, next_state

__all__ = [
    "Admission",
    "BreakerPolicy",
    "BreakerStatistics",
    "CircuitBreaker",
    "TransitionListener",
]


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


class BreakerPolicy(msgspec.Struct, frozen=True):
    """How eagerly a circuit breaker opens and how it recovers.

    Defaults follow DESIGN.md section 6: open after 5 failures within 10 s, stay open
    30 s, then admit 1 probe and close on its success.

    Attributes:
        failure_threshold: failures within ``window`` seconds that open the circuit.
        window: length in seconds of the sliding failure window.
        open_for: seconds the circuit stays open before a probe is let through. Also
            the time after which an unanswered probe is presumed lost.
        half_open_probes: probes admitted at the same time while half-open.
        successes_to_close: probe successes needed to close the circuit again.
        enabled: ``False`` turns the breaker into a counter that admits everything.

    Raises:
        TypeError: a field has the wrong type (the message names the field).
        ValueError: a field is out of range (the message names field and rule).
    """

    failure_threshold: int = 5
    window: float = 10.0
    open_for: float = 30.0
    half_open_probes: int = 1
    successes_to_close: int = 1
    enabled: bool = True

    def __post_init__(self) -> None:
        _check_count("failure_threshold", self.failure_threshold)
        _check_seconds("window", self.window)
        _check_seconds("open_for", self.open_for)
        _check_count("half_open_probes", self.half_open_probes)
        _check_count("successes_to_close", self.successes_to_close)
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
            rest of ``open_for``; in a full HALF_OPEN, the latest time a probe slot
            frees up). ``0.0`` when admitted.
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
        failures: outcomes recorded as failure.
        neutral: outcomes recorded as neutral.
        recent_failures: failures currently remembered in the window (as of the last
            failure recorded; they age out as ``window`` passes).
        window_start: time of the oldest remembered failure, or ``None``.
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
    recent_failures: int
    window_start: float | None
    half_open_successes: int
    probes_in_flight: int
    times_opened: int


TransitionListener = Callable[[CircuitState, CircuitState, float], None]
"""``on_transition(old, new, now)``: called synchronously after every state change."""


# --------------------------------------------------------------------------- breaker


class CircuitBreaker:
    """The breaker for one origin. Sans-IO: pass ``now`` to every timed call.

    Args:
        policy: thresholds and durations; the defaults of :class:`BreakerPolicy` if
            omitted.
        now: creation time, reported as ``changed_at`` until the first transition.
        on_transition: optional ``(old, new, now)`` callback run after each state
            change (for logging or metrics). It must not raise: an exception propagates
            out of the method that caused the transition, with the breaker already in
            its new, consistent state.
    """

    __slots__ = (
        "_admitted",
        "_changed_at",
        "_failure_times",
        "_failures",
        "_generation",
        "_half_open_successes",
        "_listener",
        "_neutral",
        "_next_ticket",
        "_policy",
        "_probes",
        "_rejections",
        "_requests",
        "_state",
        "_successes",
        "_times_opened",
    )

    def __init__(
        self,
        policy: BreakerPolicy | None = None,
        *,
        now: float = 0.0,
        on_transition: TransitionListener | None = None,
    ) -> None:
        self._policy = policy if policy is not None else BreakerPolicy()
        self._listener = on_transition
        # --- state (seed section 11.2)
        self._state = CircuitState.CLOSED
        self._changed_at = now
        # Times of the latest failures recorded in CLOSED, oldest first. Invariant: at
        # most failure_threshold entries (maxlen); entries older than `window` are
        # pruned whenever a failure is added.
        self._failure_times: deque[float] = deque(maxlen=self._policy.failure_threshold)
        # Probe successes since entering HALF_OPEN. Invariant: 0 outside HALF_OPEN.
        self._half_open_successes = 0
        # ticket -> admission time of probes in flight. Invariant: empty outside
        # HALF_OPEN; never more than half_open_probes entries.
        self._probes: dict[int, float] = {}
        # Bumped at every transition; outcomes of older admissions move no state.
        self._generation = 0
        self._next_ticket = 0
        # --- statistics (only ever incremented)
        self._requests = 0
        self._admitted = 0
        self._rejections = 0
        self._successes = 0
        self._failures = 0
        self._neutral = 0
        self._times_opened = 0

    # ------------------------------------------------------------------ reading

    @property
    def policy(self) -> BreakerPolicy:
        """The policy this breaker was built with."""
        return self._policy

    @property
    def state(self) -> CircuitState:
        """The current state.

        OPEN becomes HALF_OPEN only when :meth:`before_request` notices that
        ``open_for`` has passed; reading the state never changes it.
        """
        return self._state

    def statistics(self) -> BreakerStatistics:
        """Return a frozen snapshot of the counters and state."""
        return BreakerStatistics(
            state=self._state,
            changed_at=self._changed_at,
            requests=self._requests,
            admitted=self._admitted,
            rejections=self._rejections,
            successes=self._successes,
            failures=self._failures,
            neutral=self._neutral,
            recent_failures=len(self._failure_times),
            window_start=self._failure_times[0] if self._failure_times else None,
            half_open_successes=self._half_open_successes,
            probes_in_flight=len(self._probes),
            times_opened=self._times_opened,
        )

    def __repr__(self) -> str:
        p = self._policy
        if not p.enabled:
            detail = "disabled"
        elif self._state is CircuitState.CLOSED:
            detail = f"failures={len(self._failure_times)}/{p.failure_threshold} in {p.window}s"
        elif self._state is CircuitState.OPEN:
            detail = f"opened_at={self._changed_at} open_for={p.open_for}s"
        else:
            detail = (
                f"probes={len(self._probes)}/{p.half_open_probes} "
                f"successes={self._half_open_successes}/{p.successes_to_close}"
            )
        return (
            f"<CircuitBreaker state={self._state.name} {detail} "
            f"requests={self._requests} rejections={self._rejections}>"
        )

    # ------------------------------------------------------------------ admitting

    def before_request(self, now: float) -> Admission:
        """Ask whether a request may be sent now.

        In OPEN, once ``open_for`` seconds have passed this moves the breaker to
        HALF_OPEN (and calls the listener) before answering.

        Args:
            now: the current time.

        Returns:
            An :class:`Admission`. When ``admitted`` is false, ``retry_in`` says how
            long until a probe could be admitted.
        """
        self._requests += 1
        if not self._policy.enabled:
            return self._admit(probe=False)
        state = self._state
        if state is CircuitState.CLOSED:
            return self._admit(probe=False)
        if state is CircuitState.OPEN:
            reopen_at = self._changed_at + self._policy.open_for
            if now < reopen_at:
                return self._reject(reopen_at - now)
            self._transition(BreakerEvent.COOLED_DOWN, now)
        # HALF_OPEN (possibly just entered).
        self._expire_lost_probes(now)
        if len(self._probes) < self._policy.half_open_probes:
            admission = self._admit(probe=True)
            self._probes[admission.ticket] = now
            return admission
        oldest = min(self._probes.values())
        return self._reject(max(oldest + self._policy.open_for - now, 0.0))

    def _admit(self, *, probe: bool) -> Admission:
        self._admitted += 1
        self._next_ticket += 1
        return Admission(
            admitted=True,
            retry_in=0.0,
            probe=probe,
            state=self._state,
            ticket=self._next_ticket,
            generation=self._generation,
        )

    def _reject(self, retry_in: float) -> Admission:
        self._rejections += 1
        return Admission(
            admitted=False,
            retry_in=retry_in,
            probe=False,
            state=self._state,
            ticket=0,
            generation=self._generation,
        )

    def _expire_lost_probes(self, now: float) -> None:
        limit = self._policy.open_for
        lost = [t for t, started in self._probes.items() if now - started >= limit]
        for ticket in lost:
            del self._probes[ticket]

    # ------------------------------------------------------------------ outcomes

    def _check_admitted(self, admission: Admission) -> None:
        if not admission.admitted:
            raise ValueError("cannot record the outcome of a rejected admission")

    def _take_probe(self, admission: Admission) -> bool:
        """Release ``admission``'s probe slot; return whether it was a live probe."""
        if not admission.probe or self._state is not CircuitState.HALF_OPEN:
            return False
        return self._probes.pop(admission.ticket, None) is not None

    def record_success(self, now: float, admission: Admission) -> None:
        """Record that an admitted request succeeded (the service answered, < 500).

        A live probe's success counts toward ``successes_to_close``; reaching it
        closes the circuit. Other successes only count in the statistics.

        Args:
            now: the current time.
            admission: what :meth:`before_request` returned for this request.

        Raises:
            ValueError: ``admission`` was a rejection. Nothing is counted.
        """
        self._check_admitted(admission)
        self._successes += 1
        if self._take_probe(admission):
            self._half_open_successes += 1
            if self._half_open_successes >= self._policy.successes_to_close:
                self._transition(BreakerEvent.PROBES_SUCCEEDED, now)

    def record_failure(self, now: float, admission: Admission) -> None:
        """Record that an admitted request met service trouble.

        Only connection errors, timeouts and HTTP status >= 500 are failures; record
        4xx and 429 with :meth:`record_neutral`. In CLOSED the failure enters the
        sliding window and may open the circuit; a live probe's failure re-opens it.

        Args:
            now: the current time.
            admission: what :meth:`before_request` returned for this request.

        Raises:
            ValueError: ``admission`` was a rejection. Nothing is counted.
        """
        self._check_admitted(admission)
        self._failures += 1
        if not self._policy.enabled:
            return
        if self._state is CircuitState.CLOSED:
            if admission.generation != self._generation:
                return  # admitted before the last open/close cycle: stale news
            times = self._failure_times
            times.append(now)  # maxlen drops the oldest beyond the threshold
            window = self._policy.window
            while times and now - times[0] >= window:
                times.popleft()
            if len(times) >= self._policy.failure_threshold:
                self._transition(BreakerEvent.TRIP, now)
        elif self._take_probe(admission):
            self._transition(BreakerEvent.PROBE_FAILED, now)

    def record_neutral(self, now: float, admission: Admission) -> None:
        """Record an outcome that says nothing about the service's health.

        Use it for 4xx and 429 responses, cancellations and unknown outcomes. It
        frees a probe slot without counting as success or failure.

        Args:
            now: the current time (unused today; kept for a uniform signature).
            admission: what :meth:`before_request` returned for this request.

        Raises:
            ValueError: ``admission`` was a rejection. Nothing is counted.
        """
        self._check_admitted(admission)
        self._neutral += 1
        self._take_probe(admission)

    def reset(self, now: float) -> None:
        """Close the circuit at once and forget remembered failures.

        Args:
            now: the current time.
        """
        if self._state is not CircuitState.CLOSED:
            self._transition(BreakerEvent.RESET, now)
        else:
            self._failure_times.clear()

    # ------------------------------------------------------------------ transitions

    def _transition(self, event: BreakerEvent, now: float) -> None:
        # The only place that changes self._state.
        old = self._state
        new = next_state(old, event)
        self._state = new
        self._changed_at = now
        self._generation += 1
        self._probes.clear()
        self._half_open_successes = 0
        if new is CircuitState.CLOSED or new is CircuitState.OPEN:
            self._failure_times.clear()
        if new is CircuitState.OPEN:
            self._times_opened += 1
        if self._listener is not None:
            self._listener(old, new, now)
