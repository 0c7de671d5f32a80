"""Circuit breaker state machine: every transition, statistics, and random sequences.

Sans-IO: no trio; time is a plain float passed in.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trio_openai._resilience._breaker import Admission, BreakerPolicy, CircuitBreaker
from trio_openai._resilience._breaker_table import TRANSITIONS, CircuitState

CLOSED, OPEN, HALF_OPEN = CircuitState.CLOSED, CircuitState.OPEN, CircuitState.HALF_OPEN


def fail_n(breaker: CircuitBreaker, times: list[float]) -> None:
    for t in times:
        admission = breaker.before_request(t)
        assert admission.admitted
        breaker.record_failure(t, admission)


def open_breaker(policy: BreakerPolicy | None = None, at: float = 0.0) -> CircuitBreaker:
    breaker = CircuitBreaker(policy)
    fail_n(breaker, [at] * breaker.policy.failure_threshold)
    assert breaker.state is OPEN
    return breaker


# --------------------------------------------------------------------------- policy


def test_policy_defaults_match_the_design() -> None:
    p = BreakerPolicy()
    assert (p.failure_threshold, p.window, p.open_for) == (5, 10.0, 30.0)
    assert (p.half_open_probes, p.successes_to_close, p.enabled) == (1, 1, True)


@pytest.mark.parametrize(
    ("field", "value", "error", "fragment"),
    [
        ("failure_threshold", 0, ValueError, ">= 1"),
        ("failure_threshold", 2.5, TypeError, "must be an int"),
        ("failure_threshold", True, TypeError, "must be an int"),
        ("window", 0, ValueError, "> 0"),
        ("window", float("nan"), ValueError, "finite"),
        ("open_for", -1.0, ValueError, "> 0"),
        ("open_for", float("inf"), ValueError, "finite"),
        ("open_for", "30", TypeError, "number of seconds"),
        ("half_open_probes", 0, ValueError, ">= 1"),
        ("successes_to_close", -3, ValueError, ">= 1"),
        ("enabled", 1, TypeError, "bool"),
    ],
)
def test_policy_rejects_bad_values_naming_field_and_rule(
    field: str, value: object, error: type[Exception], fragment: str
) -> None:
    with pytest.raises(error) as info:
        BreakerPolicy(**{field: value})  # type: ignore[arg-type]
    assert f"BreakerPolicy.{field}" in str(info.value)
    assert fragment in str(info.value)


# --------------------------------------------------------------------------- CLOSED


def test_threshold_failures_within_window_open_the_circuit() -> None:
    breaker = CircuitBreaker()
    fail_n(breaker, [0.0, 1.0, 2.0, 3.0])
    assert breaker.state is CLOSED
    fail_n(breaker, [9.9])
    assert breaker.state is OPEN
    assert breaker.statistics().times_opened == 1


def test_failures_spread_wider_than_the_window_do_not_open() -> None:
    breaker = CircuitBreaker()
    fail_n(breaker, [0.0, 2.6, 5.2, 7.8, 10.4])  # first and fifth are 10.4 s apart
    assert breaker.state is CLOSED
    assert breaker.statistics().recent_failures == 4  # the one at 0.0 aged out


def test_window_slides_rather_than_resetting() -> None:
    # 9, 11, 12, 13, 14: five failures within 10 s that straddle any fixed window
    # started by the first failure at 0.
    breaker = CircuitBreaker()
    fail_n(breaker, [0.0, 9.0, 11.0, 12.0, 13.0])
    assert breaker.state is CLOSED
    fail_n(breaker, [14.0])
    assert breaker.state is OPEN


def test_successes_and_neutral_outcomes_never_open_the_circuit() -> None:
    breaker = CircuitBreaker()
    for i in range(50):
        t = i * 0.01
        a = breaker.before_request(t)
        if i % 2:
            breaker.record_neutral(t, a)  # e.g. 400, 401, 429
        else:
            breaker.record_success(t, a)
    assert breaker.state is CLOSED
    assert breaker.statistics().recent_failures == 0


def test_successes_do_not_wipe_recent_failures() -> None:
    breaker = CircuitBreaker()
    fail_n(breaker, [0.0, 0.1, 0.2, 0.3])
    a = breaker.before_request(0.4)
    breaker.record_success(0.4, a)
    fail_n(breaker, [0.5])
    assert breaker.state is OPEN


# --------------------------------------------------------------------------- OPEN


def test_open_circuit_rejects_with_time_until_the_next_probe() -> None:
    breaker = open_breaker(at=100.0)
    a = breaker.before_request(112.5)
    assert not a.admitted
    assert a.retry_in == pytest.approx(17.5)
    assert a.state is OPEN
    assert breaker.state is OPEN


def test_failures_of_requests_in_flight_when_it_opened_do_not_reopen_it() -> None:
    breaker = CircuitBreaker()
    in_flight = [breaker.before_request(0.0) for _ in range(10)]
    for a in in_flight[:5]:
        breaker.record_failure(1.0, a)
    assert breaker.state is OPEN
    # The other five fail late, after the breaker has moved on to HALF_OPEN.
    probe = breaker.before_request(31.0)
    assert probe.probe
    for a in in_flight[5:]:
        breaker.record_failure(32.0, a)
    assert breaker.state is HALF_OPEN
    breaker.record_success(33.0, probe)
    assert breaker.state is CLOSED
    # ...and after closing, those stale failures still do not count.
    breaker.record_failure(34.0, in_flight[5])
    assert breaker.statistics().recent_failures == 0


# --------------------------------------------------------------------------- HALF_OPEN


def test_after_open_for_one_probe_is_admitted_and_others_wait() -> None:
    breaker = open_breaker(at=0.0)
    probe = breaker.before_request(30.0)
    assert probe.admitted
    assert probe.probe
    assert breaker.state is HALF_OPEN
    other = breaker.before_request(31.0)
    assert not other.admitted
    assert 0 < other.retry_in <= 30.0
    assert breaker.statistics().probes_in_flight == 1


def test_probe_success_closes_the_circuit() -> None:
    breaker = open_breaker()
    probe = breaker.before_request(30.0)
    breaker.record_success(30.5, probe)
    assert breaker.state is CLOSED
    assert breaker.before_request(30.6).admitted


def test_probe_failure_reopens_for_another_open_for() -> None:
    breaker = open_breaker()
    probe = breaker.before_request(30.0)
    breaker.record_failure(31.0, probe)
    assert breaker.state is OPEN
    rejected = breaker.before_request(40.0)
    assert not rejected.admitted
    assert rejected.retry_in == pytest.approx(21.0)  # 31 + 30 - 40
    assert breaker.before_request(61.0).probe


def test_neutral_outcome_releases_the_probe_without_deciding() -> None:
    breaker = open_breaker()
    probe = breaker.before_request(30.0)
    assert not breaker.before_request(30.1).admitted
    breaker.record_neutral(30.2, probe)  # e.g. the probe got a 429
    assert breaker.state is HALF_OPEN
    second = breaker.before_request(30.3)
    assert second.admitted
    assert second.probe


def test_several_probes_and_successes_to_close() -> None:
    policy = BreakerPolicy(failure_threshold=2, half_open_probes=2, successes_to_close=3)
    breaker = open_breaker(policy)
    p1, p2 = breaker.before_request(30.0), breaker.before_request(30.0)
    assert p1.probe
    assert p2.probe
    assert not breaker.before_request(30.0).admitted
    breaker.record_success(30.1, p1)
    breaker.record_success(30.2, p2)
    assert breaker.state is HALF_OPEN
    p3 = breaker.before_request(30.3)
    breaker.record_success(30.4, p3)
    assert breaker.state is CLOSED


def test_a_lost_probe_is_reclaimed_after_open_for() -> None:
    breaker = open_breaker()
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


# --------------------------------------------------------------------------- misc


def test_disabled_policy_never_opens() -> None:
    breaker = CircuitBreaker(BreakerPolicy(enabled=False))
    fail_n(breaker, [i * 0.001 for i in range(100)])
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


def test_recording_a_rejection_is_an_error_and_counts_nothing() -> None:
    breaker = open_breaker()
    rejected = breaker.before_request(1.0)
    before = breaker.statistics()
    for record in (breaker.record_success, breaker.record_failure, breaker.record_neutral):
        with pytest.raises(ValueError, match="rejected"):
            record(1.0, rejected)
    assert breaker.statistics() == before


def test_statistics_add_up() -> None:
    breaker = CircuitBreaker(BreakerPolicy(failure_threshold=3, open_for=5.0))
    t = 0.0
    outcomes = ["ok", "fail", "neutral", "fail", "fail", "ok", "ok", "ok", "fail", "ok"]
    for i in range(60):
        t += 0.7
        a = breaker.before_request(t)
        if not a.admitted:
            continue
        kind = outcomes[i % len(outcomes)]
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
    breaker = CircuitBreaker(on_transition=lambda old, new, now: seen.append((old, new, now)))
    fail_n(breaker, [1.0] * 5)
    probe = breaker.before_request(31.0)
    breaker.record_failure(32.0, probe)
    probe = breaker.before_request(62.0)
    breaker.record_success(63.0, probe)
    assert seen == [
        (CLOSED, OPEN, 1.0),
        (OPEN, HALF_OPEN, 31.0),
        (HALF_OPEN, OPEN, 32.0),
        (OPEN, HALF_OPEN, 62.0),
        (HALF_OPEN, CLOSED, 63.0),
    ]


def test_repr_shows_the_state() -> None:
    breaker = CircuitBreaker()
    fail_n(breaker, [0.0, 0.0])
    assert "state=CLOSED" in repr(breaker)
    assert "failures=2/5" in repr(breaker)
    fail_n(breaker, [0.0, 0.0, 0.0])
    assert "state=OPEN" in repr(breaker)
    breaker.before_request(30.0)
    assert "state=HALF_OPEN" in repr(breaker)
    assert "probes=1/1" in repr(breaker)


# --------------------------------------------------------------------------- random


operation = st.tuples(
    st.sampled_from(["request", "request", "success", "failure", "neutral"]),
    st.floats(min_value=0.0, max_value=12.0, allow_nan=False),
    st.integers(min_value=0, max_value=1_000),
)


@settings(max_examples=300, deadline=None)
@given(
    threshold=st.integers(1, 4),
    probes=st.integers(1, 3),
    to_close=st.integers(1, 3),
    ops=st.lists(operation, max_size=120),
)
def test_random_sequences_keep_the_invariants(
    threshold: int, probes: int, to_close: int, ops: list[tuple[str, float, int]]
) -> None:
    policy = BreakerPolicy(
        failure_threshold=threshold,
        window=10.0,
        open_for=15.0,
        half_open_probes=probes,
        successes_to_close=to_close,
    )
    moves: list[tuple[CircuitState, CircuitState]] = []
    breaker = CircuitBreaker(policy, on_transition=lambda old, new, now: moves.append((old, new)))
    outstanding: list[Admission] = []
    recorded = 0
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
                    assert breaker.statistics().probes_in_flight == probes
                else:
                    assert was is OPEN
            if a.probe:
                assert breaker.state is HALF_OPEN
        elif outstanding:
            a = outstanding.pop(pick % len(outstanding))
            recorded += 1
            if kind == "success":
                breaker.record_success(now, a)
            elif kind == "failure":
                breaker.record_failure(now, a)
            else:
                breaker.record_neutral(now, a)
        s = breaker.statistics()
        assert 0 <= s.probes_in_flight <= probes
        if s.state is not HALF_OPEN:
            assert s.probes_in_flight == 0
            assert s.half_open_successes == 0
        assert s.recent_failures < threshold or s.state is not CLOSED
        assert s.requests == s.admitted + s.rejections
        assert s.successes + s.failures + s.neutral == recorded
        assert s.admitted == recorded + len(outstanding)
    # Every move the listener saw is in the table, and they chain.
    previous = CLOSED
    for old, new in moves:
        assert old is previous
        assert new in TRANSITIONS[old].values()
        previous = new
    assert previous is breaker.state
