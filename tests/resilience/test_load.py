"""Bulk load through the default ``Client``: ``jobs.map`` over 300 items, 16 at a time.

The embedded server answers a seeded random share of the requests with a transient
503 (retries fix every one). The default client must complete the job: at 5% at least
299 of 300 items, at 20% at least 97%. A dead origin (every request a 503) must still
fail fast: the breaker opens within about 20 calls and the rest of the job fails with
``CircuitOpenError`` without reaching the server. Time is trio's autojump clock, so
backoffs cost no real time.

Run as a script for the figures (several seeds)::

    python tests/resilience/test_load.py
"""

from __future__ import annotations

import collections
from dataclasses import dataclass

import outcome
import trio
import trio.testing

from trio_openai import Client, jobs
from trio_openai.testing import Fault, Schedule, open_mock_server

ITEMS = 300
LIMIT = 16


@dataclass
class JobResult:
    successes: int
    failures: dict[str, int]
    server_requests: int
    times_opened: int
    elapsed: float


async def run_job(probability: float, seed: int = 0) -> JobResult:
    async with open_mock_server() as server:
        server.add_fault(
            Fault.status(503),
            path="/v1/embeddings",
            when=Schedule.random(probability, seed=seed),
        )
        async with Client(api_key=server.api_key, base_url=server.base_url) as client:

            async def embed(i: int) -> int:
                result = await client.embeddings.create(
                    model="text-embedding-3-small", input=f"item {i}"
                )
                return len(result.data)

            start = trio.current_time()
            results = await jobs.map(embed, range(ITEMS), limit=LIMIT)
            elapsed = trio.current_time() - start
            failures = collections.Counter(
                type(r.error).__name__ for r in results if isinstance(r, outcome.Error)
            )
            (breaker,) = client.metrics.breakers.values()
            return JobResult(
                successes=sum(isinstance(r, outcome.Value) for r in results),
                failures=dict(failures),
                server_requests=len(server.requests),
                times_opened=breaker.times_opened,
                elapsed=elapsed,
            )


async def test_5_percent_transient_503s_lose_at_most_one_item(
    autojump_clock: trio.testing.MockClock,
) -> None:
    result = await run_job(0.05, seed=1)
    assert result.successes >= 299
    assert result.times_opened == 0


async def test_20_percent_transient_503s_complete_97_percent(
    autojump_clock: trio.testing.MockClock,
) -> None:
    result = await run_job(0.20, seed=1)
    assert result.successes >= 0.97 * ITEMS
    assert result.times_opened == 0
    assert set(result.failures) <= {"InternalServerError"}  # never CircuitOpenError


async def test_a_dead_origin_still_fails_fast(autojump_clock: trio.testing.MockClock) -> None:
    result = await run_job(1.0)
    assert result.successes == 0
    assert result.times_opened == 1
    # It opened at the 20th call; calls admitted before that still count (none here:
    # each attempt answers before the next starts on the loopback).
    assert result.server_requests == 20
    assert result.failures["CircuitOpenError"] >= ITEMS - LIMIT
    # Everything after the opening failed at once: the job took about two backoffs.
    assert result.elapsed < 2.0


def main() -> None:
    async def figures() -> None:
        for probability in (0.05, 0.20, 1.0):
            for seed in range(5):
                r = await run_job(probability, seed)
                print(
                    f"p={probability:4.0%} seed={seed}: {r.successes}/{ITEMS} ok, "
                    f"failures={r.failures}, {r.server_requests} requests sent, "
                    f"breaker opened {r.times_opened}x, {r.elapsed:.1f} virtual s"
                )

    trio.run(figures, clock=trio.testing.MockClock(autojump_threshold=0))


if __name__ == "__main__":
    main()
