"""Circuit breaker state machine: every transition, statistics, and random sequences.

Sans-IO: no trio; time is a plain float passed in. The window's edges (the rate, the
minimum number of calls, the oldest call leaving the window) are tested exactly.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trio_openai._resilience._breaker import (
    NOT_IN_WINDOW,
    Admission,
    BreakerPolicy,
    CircuitBreaker,
)
from trio_openai._resilience._breaker_table import TRANSITIONS, CircuitState

CLOSED, OPEN, HALF_OPEN = CircuitState.CLOSED, CircuitState.OPEN, CircuitState.HALF_OPEN

# A small window for the edge tests: 4 calls at least, half of them failed, of the last 8.
SMALL = BreakerPolicy(failure_rate=0.5, minimum_calls=4, window_size=8)


def outcomes(breaker: CircuitBreaker, pattern: str, at: float = 0.0) -> None:
    """Feed ``pattern`` ("F" failure, "S" success, "N" neutral) at time ``at``."""
    for kind in pattern:
        admission = breaker.before_request(at)
        assert admission.admitted
        if kind == "F":
            breaker.record_failure(at, admission)
        elif kind == "S":
            breaker.record_success(at, admission)
        else:
            breaker.record_neutral(at, admission)


def open_breaker(policy: BreakerPolicy | None = None, at: float = 0.0) -> CircuitBreaker:
    breaker = CircuitBreaker(policy)
    outcomes(breaker, "F" * breaker.policy.minimum_calls, at)
    assert breaker.state is OPEN
    return breaker


def probes(breaker: CircuitBreaker, at: float) -> list[Admission]:
    admitted = [breaker.before_request(at) for _ in range(breaker.policy.half_open_probes)]
    assert all(a.admitted and a.probe for a in admitted)
    return admitted


# --------------------------------------------------------------------------- CLOSED


def test_the_rate_exactly_at_the_threshold_opens() -> None:
    breaker = CircuitBreaker(SMALL)
    outcomes(breaker, "FSF")
    assert breaker.state is CLOSED  # 3 calls: under the minimum, whatever the rate
    outcomes(breaker, "S")  # 2 of 4 = 50%: exactly the rate
    assert breaker.state is OPEN


def test_a_rate_just_under_the_threshold_does_not_open() -> None:
    breaker = CircuitBreaker(BreakerPolicy(failure_rate=0.5, minimum_calls=5, window_size=5))
    outcomes(breaker, "FSFSS")  # 2 of 5 = 40%
    assert breaker.state is CLOSED
    stats = breaker.statistics()
    assert (stats.window_calls, stats.window_failures) == (5, 2)
    assert stats.failure_rate == pytest.approx(0.4)


def test_the_minimum_number_of_calls_is_inclusive() -> None:
    breaker = CircuitBreaker(SMALL)
    outcomes(breaker, "FFF")
    assert breaker.state is CLOSED  # 100% of 3 calls: too few to judge
    outcomes(breaker, "F")  # 4 calls: exactly the minimum
    assert breaker.state is OPEN


def test_the_rate_is_exact_where_floats_are_not() -> None:
    # 0.55 * 20 is 11.000000000000002 in floats: 11 failures of 20 must still open.
    policy = BreakerPolicy(failure_rate=0.55, minimum_calls=20, window_size=20)
    breaker = CircuitBreaker(policy)
    outcomes(breaker, "S" * 9 + "F" * 10)
    assert breaker.state is CLOSED
    outcomes(breaker, "F")
    assert breaker.state is OPEN


def test_the_oldest_call_leaves_the_window_exactly_at_its_size() -> None:
    # Window of 4, opening at 3 failures of 4 (75%).
    policy = BreakerPolicy(failure_rate=0.75, minimum_calls=4, window_size=4)
    breaker = CircuitBreaker(policy)
    outcomes(breaker, "SSFF")  # 2 of 4
    assert breaker.state is CLOSED
    outcomes(breaker, "F")  # the first S leaves: S F F F = 3 of 4
    assert breaker.state is OPEN


def test_a_failure_leaving_the_window_no_longer_counts() -> None:
    policy = BreakerPolicy(failure_rate=0.75, minimum_calls=4, window_size=4)
    breaker = CircuitBreaker(policy)
    outcomes(breaker, "FFSS")  # 2 of 4
    outcomes(breaker, "F")  # the first F leaves: F S S F = 2 of 4
    assert breaker.state is CLOSED
    assert breaker.statistics().window_failures == 2
    outcomes(breaker, "S")  # S S F S
    assert breaker.statistics().window_failures == 1


def test_a_success_pushes_the_oldest_failure_out_exactly_at_the_window_size() -> None:
    policy = BreakerPolicy(failure_rate=0.75, minimum_calls=4, window_size=4)
    breaker = CircuitBreaker(policy)
    outcomes(breaker, "FSSS")
    assert breaker.statistics().window_failures == 1
    outcomes(breaker, "S")  # the 5th outcome: the F (the 1st) leaves
    stats = breaker.statistics()
    assert (stats.window_calls, stats.window_failures) == (4, 0)
    outcomes(breaker, "FFF")  # S F F F: 3 of 4
    assert breaker.statistics().times_opened == 1


def test_a_success_that_completes_the_minimum_can_open() -> None:
    breaker = CircuitBreaker()
    outcomes(breaker, "F" * 19)
    assert breaker.state is CLOSED
    outcomes(breaker, "S")  # 19 of 20 failed
    assert breaker.state is OPEN


def test_successes_and_neutral_outcomes_never_open_the_circuit() -> None:
    breaker = CircuitBreaker()
    outcomes(breaker, "SN" * 100)
    assert breaker.state is CLOSED
    stats = breaker.statistics()
    assert (stats.window_calls, stats.window_failures) == (50, 0)
    assert stats.neutral == 100


def test_neutral_outcomes_do_not_dilute_the_rate() -> None:
    breaker = CircuitBreaker(SMALL)
    outcomes(breaker, "FNNNNNNNNNF")  # 429s and 4xx between two failures
    assert breaker.statistics().window_calls == 2
    outcomes(breaker, "SS")
    assert breaker.state is OPEN  # 2 of 4


def test_a_transient_error_rate_of_20_percent_keeps_it_closed() -> None:
    breaker = CircuitBreaker()
    outcomes(breaker, "FSSSS" * 2_000)
    assert breaker.state is CLOSED
    assert breaker.statistics().failure_rate == pytest.approx(0.2)


def test_failures_of_requests_in_flight_when_it_opened_do_not_count() -> None:
    breaker = CircuitBreaker(SMALL)
    in_flight = [breaker.before_request(0.0) for _ in range(10)]
    for a in in_flight[:4]:
        breaker.record_failure(1.0, a)
    assert breaker.state is OPEN
    # The others fail late, after the breaker has moved on to HALF_OPEN.
    admitted = probes(breaker, 31.0)
    for a in in_flight[4:8]:
        breaker.record_failure(32.0, a)
    assert breaker.state is HALF_OPEN
    for probe in admitted:
        breaker.record_success(33.0, probe)
    assert breaker.state is CLOSED
    # ...and after closing, those stale failures still do not enter the window.
    breaker.record_failure(34.0, in_flight[8])
    assert breaker.statistics().window_calls == 0
    assert breaker.statistics().failures == 9


# --------------------------------------------------------------------------- OPEN


def test_open_circuit_rejects_with_time_until_the_next_probe() -> None:
    breaker = open_breaker(at=100.0)
    a = breaker.before_request(112.5)
    assert not a.admitted
    assert a.retry_in == pytest.approx(17.5)
    assert a.state is OPEN
    assert breaker.state is OPEN
    assert breaker.statistics().window_calls == 0  # the window was emptied


def test_the_open_duration_doubles_per_failed_probe_up_to_the_cap() -> None:
    breaker = open_breaker(at=0.0)
    opened_at, durations = 0.0, []
    for _ in range(4):
        duration = breaker.statistics().open_duration
        durations.append(duration)
        assert not breaker.before_request(opened_at + duration - 0.001).admitted
        probe = breaker.before_request(opened_at + duration)
        assert probe.probe
        opened_at += duration
        breaker.record_failure(opened_at, probe)
        assert breaker.state is OPEN
    assert durations == [30.0, 60.0, 120.0, 120.0]
    assert breaker.statistics().consecutive_trips == 5
    # Closing resets the growth: the next trip opens for open_for again.
    for probe in probes(breaker, opened_at + 120.0):
        breaker.record_success(opened_at + 120.0, probe)
    assert breaker.state is CLOSED
    assert breaker.statistics().consecutive_trips == 0
    outcomes(breaker, "F" * 20, at=1_000.0)
    assert breaker.statistics().open_duration == 30.0


def test_max_open_for_equal_to_open_for_turns_growth_off() -> None:
    breaker = open_breaker(BreakerPolicy(open_for=5.0, max_open_for=5.0))
    probe = breaker.before_request(5.0)
    breaker.record_failure(5.0, probe)
    assert breaker.before_request(9.999).retry_in == pytest.approx(0.001)
    assert breaker.before_request(10.0).probe


# --------------------------------------------------------------------------- HALF_OPEN


def test_after_open_for_three_probes_are_admitted_and_others_wait() -> None:
    breaker = open_breaker(at=0.0)
    admitted = probes(breaker, 30.0)
    assert len(admitted) == 3
    assert breaker.state is HALF_OPEN
    other = breaker.before_request(31.0)
    assert not other.admitted
    assert other.retry_in == pytest.approx(29.0)  # when the oldest probe is presumed lost
    assert breaker.statistics().probes_in_flight == 3


def test_probe_successes_close_the_circuit_with_an_empty_window() -> None:
    breaker = open_breaker()
    p1, p2, p3 = probes(breaker, 30.0)
    breaker.record_success(30.5, p1)
    breaker.record_success(30.5, p2)
    assert breaker.state is HALF_OPEN
    assert breaker.statistics().half_open_successes == 2
    breaker.record_success(30.6, p3)
    assert breaker.state is CLOSED
    assert breaker.statistics().window_calls == 0
    assert breaker.before_request(30.7).admitted


def test_one_probe_failure_reopens_for_the_grown_duration() -> None:
    breaker = open_breaker()
    p1, p2, _ = probes(breaker, 30.0)
    breaker.record_success(30.5, p1)
    breaker.record_failure(31.0, p2)
    assert breaker.state is OPEN
    rejected = breaker.before_request(40.0)
    assert not rejected.admitted
    assert rejected.retry_in == pytest.approx(51.0)  # 31 + 60 - 40
    assert breaker.before_request(91.0).probe


def test_neutral_outcome_releases_the_probe_without_deciding() -> None:
    breaker = open_breaker(BreakerPolicy(half_open_probes=1))
    probe = breaker.before_request(30.0)
    assert not breaker.before_request(30.1).admitted
    breaker.record_neutral(30.2, probe)  # e.g. the probe got a 429, or was cancelled
    assert breaker.state is HALF_OPEN
    second = breaker.before_request(30.3)
    assert second.admitted
    assert second.probe


def test_a_lost_probe_is_reclaimed_after_open_for() -> None:
    breaker = open_breaker(BreakerPolicy(half_open_probes=1))
    lost = breaker.before_request(30.0)  # never recorded
    assert lost.probe
    waiting = breaker.before_request(45.0)
    assert waiting.retry_in == pytest.approx(15.0)
    replacement = breaker.before_request(60.0)
    assert replacement.admitted
    assert replacement.probe
    breaker.record_success(60.5, lost)  # late news about the lost probe: ignored
    assert breaker.state is HALF_OPEN
    breaker.record_success(61.0, replacement)
    assert breaker.state is CLOSED


# --------------------------------------------------------------------------- after the head


def test_a_stream_cut_after_its_head_turns_its_success_into_a_failure() -> None:
    breaker = CircuitBreaker(SMALL)
    outcomes(breaker, "FS")
    a = breaker.before_request(0.0)
    number = breaker.record_success(0.0, a)
    assert number == 2
    outcomes(breaker, "S")
    assert breaker.statistics().window_failures == 1
    breaker.record_failure_after_success(1.0, a, number)  # F S F S: 2 of 4
    stats = breaker.statistics()
    assert (stats.window_calls, stats.window_failures) == (0, 0)  # opened, window emptied
    assert breaker.state is OPEN
    assert (stats.successes, stats.failures) == (3, 2)


def test_a_cut_stream_whose_success_is_the_oldest_in_the_window_is_flipped() -> None:
    policy = BreakerPolicy(failure_rate=1.0, minimum_calls=4, window_size=4)
    breaker = CircuitBreaker(policy)
    a = breaker.before_request(0.0)
    number = breaker.record_success(0.0, a)
    outcomes(breaker, "FFF")  # the window is exactly full: S F F F
    breaker.record_failure_after_success(0.0, a, number)  # the oldest, flipped: F F F F
    assert breaker.state is OPEN


def test_a_cut_stream_whose_success_left_the_window_adds_a_failure() -> None:
    policy = BreakerPolicy(failure_rate=1.0, minimum_calls=4, window_size=4)
    breaker = CircuitBreaker(policy)
    a = breaker.before_request(0.0)
    number = breaker.record_success(0.0, a)
    outcomes(breaker, "SFF")  # the first S has not left yet: S S F F
    outcomes(breaker, "F")  # now it has: S F F F
    breaker.record_failure_after_success(0.0, a, number)  # added: F F F F
    assert breaker.state is OPEN


def test_a_probe_cut_after_its_head_reopens_a_half_open_circuit() -> None:
    breaker = open_breaker()
    p1, _, _ = probes(breaker, 30.0)
    number = breaker.record_success(30.1, p1)
    assert number == NOT_IN_WINDOW
    breaker.record_failure_after_success(30.2, p1, number)
    assert breaker.state is OPEN


def test_a_cut_stream_from_before_the_last_transition_moves_nothing() -> None:
    breaker = open_breaker()
    admitted = probes(breaker, 30.0)
    numbers = [breaker.record_success(30.1, p) for p in admitted]
    assert breaker.state is CLOSED
    breaker.record_failure_after_success(30.2, admitted[0], numbers[0])
    assert breaker.state is CLOSED
    assert breaker.statistics().window_calls == 0


# --------------------------------------------------------------------------- misc


def test_disabled_policy_never_opens() -> None:
    breaker = CircuitBreaker(BreakerPolicy(enabled=False))
    outcomes(breaker, "F" * 100)
    assert breaker.state is CLOSED
    stats = breaker.statistics()
    assert stats.failures == 100
    assert stats.rejections == 0
    assert "disabled" in repr(breaker)


def test_reset_closes_an_open_circuit() -> None:
    breaker = open_breaker()
    breaker.reset(5.0)
    assert breaker.state is CLOSED
    assert breaker.before_request(5.0).admitted


def test_reset_of_a_closed_circuit_forgets_the_window() -> None:
    breaker = CircuitBreaker(SMALL)
    outcomes(breaker, "FFF")
    breaker.reset(1.0)
    outcomes(breaker, "FSS")
    assert breaker.state is CLOSED


def test_recording_a_rejection_is_an_error_and_counts_nothing() -> None:
    breaker = open_breaker()
    rejected = breaker.before_request(1.0)
    before = breaker.statistics()
    for record in (breaker.record_success, breaker.record_failure, breaker.record_neutral):
        with pytest.raises(ValueError, match="rejected"):
            record(1.0, rejected)
    with pytest.raises(ValueError, match="rejected"):
        breaker.record_failure_after_success(1.0, rejected, 0)
    assert breaker.statistics() == before


def test_statistics_add_up() -> None:
    breaker = CircuitBreaker(BreakerPolicy(failure_rate=0.5, minimum_calls=3, open_for=5.0))
    t = 0.0
    kinds = ["ok", "fail", "neutral", "fail", "fail", "ok", "ok", "ok", "fail", "ok"]
    for i in range(60):
        t += 0.7
        a = breaker.before_request(t)
        if not a.admitted:
            continue
        kind = kinds[i % len(kinds)]
        if kind == "ok":
            breaker.record_success(t, a)
        elif kind == "fail":
            breaker.record_failure(t, a)
        else:
            breaker.record_neutral(t, a)
    s = breaker.statistics()
    assert s.requests == 60
    assert s.requests == s.admitted + s.rejections
    assert s.admitted == s.successes + s.failures + s.neutral
    assert s.rejections > 0
    assert s.times_opened > 0


def test_listener_sees_every_transition_in_order() -> None:
    seen: list[tuple[CircuitState, CircuitState, float]] = []
    policy = BreakerPolicy(half_open_probes=1)
    breaker = CircuitBreaker(
        policy, on_transition=lambda old, new, now: seen.append((old, new, now))
    )
    outcomes(breaker, "F" * 20, at=1.0)
    probe = breaker.before_request(31.0)
    breaker.record_failure(32.0, probe)
    probe = breaker.before_request(92.0)
    breaker.record_success(93.0, probe)
    assert seen == [
        (CLOSED, OPEN, 1.0),
        (OPEN, HALF_OPEN, 31.0),
        (HALF_OPEN, OPEN, 32.0),
        (OPEN, HALF_OPEN, 92.0),
        (HALF_OPEN, CLOSED, 93.0),
    ]


def test_repr_shows_the_state_and_the_rate() -> None:
    breaker = CircuitBreaker()
    outcomes(breaker, "FFSS")
    text = repr(breaker)
    assert "state=CLOSED" in text
    assert "failures=2/4 (50%)" in text
    assert "opens_at=60% of >=20 in last 50" in text
    outcomes(breaker, "F" * 16)  # 18 of 20
    assert "state=OPEN" in repr(breaker)
    assert "open_for=30.0s" in repr(breaker)
    breaker.before_request(30.0)
    assert "state=HALF_OPEN" in repr(breaker)
    assert "probes=1/3" in repr(breaker)


# --------------------------------------------------------------------------- random


operation = st.tuples(
    st.sampled_from(["request", "request", "success", "failure", "neutral", "cut"]),
    st.floats(min_value=0.0, max_value=12.0, allow_nan=False),
    st.integers(min_value=0, max_value=1_000),
)


@settings(max_examples=300, deadline=None)
@given(
    rate=st.sampled_from([0.2, 0.5, 0.55, 0.6, 1.0]),
    minimum=st.integers(1, 6),
    extra=st.integers(0, 4),
    probe_slots=st.integers(1, 3),
    ops=st.lists(operation, max_size=150),
)
def test_random_sequences_keep_the_invariants(
    rate: float,
    minimum: int,
    extra: int,
    probe_slots: int,
    ops: list[tuple[str, float, int]],
) -> None:
    policy = BreakerPolicy(
        failure_rate=rate,
        minimum_calls=minimum,
        window_size=minimum + extra,
        open_for=15.0,
        max_open_for=40.0,
        half_open_probes=probe_slots,
    )
    threshold = Fraction(rate).limit_denominator(1_000_000)
    moves: list[tuple[CircuitState, CircuitState]] = []
    breaker = CircuitBreaker(policy, on_transition=lambda old, new, now: moves.append((old, new)))
    outstanding: list[Admission] = []
    succeeded: list[tuple[Admission, int]] = []
    recorded = 0
    cuts = 0
    now = 0.0
    for kind, dt, pick in ops:
        now += dt
        if kind == "request":
            was = breaker.state
            a = breaker.before_request(now)
            if a.admitted:
                outstanding.append(a)
                assert a.retry_in == 0.0
            else:
                # Rejections only when OPEN, or HALF_OPEN with every probe slot taken.
                assert breaker.state in (OPEN, HALF_OPEN)
                assert a.retry_in > 0
                if breaker.state is HALF_OPEN:
                    assert breaker.statistics().probes_in_flight == probe_slots
                else:
                    assert was is OPEN
            if a.probe:
                assert breaker.state is HALF_OPEN
        elif kind == "cut":
            if succeeded:
                a, number = succeeded.pop(pick % len(succeeded))
                breaker.record_failure_after_success(now, a, number)
                cuts += 1
        elif outstanding:
            a = outstanding.pop(pick % len(outstanding))
            recorded += 1
            if kind == "success":
                succeeded.append((a, breaker.record_success(now, a)))
            elif kind == "failure":
                breaker.record_failure(now, a)
            else:
                breaker.record_neutral(now, a)
        s = breaker.statistics()
        assert 0 <= s.probes_in_flight <= probe_slots
        if s.state is not HALF_OPEN:
            assert s.probes_in_flight == 0
            assert s.half_open_successes == 0
        assert 0 <= s.window_failures <= s.window_calls <= policy.window_size
        if s.state is CLOSED and s.window_calls >= minimum:
            assert Fraction(s.window_failures, s.window_calls) < threshold
        if s.state is not CLOSED:
            assert s.window_calls == 0
        assert 15.0 <= s.open_duration <= 40.0
        assert s.requests == s.admitted + s.rejections
        assert s.successes + s.failures + s.neutral == recorded + cuts
        assert s.admitted == recorded + len(outstanding)
    # Every move the listener saw is in the table, and they chain.
    previous = CLOSED
    for old, new in moves:
        assert old is previous
        assert new in TRANSITIONS[old].values()
        previous = new
    assert previous is breaker.state
