"""Streaming benchmark: a long chat stream with trio_openai vs the official SDK, on trio.

Throughput: one chat completion stream of N chunks (default 50,000; ~300 bytes each,
one SSE event per HTTP chunk as a real server flushes them, then a usage chunk and
``[DONE]``) from the canned-bytes server in a child process pinned to the other core.
Both clients run on trio in the same run: trio_openai's
``chat.completions.create(stream=True)`` (which also accumulates every chunk for
``get_final_completion()``) and ``openai.AsyncOpenAI(http_client=httpx2.AsyncClient())``
(the SDK 3.x runs on trio through anyio and httpcore2's trio backend). Reported:
chunks/s, median and min-max over rounds, and the ratio ours / SDK.

Memory: peak RSS with C streams open at once (default 1,000; each has read its first
chunk and waits), each client in its own fresh interpreter; reported as the peak RSS
(VmHWM) minus the RSS after start-up (imports, client, one warm-up stream).

    python -m benchmarks.bench_stream [--chunks N] [--rounds R] [--concurrent C]
        [--profile] [--json FILE] [--smoke]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import trio

from ._util import canned_server, pin_self, summarize

MESSAGES = [{"role": "user", "content": "Tell me a long story"}]
Runner = Callable[[str, int], Awaitable[float]]


def _sdk_http_module() -> Any:
    """The HTTP library the installed SDK is built on (httpx2 for 3.x, httpx before)."""
    try:
        import httpx2

        return httpx2
    except ImportError:  # pragma: no cover - older SDKs
        import httpx

        return httpx


# -- throughput ------------------------------------------------------------------------


async def run_ours(base_url: str, chunks: int) -> float:
    import trio_openai

    async with trio_openai.Client(api_key="sk-bench", base_url=base_url, max_retries=0) as client:
        create = client.chat.completions.create
        query = {"chunks": chunks}
        async with await create(  # warm-up: connection made, code paths hot
            model="gpt-4o-mini", messages=MESSAGES, stream=True, extra_query={"chunks": 100}
        ) as stream:
            async for _ in stream:
                pass
        start = time.perf_counter()
        count = 0
        async with await create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True, extra_query=query
        ) as stream:
            async for _ in stream:
                count += 1
        elapsed = time.perf_counter() - start
    assert count == chunks + 1, count  # the content chunks and the usage chunk
    return count / elapsed


async def run_sdk(base_url: str, chunks: int) -> float:
    import openai

    http = _sdk_http_module()
    async with http.AsyncClient() as http_client:
        client = openai.AsyncOpenAI(
            api_key="sk-bench", base_url=base_url, http_client=http_client, max_retries=0
        )
        create = client.chat.completions.create
        stream = await create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True, extra_query={"chunks": 100}
        )
        async with stream:
            async for _ in stream:
                pass
        start = time.perf_counter()
        count = 0
        stream = await create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True, extra_query={"chunks": chunks}
        )
        async with stream:
            async for _ in stream:
                count += 1
        elapsed = time.perf_counter() - start
    assert count == chunks + 1, count
    return count / elapsed


def measure(runner: Runner, base_url: str, chunks: int, rounds: int) -> list[float]:
    return [trio.run(runner, base_url, chunks) for _ in range(rounds)]


def profile_ours(base_url: str, chunks: int, top: int = 25) -> str:
    """cProfile of one stream read by trio_openai; the top functions by own time."""
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()

    async def one() -> None:
        import trio_openai

        async with trio_openai.Client(
            api_key="sk-bench", base_url=base_url, max_retries=0
        ) as client:
            query = {"chunks": chunks}
            profiler.enable()
            async with await client.chat.completions.create(
                model="gpt-4o-mini", messages=MESSAGES, stream=True, extra_query=query
            ) as stream:
                async for _ in stream:
                    pass
            profiler.disable()

    trio.run(one)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


# -- memory (each side in its own interpreter) ------------------------------------------


def _rss_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0  # pragma: no cover - not Linux


async def _hold_streams(open_one: Callable[[], Awaitable[Any]], streams: int) -> tuple[int, int]:
    """Open ``streams`` streams at once, read one chunk of each, measure, close all."""
    ready = 0
    all_ready = trio.Event()
    release = trio.Event()

    async def one() -> None:
        nonlocal ready
        stream = await open_one()
        async with stream:
            await stream.__anext__()
            ready += 1
            if ready == streams:
                all_ready.set()
            await release.wait()

    baseline = 0
    async with trio.open_nursery() as nursery:
        baseline = _rss_kib("VmRSS")
        for _ in range(streams):
            nursery.start_soon(one)
        await all_ready.wait()
        peak = _rss_kib("VmHWM")
        release.set()
    return baseline, peak


async def memory_ours(base_url: str, streams: int) -> tuple[int, int]:
    import trio_openai

    limits = trio_openai.PoolLimits(max_connections=streams + 10, max_idle_per_host=streams)
    async with trio_openai.Client(
        api_key="sk-bench", base_url=base_url, max_retries=0, limits=limits
    ) as client:
        create = client.chat.completions.create
        query = {"chunks": 20}
        async with await create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True, extra_query=query
        ) as stream:
            async for _ in stream:
                pass
        return await _hold_streams(
            lambda: create(model="gpt-4o-mini", messages=MESSAGES, stream=True, extra_query=query),
            streams,
        )


async def memory_sdk(base_url: str, streams: int) -> tuple[int, int]:
    import openai

    http = _sdk_http_module()
    limits = http.Limits(max_connections=streams + 10, max_keepalive_connections=streams)
    async with http.AsyncClient(limits=limits) as http_client:
        client = openai.AsyncOpenAI(
            api_key="sk-bench", base_url=base_url, http_client=http_client, max_retries=0
        )
        create = client.chat.completions.create
        query = {"chunks": 20}
        stream = await create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True, extra_query=query
        )
        async with stream:
            async for _ in stream:
                pass
        return await _hold_streams(
            lambda: create(model="gpt-4o-mini", messages=MESSAGES, stream=True, extra_query=query),
            streams,
        )


def memory_worker(side: str, base_url: str, streams: int) -> dict[str, int]:
    fn = memory_ours if side == "ours" else memory_sdk
    baseline, peak = trio.run(fn, base_url, streams)
    return {"baseline_kib": baseline, "peak_kib": peak, "delta_kib": peak - baseline}


def measure_memory(side: str, base_url: str, streams: int) -> dict[str, int]:
    """Run :func:`memory_worker` in a fresh interpreter; return what it reports."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.bench_stream",
            "--memory-worker",
            side,
            "--base-url",
            base_url,
            "--concurrent",
            str(streams),
        ],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    result: dict[str, int] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


# -- main ------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--chunks", type=int, default=50_000, help="chunks per stream")
    parser.add_argument("--rounds", type=int, default=5, help="rounds (the SDK: at most 3)")
    parser.add_argument("--concurrent", type=int, default=1000, help="streams held at once")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of ours")
    parser.add_argument("--json", help="write results here")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for tests")
    parser.add_argument("--memory-worker", choices=["ours", "sdk"], help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_worker:
        print(json.dumps(memory_worker(args.memory_worker, args.base_url, args.concurrent)))
        return {}
    if args.smoke:
        chunks, rounds, concurrent = 300, 1, 20
    else:
        chunks, rounds, concurrent = args.chunks, args.rounds, args.concurrent
    pin_self(0)
    results: dict[str, object] = {
        "benchmark": "stream",
        "python": sys.version.split()[0],
        "chunks": chunks,
        "concurrent": concurrent,
    }
    with canned_server("stream") as port:
        base_url = f"http://127.0.0.1:{port}/v1"
        ours = summarize(measure(run_ours, base_url, chunks, rounds))
        theirs = summarize(measure(run_sdk, base_url, chunks, min(rounds, 3)))
        ratio = ours["median"] / theirs["median"]
        results["throughput"] = {"ours": ours, "sdk": theirs, "ratio": ratio}
        print(
            f"{chunks}-chunk stream: trio_openai {ours['median']:8.0f} chunks/s "
            f"[{ours['min']:.0f}-{ours['max']:.0f}]   openai SDK {theirs['median']:7.0f} "
            f"chunks/s [{theirs['min']:.0f}-{theirs['max']:.0f}]   ratio {ratio:5.1f}x"
        )
        memory = {side: measure_memory(side, base_url, concurrent) for side in ("ours", "sdk")}
        results["memory"] = memory
        results["rows"] = [
            {
                "scenario": f"chat stream of {chunks} chunks",
                "unit": "chunks/s",
                "ours": ours["median"],
                "theirs": theirs["median"],
                "ratio": ratio,
                "higher_is_better": True,
            },
            {
                "scenario": f"peak RSS growth with {concurrent} open streams",
                "unit": "MiB",
                "ours": memory["ours"]["delta_kib"] / 1024,
                "theirs": memory["sdk"]["delta_kib"] / 1024,
                "ratio": memory["ours"]["delta_kib"] / max(1, memory["sdk"]["delta_kib"]),
                "higher_is_better": False,
            },
        ]
        print(
            f"{concurrent} open streams, peak RSS delta: trio_openai "
            f"{memory['ours']['delta_kib'] / 1024:.1f} MiB   openai SDK "
            f"{memory['sdk']['delta_kib'] / 1024:.1f} MiB"
        )
        if args.profile:
            report = profile_ours(base_url, chunks)
            results["profile"] = report
            print(report)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return results


if __name__ == "__main__":
    main()
