"""Circuit breaker for one origin: a sans-IO state machine fed with request outcomes.

Theory of operation
-------------------
A breaker watches the outcomes of the requests sent to one origin and stops sending
when the service is plainly in trouble, so that callers fail fast instead of piling
onto a sick server. It trips on a **failure rate**, as Resilience4j and Polly do, not
on a failure count. Its states, events and legal moves are the table in
``_breaker_table`` (the state diagram); this module decides when each event happens:

- **CLOSED**: every request is admitted. The outcomes of the last ``window_size``
  calls (success or failure) are kept in a ring. After each outcome, the breaker
  opens when the ring holds at least ``minimum_calls`` outcomes *and* the failures
  among them are at least ``failure_rate`` of them (``failures / calls >=
  failure_rate``).
- **OPEN**: every request is rejected with ``retry_in``, the seconds until a probe may
  be sent. The first :meth:`CircuitBreaker.before_request` at or after the open
  duration moves the breaker to HALF_OPEN. The open duration is ``open_for`` after a
  trip from CLOSED and doubles each time a probe fails (the origin is still down), up
  to ``max_open_for``; closing resets it.
- **HALF_OPEN**: up to ``half_open_probes`` requests ("probes") are admitted at once;
  others are rejected. ``half_open_probes`` probe successes close the breaker (with an
  empty window); one probe failure opens it again.

Every state change goes through ``_breaker_table.next_state``; a move the table lacks
raises ``BreakerTransitionError`` naming the state and the event. One breaker serves
one origin; ``_breaker_registry.BreakerRegistry`` keeps one per origin.

Why these defaults (``BreakerPolicy``): a window of the last 50 calls, at least 20
calls, a failure rate of 60%. Every retry attempt is a call the breaker sees, so an
origin that fails 20% of attempts (which two retries turn into 0.8% of requests) shows
20% failures. At 20% the chance that 20 calls hold 12 failures is 1e-4, and that 50
calls hold 30 is 1e-10 per window; docs/resilience.md gives the simulated
probability of opening over 10,000 calls (none observed at 5% or 20%). A dead origin
(every call fails) opens at its 20th call, or within 30 calls of a healthy history.

Rules kept here
---------------
- Sans-IO: no trio, no clock, no I/O. Every method that depends on time takes
  ``now: float`` (seconds on any monotonic clock; the orchestrator passes
  ``trio.current_time()``). Nothing here awaits, and trio code without a checkpoint is
  atomic, so the breaker needs no lock (see ``_locks.py``).
- **The caller decides what a failure is.** The breaker never looks at errors. Record
  with :meth:`~CircuitBreaker.record_failure` only signs of service trouble:
  connection errors, timeouts and HTTP status >= 500 (and, with
  :meth:`~CircuitBreaker.record_failure_after_success`, a stream cut after its head).
  A 4xx (bad request, auth) or a 429 (the caller's own quota) says nothing about the
  service's health: record it with :meth:`~CircuitBreaker.record_neutral`, which
  releases a half-open probe slot without entering the window. A request that was
  cancelled or whose outcome is unknown is also recorded neutral (do it in a
  ``finally``), otherwise its probe slot stays taken.
- Outcomes are tied to the admission they answer. Each :class:`Admission` carries an
  opaque ticket and the breaker's generation (bumped at every transition). A late
  outcome of a request admitted before the last transition still counts in
  :meth:`~CircuitBreaker.statistics` but does not move the state and does not enter
  the window: the failures of the requests that were in flight when the breaker opened
  do not keep it open, and only a probe can close or re-open a half-open breaker.
- The rate is compared in exact integer arithmetic (``failure_rate`` as a fraction), so
  ``0.55`` of 100 calls is 55 failures, not a float that rounds either way.
- The breaker never raises for an open circuit; :meth:`~CircuitBreaker.before_request`
  returns a plain :class:`Admission` and the orchestrator raises ``CircuitOpenError``.

Options rejected
----------------
- *N failures within T seconds* (this module's first version: 5 in 10 s): at any real
  request rate a healthy-but-imperfect origin reaches N, so bulk jobs failed with
  ``CircuitOpenError`` at a 5% transient error rate. A rate needs a sample; a count
  does not look at the successes at all.
- *A time-based window* (Polly's sampling duration, Resilience4j's TIME_BASED): its
  sample size follows the request rate. A script making one call a second never
  reaches a useful minimum in 10 s (a dead origin would never trip), and a bulk job
  gets a huge sample that reacts slowly. A window of the last N calls behaves the same
  at any rate, holds N bytes, and states "opens within about 20 calls" directly. Its
  drawback, an old outcome staying in the window of a rarely used client, only matters
  when the outcomes around it are failures too.
- *Consecutive-failure counting* (a success resets the count): one lucky request among
  many failures would keep a failing service in use.
- *Trusting every probe to report back.* If a caller loses its probe admission (a bug,
  or a cancellation without the ``finally``), a half-open breaker would reject
  everything forever. A probe in flight for longer than ``open_for`` seconds is
  presumed lost and its slot is reused; its late outcome is then ignored.
"""

from __future__ import annotations

from collections.abc import Callable

from ._breaker_policy import Admission, BreakerPolicy, BreakerStatistics
from ._breaker_table import BreakerEvent, CircuitState, next_state

__all__ = [
    "Admission",
    "BreakerPolicy",
    "BreakerStatistics",
    "CircuitBreaker",
    "TransitionListener",
]


TransitionListener = Callable[[CircuitState, CircuitState, float], None]
"""``on_transition(old, new, now)``: called synchronously after every state change."""

NOT_IN_WINDOW = -1
"""What :meth:`CircuitBreaker.record_success` returns when the success entered no window."""


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
        "_failures",
        "_generation",
        "_half_open_successes",
        "_listener",
        "_neutral",
        "_next_ticket",
        "_open_duration",
        "_policy",
        "_probes",
        "_rate_den",
        "_rate_num",
        "_recorded",
        "_rejections",
        "_requests",
        "_ring",
        "_state",
        "_successes",
        "_times_opened",
        "_trips",
        "_window_failures",
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
        from fractions import Fraction  # (on first use: it is not needed at import)

        rate = Fraction(self._policy.failure_rate).limit_denominator(1_000_000)
        self._rate_num = rate.numerator
        self._rate_den = rate.denominator
        # --- state
        self._state = CircuitState.CLOSED
        self._changed_at = now
        # The window: outcome number k (k counted from 0 since the window was last
        # emptied) lives in _ring[k % window_size], 1 for a failure, 0 for a success.
        # Invariants: outcomes _recorded - window_size .. _recorded - 1 are the window;
        # _window_failures is the sum of those entries; the window is empty (and
        # _recorded 0) whenever the state is not CLOSED.
        self._ring = bytearray(self._policy.window_size)
        self._recorded = 0
        self._window_failures = 0
        # Probe successes since entering HALF_OPEN. Invariant: 0 outside HALF_OPEN.
        self._half_open_successes = 0
        # ticket -> admission time of probes in flight. Invariant: empty outside
        # HALF_OPEN; never more than half_open_probes entries.
        self._probes: dict[int, float] = {}
        # Openings since the last close, and the duration of the current (or last)
        # open period: open_for * 2 ** (trips - 1), at most max_open_for.
        self._trips = 0
        self._open_duration = self._policy.open_for
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

        OPEN becomes HALF_OPEN only when :meth:`before_request` notices that the open
        duration has passed; reading the state never changes it.
        """
        return self._state

    def _window_calls(self) -> int:
        return min(self._recorded, self._policy.window_size)

    def statistics(self) -> BreakerStatistics:
        """Return a frozen snapshot of the counters and state."""
        calls = self._window_calls()
        return BreakerStatistics(
            state=self._state,
            changed_at=self._changed_at,
            requests=self._requests,
            admitted=self._admitted,
            rejections=self._rejections,
            successes=self._successes,
            failures=self._failures,
            neutral=self._neutral,
            window_calls=calls,
            window_failures=self._window_failures,
            failure_rate=self._window_failures / calls if calls else 0.0,
            open_duration=self._open_duration,
            consecutive_trips=self._trips,
            half_open_successes=self._half_open_successes,
            probes_in_flight=len(self._probes),
            times_opened=self._times_opened,
        )

    def __repr__(self) -> str:
        p = self._policy
        if not p.enabled:
            detail = "disabled"
        elif self._state is CircuitState.CLOSED:
            calls = self._window_calls()
            rate = self._window_failures / calls if calls else 0.0
            detail = (
                f"failures={self._window_failures}/{calls} ({rate:.0%}) "
                f"opens_at={p.failure_rate:.0%} of >={p.minimum_calls} "
                f"in last {p.window_size}"
            )
        elif self._state is CircuitState.OPEN:
            detail = f"opened_at={self._changed_at} open_for={self._open_duration}s"
        else:
            detail = (
                f"probes={len(self._probes)}/{p.half_open_probes} "
                f"successes={self._half_open_successes}/{p.half_open_probes}"
            )
        return (
            f"<CircuitBreaker state={self._state.name} {detail} "
            f"requests={self._requests} rejections={self._rejections}>"
        )

    # ------------------------------------------------------------------ admitting

    def before_request(self, now: float) -> Admission:
        """Ask whether a request may be sent now.

        In OPEN, once the open duration has passed this moves the breaker to
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
            reopen_at = self._changed_at + self._open_duration
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

    # ------------------------------------------------------------------ the window

    def _counts(self, admission: Admission) -> bool:
        """Whether ``admission``'s outcome enters the window (CLOSED, this generation)."""
        return (
            self._state is CircuitState.CLOSED
            and admission.generation == self._generation
            and self._policy.enabled
        )

    def _push(self, failed: int) -> int:
        """Add an outcome to the window; return its number."""
        number = self._recorded
        size = len(self._ring)
        index = number % size
        if number >= size:
            self._window_failures -= self._ring[index]  # the oldest leaves the window
        self._ring[index] = failed
        self._window_failures += failed
        self._recorded = number + 1
        return number

    def _judge(self, now: float) -> None:
        """Open if the window holds enough calls and the failure rate is reached."""
        calls = self._window_calls()
        if (
            calls >= self._policy.minimum_calls
            and self._window_failures * self._rate_den >= self._rate_num * calls
        ):
            self._transition(BreakerEvent.TRIP, now)

    # ------------------------------------------------------------------ outcomes

    def _check_admitted(self, admission: Admission) -> None:
        if not admission.admitted:
            raise ValueError("cannot record the outcome of a rejected admission")

    def _take_probe(self, admission: Admission) -> bool:
        """Release ``admission``'s probe slot; return whether it was a live probe."""
        if not admission.probe or self._state is not CircuitState.HALF_OPEN:
            return False
        return self._probes.pop(admission.ticket, None) is not None

    def record_success(self, now: float, admission: Admission) -> int:
        """Record that an admitted request succeeded (the service answered, < 500).

        In CLOSED the success enters the window (and may still open the circuit: a
        success can bring the window to ``minimum_calls``). A live probe's success
        counts toward closing; ``half_open_probes`` of them close the circuit.

        Args:
            now: the current time.
            admission: what :meth:`before_request` returned for this request.

        Returns:
            The success's number in the window, for
            :meth:`record_failure_after_success`; :data:`NOT_IN_WINDOW` when it
            entered none (a probe, or a request admitted before the last transition).

        Raises:
            ValueError: ``admission`` was a rejection. Nothing is counted.
        """
        if not admission.admitted:
            self._check_admitted(admission)
        self._successes += 1
        if (
            self._state is CircuitState.CLOSED
            and admission.generation == self._generation
            and self._policy.enabled
        ):
            # _push(0), inlined: this is the hot path of every successful request.
            number = self._recorded
            ring = self._ring
            size = len(ring)
            index = number % size
            if number >= size:
                self._window_failures -= ring[index]
            ring[index] = 0
            self._recorded = number + 1
            if self._window_failures:  # (without failures a success cannot open it)
                self._judge(now)
            return number
        if self._take_probe(admission):
            self._half_open_successes += 1
            if self._half_open_successes >= self._policy.half_open_probes:
                self._transition(BreakerEvent.PROBES_SUCCEEDED, now)
        return NOT_IN_WINDOW

    def record_failure(self, now: float, admission: Admission) -> None:
        """Record that an admitted request met service trouble.

        Only connection errors, timeouts and HTTP status >= 500 are failures; record
        4xx and 429 with :meth:`record_neutral`. In CLOSED the failure enters the
        window and may open the circuit; a live probe's failure re-opens it.

        Args:
            now: the current time.
            admission: what :meth:`before_request` returned for this request.

        Raises:
            ValueError: ``admission`` was a rejection. Nothing is counted.
        """
        self._check_admitted(admission)
        self._failures += 1
        if self._counts(admission):
            self._push(1)
            self._judge(now)
        elif self._policy.enabled and self._take_probe(admission):
            self._transition(BreakerEvent.PROBE_FAILED, now)

    def record_failure_after_success(self, now: float, admission: Admission, number: int) -> None:
        """Record that a request recorded as a success failed afterwards.

        A streamed response is a success once its head arrives (the service answered);
        if its body then breaks (a dropped connection, a read timeout), the call
        failed after all. In CLOSED the success is turned into a failure if it is
        still in the window, or a failure is added if it has left it; the circuit may
        open. A probe whose stream breaks while the circuit is still half-open
        re-opens it. News about a request admitted before the last transition moves
        nothing.

        Args:
            now: the current time.
            admission: the admission whose success was recorded.
            number: what :meth:`record_success` returned for it.

        Raises:
            ValueError: ``admission`` was a rejection. Nothing is counted.
        """
        self._check_admitted(admission)
        self._failures += 1
        if self._counts(admission):
            size = self._policy.window_size
            if number != NOT_IN_WINDOW and self._recorded - number <= size:
                index = number % size
                if not self._ring[index]:
                    self._ring[index] = 1
                    self._window_failures += 1
            else:
                self._push(1)
            self._judge(now)
        elif (
            self._policy.enabled
            and admission.probe
            and self._state is CircuitState.HALF_OPEN
            and admission.generation == self._generation
        ):
            self._transition(BreakerEvent.PROBE_FAILED, now)

    def record_neutral(self, now: float, admission: Admission) -> None:
        """Record an outcome that says nothing about the service's health.

        Use it for 4xx and 429 responses, cancellations and unknown outcomes. It
        frees a probe slot without counting as success or failure, and does not enter
        the window.

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
        """Close the circuit at once and forget the window and the trips.

        Args:
            now: the current time.
        """
        if self._state is not CircuitState.CLOSED:
            self._transition(BreakerEvent.RESET, now)
        else:
            self._clear_window()
            self._trips = 0
            self._open_duration = self._policy.open_for

    # ------------------------------------------------------------------ transitions

    def _clear_window(self) -> None:
        self._recorded = 0
        self._window_failures = 0

    def _transition(self, event: BreakerEvent, now: float) -> None:
        # The only place that changes self._state.
        old = self._state
        new = next_state(old, event)
        self._state = new
        self._changed_at = now
        self._generation += 1
        self._probes.clear()
        self._half_open_successes = 0
        self._clear_window()
        policy = self._policy
        if new is CircuitState.OPEN:
            self._times_opened += 1
            self._trips += 1
            growth = 2.0 ** min(self._trips - 1, 64)
            self._open_duration = min(policy.open_for * growth, policy.max_open_for)
        elif new is CircuitState.CLOSED:
            self._trips = 0
            self._open_duration = policy.open_for
        if self._listener is not None:
            self._listener(old, new, now)
