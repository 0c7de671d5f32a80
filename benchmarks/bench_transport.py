"""Transport benchmark: trio_openai's pool vs httpx.AsyncClient, both on trio.

Workload: a small JSON POST answered with a ~700-byte chat-completion body by a
canned-bytes server running in its own process (pinned to the other core), so the
server is not the bottleneck. Sequential and at concurrency 64; several rounds; the
median and the min-max of requests/s are reported, with the ratio ours / httpx.

    python -m benchmarks.bench_transport [--requests N] [--rounds R] [--json FILE] [--smoke]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Awaitable, Callable

import trio

from ._util import canned_server, drive, pin_self, summarize

PAYLOAD = b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hi"}]}'
HEADERS = {"content-type": "application/json", "authorization": "Bearer sk-bench"}

Runner = Callable[[str, int, int], Awaitable[float]]


async def run_ours(url: str, n: int, concurrency: int) -> float:
    from trio_openai._config import PoolLimits
    from trio_openai._http._pool import Pool

    async with Pool(limits=PoolLimits(max_connections=100)) as pool:

        async def one() -> bytes:
            r = await pool.request("POST", url, body=PAYLOAD, headers=HEADERS)
            return r.content

        return await drive(one, n, concurrency)


async def run_httpx(url: str, n: int, concurrency: int) -> float:
    import httpx

    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    async with httpx.AsyncClient(limits=limits) as client:

        async def one() -> bytes:
            r = await client.post(url, content=PAYLOAD, headers=HEADERS)
            return r.content

        return await drive(one, n, concurrency)


def measure(runner: Runner, url: str, n: int, concurrency: int, rounds: int) -> list[float]:
    return [trio.run(runner, url, n, concurrency) for _ in range(rounds)]


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000, help="requests per round (ours)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", help="write results here")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for tests")
    args = parser.parse_args(argv)
    n, rounds = (128, 1) if args.smoke else (args.requests, args.rounds)
    pin_self(0)
    results: dict[str, object] = {"benchmark": "transport", "python": sys.version.split()[0]}
    rows: list[dict[str, object]] = []
    results["rows"] = rows
    with canned_server() as port:
        url = f"http://127.0.0.1:{port}/v1/chat/completions"
        for concurrency in (1, 64):
            ours = summarize(measure(run_ours, url, n, concurrency, rounds))
            # httpx is ~4-8x slower: fewer requests keep the run short, rates compare
            theirs = summarize(measure(run_httpx, url, max(64, n // 4), concurrency, rounds))
            ratio = ours["median"] / theirs["median"]
            results[f"c{concurrency}"] = {"ours": ours, "httpx": theirs, "ratio": ratio}
            rows.append(
                {
                    "scenario": f"transport POST, concurrency {concurrency}",
                    "unit": "req/s",
                    "ours": ours["median"],
                    "theirs": theirs["median"],
                    "ratio": ratio,
                    "higher_is_better": True,
                    "note": "theirs = httpx.AsyncClient on trio",
                }
            )
            print(
                f"concurrency {concurrency:>2}: trio_openai {ours['median']:8.0f} req/s "
                f"[{ours['min']:.0f}-{ours['max']:.0f}]   httpx {theirs['median']:7.0f} req/s "
                f"[{theirs['min']:.0f}-{theirs['max']:.0f}]   ratio {ratio:5.1f}x"
            )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return results


if __name__ == "__main__":
    main()
