"""Client benchmark: ``chat.completions.create`` with trio_openai vs the official SDK.

Both run on trio in the same process run, against the canned-bytes server in a child
process pinned to the other core. Reported: requests/s sequential and at concurrency
64 (median and min-max of several rounds) and the ratio ours / SDK; the same with
trio_openai's resilience layer (breaker + rate limiter) on and off, to show its cost.

    python -m benchmarks.bench_client [--requests N] [--rounds R] [--json FILE] [--smoke]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import trio

from ._util import canned_server, drive, pin_self, summarize

MESSAGES = [{"role": "user", "content": "Say hi"}]


LATENCIES: list[float] = []
"""Per-request seconds of the last sequential run (for p50/p99)."""


async def run_ours(base_url: str, n: int, concurrency: int, resilience: bool = True) -> float:
    import trio_openai

    kwargs: dict[str, Any] = {}
    if not resilience:
        kwargs = {"breaker": None, "follow_server_limits": False}
    async with trio_openai.Client(api_key="sk-bench", base_url=base_url, **kwargs) as client:

        async def one() -> object:
            return await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

        return await drive(one, n, concurrency, warmup=3, latencies=LATENCIES)


async def run_ours_plain(base_url: str, n: int, concurrency: int) -> float:
    return await run_ours(base_url, n, concurrency, resilience=False)


async def run_sdk(base_url: str, n: int, concurrency: int) -> float:
    import openai

    client = openai.AsyncOpenAI(api_key="sk-bench", base_url=base_url)
    try:

        async def one() -> object:
            return await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)  # type: ignore[arg-type]

        return await drive(one, n, concurrency, warmup=3, latencies=LATENCIES)
    finally:
        await client.close()


Runner = Callable[[str, int, int], Awaitable[float]]


def _rounds(
    runners: dict[str, tuple[Runner, int]], url: str, concurrency: int, rounds: int
) -> dict[str, dict[str, float]]:
    """Run each contender ``rounds`` times, taking turns (load drifts hit all alike)."""
    values: dict[str, list[float]] = {name: [] for name in runners}
    latencies: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(rounds):
        for name, (runner, n) in runners.items():
            LATENCIES.clear()
            values[name].append(trio.run(runner, url, n, concurrency))
            latencies[name].extend(LATENCIES)
    out = {}
    for name in runners:
        result = summarize(values[name])
        ordered = sorted(latencies[name])
        if concurrency == 1 and ordered:
            result["p50_ms"] = ordered[len(ordered) // 2] * 1000
            result["p99_ms"] = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
        out[name] = result
    return out


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="requests per round (ours)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", help="write results here")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for tests")
    args = parser.parse_args(argv)
    n, rounds = (64, 1) if args.smoke else (args.requests, args.rounds)
    pin_self(0)
    results: dict[str, object] = {"benchmark": "client", "python": sys.version.split()[0]}
    rows: list[dict[str, object]] = []
    results["rows"] = rows
    with canned_server() as port:
        url = f"http://127.0.0.1:{port}/v1"
        for concurrency in (1, 64):
            measured = _rounds(
                {
                    "ours": (run_ours, n),
                    "plain": (run_ours_plain, n),
                    "sdk": (run_sdk, max(64, n // 8)),
                },
                url,
                concurrency,
                rounds,
            )
            ours, plain, sdk = measured["ours"], measured["plain"], measured["sdk"]
            ratio = ours["median"] / sdk["median"]
            overhead = 1 - ours["median"] / plain["median"]
            results[f"c{concurrency}"] = {
                "ours": ours,
                "ours_without_resilience": plain,
                "sdk": sdk,
                "ratio": ratio,
                "resilience_overhead": overhead,
            }
            rows.append(
                {
                    "scenario": f"chat.completions.create, concurrency {concurrency}",
                    "unit": "req/s",
                    "ours": ours["median"],
                    "theirs": sdk["median"],
                    "ratio": ratio,
                    "higher_is_better": True,
                }
            )
            if concurrency == 1:
                rows.extend(
                    {
                        "scenario": f"latency per request, {q[:3]}",
                        "unit": "ms",
                        "ours": ours[q],
                        "theirs": sdk[q],
                        "ratio": ours[q] / sdk[q],
                        "higher_is_better": False,
                    }
                    for q in ("p50_ms", "p99_ms")
                )
            rows.append(
                {
                    "scenario": f"resilience on vs off, concurrency {concurrency}",
                    "unit": "req/s",
                    "ours": ours["median"],
                    "theirs": plain["median"],
                    "ratio": ours["median"] / plain["median"],
                    "higher_is_better": True,
                    "note": "theirs = trio_openai without breaker and rate limiter",
                }
            )
            print(
                f"concurrency {concurrency:>2}: trio_openai {ours['median']:7.0f} req/s "
                f"[{ours['min']:.0f}-{ours['max']:.0f}]  (resilience off {plain['median']:.0f}, "
                f"overhead {overhead:+.1%})   SDK {sdk['median']:6.0f} req/s "
                f"[{sdk['min']:.0f}-{sdk['max']:.0f}]   ratio {ratio:5.1f}x"
            )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return results


if __name__ == "__main__":
    main()
