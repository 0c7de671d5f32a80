"""The breaker's default policy against the workloads it must tell apart (sans-IO).

A seeded simulation drives the real :class:`CircuitBreaker` with requests whose attempts
fail independently with probability ``q``, each request retried up to twice (as the
client's default ``max_retries=2`` does; every attempt is a call the breaker sees).
The defaults must leave a healthy-but-imperfect origin alone (5% and 20% of attempts
failing) and catch a dead one (100%) within about 20 calls.

Run it as a script for the figures in docs/resilience.md::

    python tests/sansio/test_breaker_defaults.py --trials 1000
"""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass

from trio_openai._resilience._breaker import BreakerPolicy, CircuitBreaker
from trio_openai._resilience._breaker_table import CircuitState

DEFAULTS = BreakerPolicy()

ATTEMPT_TIME = 0.05
"""Seconds one attempt takes in the simulation (time matters only once open)."""


@dataclass
class Run:
    opened: bool
    first_open_attempt: int | None
    requests_ok: int
    requests_failed: int
    requests_refused: int
    attempts: int


def simulate(
    q: float,
    *,
    requests: int = 10_000,
    retries: int = 2,
    seed: int = 0,
    policy: BreakerPolicy | None = None,
    warm_up: int = 0,
) -> Run:
    """Send ``requests`` requests, one after another, through a fresh breaker.

    ``warm_up`` successful calls go first (a healthy history in the window). A request
    refused by the open breaker is not retried, as the client does.
    """
    rng = random.Random(seed)
    breaker = CircuitBreaker(policy)
    now = 0.0
    for _ in range(warm_up):
        admission = breaker.before_request(now)
        breaker.record_success(now, admission)
    ok = failed = refused = attempts = 0
    first_open: int | None = None
    for _ in range(requests):
        for attempt in range(retries + 1):
            admission = breaker.before_request(now)
            if not admission.admitted:
                refused += 1
                break
            attempts += 1
            now += ATTEMPT_TIME
            if rng.random() < q:
                breaker.record_failure(now, admission)
                if first_open is None and breaker.state is CircuitState.OPEN:
                    first_open = attempts
                if attempt == retries:
                    failed += 1
                else:
                    now += 0.5 * 2**attempt  # the default backoff, without jitter
            else:
                breaker.record_success(now, admission)
                ok += 1
                break
    return Run(
        opened=breaker.statistics().times_opened > 0,
        first_open_attempt=first_open,
        requests_ok=ok,
        requests_failed=failed,
        requests_refused=refused,
        attempts=attempts,
    )


# --------------------------------------------------------------------------- tests


def test_a_dead_origin_opens_a_fresh_breaker_at_its_20th_call() -> None:
    run = simulate(1.0, requests=100)
    assert run.first_open_attempt == 20
    # 6 requests of 3 attempts, then the 7th's second attempt trips it; the rest are
    # refused without a call (the breaker stays open or re-opens after a probe).
    assert run.requests_ok == 0
    assert run.requests_failed == 6


def test_a_dead_origin_opens_within_30_calls_after_a_healthy_history() -> None:
    run = simulate(1.0, requests=100, warm_up=1_000)
    assert run.first_open_attempt == 30  # 30 failures among the last 50 calls = 60%


def test_transient_failures_of_5_and_20_percent_never_open_it() -> None:
    # 20 seeded runs of 10,000 requests each at 20% (and 5%): not one opening. The
    # script gives the figures for 1,000 runs.
    for q in (0.05, 0.2):
        for seed in range(20 if q == 0.2 else 5):
            run = simulate(q, seed=seed)
            assert not run.opened, (q, seed, run)
            assert run.requests_refused == 0


def test_with_retries_20_percent_transient_failures_lose_under_one_percent() -> None:
    run = simulate(0.2, seed=1)
    assert run.requests_failed / 10_000 < 0.01  # 0.2 ** 3 = 0.8% expected


# --------------------------------------------------------------------------- script


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--failure-rate", type=float, default=DEFAULTS.failure_rate)
    parser.add_argument("--minimum-calls", type=int, default=DEFAULTS.minimum_calls)
    parser.add_argument("--window-size", type=int, default=DEFAULTS.window_size)
    args = parser.parse_args()
    policy = BreakerPolicy(
        failure_rate=args.failure_rate,
        minimum_calls=args.minimum_calls,
        window_size=args.window_size,
    )
    print(f"policy: {policy}")
    print(f"{args.trials} runs of {args.requests} requests each, 2 retries per request")
    for q in (0.05, 0.2, 0.25, 0.3, 1.0):
        runs = [
            simulate(q, requests=args.requests, seed=s, policy=policy) for s in range(args.trials)
        ]
        opened = sum(r.opened for r in runs)
        attempts = sum(r.attempts for r in runs) / len(runs)
        failed = sum(r.requests_failed for r in runs) / len(runs) / args.requests
        firsts = sorted(r.first_open_attempt for r in runs if r.first_open_attempt)
        first = f"; first opening at call {firsts[0]}" if firsts else ""
        print(
            f"q={q:4.0%}: opened in {opened}/{len(runs)} runs "
            f"(P ~ {opened / len(runs):.4f}); {attempts:.0f} calls per run; "
            f"{failed:.3%} of requests failed after retries{first}"
        )
    warm = simulate(1.0, requests=100, warm_up=1_000, policy=policy)
    print(f"dead origin after 1,000 healthy calls: opens at call {warm.first_open_attempt}")


if __name__ == "__main__":
    main()
