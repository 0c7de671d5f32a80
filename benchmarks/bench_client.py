"""Client benchmark: ``chat.completions.create``, trio_openai vs the official SDK vs the floor.

Three contenders on trio in the same run, taking turns round by round, against the
canned-bytes server in a child process pinned to the other core, over plain HTTP and
over TLS 1.3 (a trustme CA; every client verifies the certificate):

- ``ours``: ``trio_openai.Client`` as shipped (breaker and server-limit tracking on);
  ``plain`` is the same without them, to show their cost (plain HTTP only);
- ``sdk``: ``openai.AsyncOpenAI`` (3.x runs on trio through anyio and httpx2);
- ``floor``: a bare trio + h11 + msgspec keep-alive client (``benchmarks._floor``),
  the practical ceiling of the stack.

Each round times ``--requests`` calls (the SDK an eighth of them) after a warm-up
that opens as many connections as the round uses (steady state: no handshake is
timed). Reported per contender: requests per second of wall time and per second of
client CPU time (``1 / CPU per call``: what the client does alone on its core, the
figure that shared-machine load moves least), medians and min-max over rounds, with
the ratios ours / SDK and ours / floor. ``--metric`` picks which goes to the rows.

    python -m benchmarks.bench_client [--requests N] [--rounds R] [--metric cpu|wall]
        [--no-tls] [--json FILE] [--smoke]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import trio

from ._util import TLSFiles, canned_server, drive, pin_self, summarize, tls_files

MESSAGES = [{"role": "user", "content": "Say hi"}]


LATENCIES: list[float] = []
"""Per-request seconds of the last sequential run (for p50/p99)."""

STATS: dict[str, Any] = {}
"""Wall and CPU seconds of the last run's timed calls (see ``drive``)."""


async def run_ours(
    base_url: str, n: int, concurrency: int, tls: TLSFiles | None = None, resilience: bool = True
) -> float:
    import trio_openai

    kwargs: dict[str, Any] = {}
    if not resilience:
        kwargs = {"breaker": None, "follow_server_limits": False}
    if tls is not None:
        kwargs["verify"] = tls.ca
    async with trio_openai.Client(api_key="sk-bench", base_url=base_url, **kwargs) as client:

        async def one() -> object:
            return await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

        return await drive(one, n, concurrency, warmup=3, latencies=LATENCIES, stats=STATS)


async def run_ours_plain(
    base_url: str, n: int, concurrency: int, tls: TLSFiles | None = None
) -> float:
    return await run_ours(base_url, n, concurrency, tls, resilience=False)


async def run_sdk(base_url: str, n: int, concurrency: int, tls: TLSFiles | None = None) -> float:
    import openai

    kwargs: dict[str, Any] = {}
    if tls is not None:
        kwargs["http_client"] = openai.DefaultAsyncHttpxClient(verify=tls.client_context())
    client = openai.AsyncOpenAI(api_key="sk-bench", base_url=base_url, **kwargs)
    try:

        async def one() -> object:
            return await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)  # type: ignore[arg-type]

        return await drive(one, n, concurrency, warmup=3, latencies=LATENCIES, stats=STATS)
    finally:
        await client.close()


async def run_floor(base_url: str, n: int, concurrency: int, tls: TLSFiles | None = None) -> float:
    from ._floor import FloorClient

    client = FloorClient(base_url, "sk-bench", tls.client_context() if tls else None)
    body = {"model": "gpt-4o-mini", "messages": MESSAGES}
    try:

        async def one() -> object:
            return await client.chat(body)

        return await drive(one, n, concurrency, warmup=3, latencies=LATENCIES, stats=STATS)
    finally:
        await client.aclose()


Runner = Callable[[str, int, int, "TLSFiles | None"], Awaitable[float]]


def _rounds(
    runners: dict[str, tuple[Runner, int]],
    url: str,
    concurrency: int,
    rounds: int,
    tls: TLSFiles | None,
) -> dict[str, dict[str, float]]:
    """Run each contender ``rounds`` times, taking turns (load drifts hit all alike)."""
    wall: dict[str, list[float]] = {name: [] for name in runners}
    cpu: dict[str, list[float]] = {name: [] for name in runners}
    latencies: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(rounds):
        for name, (runner, n) in runners.items():
            LATENCIES.clear()
            STATS.clear()
            wall[name].append(trio.run(runner, url, n, concurrency, tls))
            cpu[name].append(STATS["n"] / STATS["cpu_s"])
            latencies[name].extend(LATENCIES)
    out = {}
    for name in runners:
        result: dict[str, Any] = {
            "wall": summarize(wall[name]),
            "cpu": summarize(cpu[name]),
            "cpu_us_per_call": 1e6 / statistics_median(cpu[name]),
        }
        ordered = sorted(latencies[name])
        if concurrency == 1 and ordered:
            result["p50_ms"] = ordered[len(ordered) // 2] * 1000
            result["p99_ms"] = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
        out[name] = result
    return out


def statistics_median(values: list[float]) -> float:
    return summarize(values)["median"]


@contextlib.contextmanager
def _server(tls: bool) -> Iterator[tuple[str, TLSFiles | None]]:
    if not tls:
        with canned_server() as port:
            yield f"http://127.0.0.1:{port}/v1", None
        return
    with tls_files() as files, canned_server(extra=["--tls", files.server]) as port:
        yield f"https://127.0.0.1:{port}/v1", files


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="requests per round (ours)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--metric",
        choices=["cpu", "wall"],
        default="cpu",
        help="what the rows report: requests per client CPU-second (default) or per second",
    )
    parser.add_argument("--no-tls", action="store_true", help="plain HTTP only")
    parser.add_argument("--json", help="write results here")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for tests")
    args = parser.parse_args(argv)
    n, rounds = (64, 1) if args.smoke else (args.requests, args.rounds)
    metric = args.metric
    unit = "req/CPU-s" if metric == "cpu" else "req/s"
    pin_self(0)
    results: dict[str, object] = {
        "benchmark": "client",
        "python": sys.version.split()[0],
        "metric": metric,
    }
    rows: list[dict[str, object]] = []
    results["rows"] = rows
    for tls in (False,) if args.no_tls else (False, True):
        with _server(tls) as (url, files):
            for concurrency in (1, 64):
                runners: dict[str, tuple[Runner, int]] = {
                    "ours": (run_ours, n),
                    "sdk": (run_sdk, max(64, n // 8)),
                    "floor": (run_floor, n),
                }
                if not tls:
                    runners["plain"] = (run_ours_plain, n)
                measured = _rounds(runners, url, concurrency, rounds, files)
                ours, sdk, floor = measured["ours"], measured["sdk"], measured["floor"]
                ratio = ours[metric]["median"] / sdk[metric]["median"]
                ratio_floor = ours[metric]["median"] / floor[metric]["median"]
                where = "over TLS 1.3, " if tls else ""
                key = f"{'tls_' if tls else ''}c{concurrency}"
                results[key] = {**measured, "ratio": ratio, "ratio_floor": ratio_floor}
                rows.append(
                    {
                        "scenario": f"chat.completions.create, {where}concurrency {concurrency}",
                        "unit": unit,
                        "ours": ours[metric]["median"],
                        "theirs": sdk[metric]["median"],
                        "floor": floor[metric]["median"],
                        "ratio": ratio,
                        "ratio_floor": ratio_floor,
                        "higher_is_better": True,
                    }
                )
                if concurrency == 1 and not tls:
                    rows.extend(
                        {
                            "scenario": f"latency per request, {q[:3]}",
                            "unit": "ms",
                            "ours": ours[q],
                            "theirs": sdk[q],
                            "floor": floor[q],
                            "ratio": ours[q] / sdk[q],
                            "ratio_floor": ours[q] / floor[q],
                            "higher_is_better": False,
                        }
                        for q in ("p50_ms", "p99_ms")
                    )
                line = (
                    f"{where}concurrency {concurrency:>2}: "
                    + "   ".join(
                        f"{name} {m['wall']['median']:6.0f} req/s, "
                        f"{m['cpu_us_per_call']:5.0f} us CPU/call"
                        for name, m in measured.items()
                    )
                    + f"   ours/SDK {ratio:4.1f}x, ours/floor {ratio_floor:4.2f} ({metric})"
                )
                if "plain" in measured:
                    plain = measured["plain"]
                    overhead = 1 - ours[metric]["median"] / plain[metric]["median"]
                    results[key]["resilience_overhead"] = overhead  # type: ignore[index]
                    line += f"   resilience cost {overhead:+.1%}"
                    rows.append(
                        {
                            "scenario": f"resilience on vs off, concurrency {concurrency}",
                            "unit": unit,
                            "ours": ours[metric]["median"],
                            "theirs": plain[metric]["median"],
                            "ratio": ours[metric]["median"] / plain[metric]["median"],
                            "higher_is_better": True,
                            "note": "theirs = trio_openai without breaker and rate limiter",
                        }
                    )
                print(line, flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return results


if __name__ == "__main__":
    main()
