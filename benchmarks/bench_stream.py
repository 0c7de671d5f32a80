"""Streaming benchmark: a long chat stream with trio_openai vs the official SDK, on trio.

Throughput: one chat completion stream of N chunks (default 50,000; ~300 bytes each,
one SSE event per HTTP chunk as a real server flushes them, then a usage chunk and
``[DONE]``) from the canned-bytes server in a child process pinned to the other core.
Three contenders run on trio in the same run, taking turns: trio_openai's
``chat.completions.create(stream=True)`` (which also accumulates every chunk for
``get_final_completion()``), ``openai.AsyncOpenAI(http_client=httpx2.AsyncClient())``
(the SDK 3.x runs on trio through anyio and httpcore2's trio backend), and the floor
(``benchmarks._floor``: trio + h11 + msgspec, splitting events and decoding each
chunk, nothing else). Reported: chunks per second of wall time and of client CPU
time (medians, min-max over rounds) and the ratios ours / SDK and ours / floor.

Memory: C streams open at once (default 1,000), each client in its own fresh
interpreter; the server sends each one its head and first chunk, then nothing (a
stream waiting for its next token). Each stream has read its first chunk and waits.
Reported per open stream: the peak RSS (VmHWM) minus the RSS after start-up
(imports, client, one warm-up stream), divided by C. The floor here is a bare trio
socket per stream (request sent, first bytes read) in its own task: what any trio
client holds, and most of what ours does.

    python -m benchmarks.bench_stream [--chunks N] [--rounds R] [--concurrent C]
        [--metric cpu|wall] [--profile] [--json FILE] [--smoke]
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

from ._util import canned_server, pin_self, settle, summarize

MESSAGES = [{"role": "user", "content": "Tell me a long story"}]
Runner = Callable[[str, int], Awaitable[float]]

CPU: list[float] = []
"""Client CPU seconds of the last timed stream (``time.process_time``)."""


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
        settle()
        cpu = time.process_time()
        start = time.perf_counter()
        count = 0
        async with await create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True, extra_query=query
        ) as stream:
            async for _ in stream:
                count += 1
        elapsed = time.perf_counter() - start
        CPU.append(time.process_time() - cpu)
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
        settle()
        cpu = time.process_time()
        start = time.perf_counter()
        count = 0
        stream = await create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True, extra_query={"chunks": chunks}
        )
        async with stream:
            async for _ in stream:
                count += 1
        elapsed = time.perf_counter() - start
        CPU.append(time.process_time() - cpu)
    assert count == chunks + 1, count
    return count / elapsed


async def run_floor(base_url: str, chunks: int) -> float:
    from ._floor import FloorClient

    client = FloorClient(base_url, "sk-bench")
    body = {"model": "gpt-4o-mini", "messages": MESSAGES, "stream": True}
    try:
        await client.chat_stream(body, "/chat/completions?chunks=100")  # warm-up
        settle()
        cpu = time.process_time()
        start = time.perf_counter()
        count = await client.chat_stream(body, f"/chat/completions?chunks={chunks}")
        elapsed = time.perf_counter() - start
        CPU.append(time.process_time() - cpu)
    finally:
        await client.aclose()
    assert count == chunks + 1, count
    return count / elapsed


def measure(
    runners: dict[str, tuple[Runner, int]], base_url: str, chunks: int
) -> dict[str, dict[str, Any]]:
    """Each contender's rounds, taking turns (a contender with fewer rounds stops
    early); wall and CPU chunks/s, summarized."""
    wall: dict[str, list[float]] = {name: [] for name in runners}
    cpu: dict[str, list[float]] = {name: [] for name in runners}
    for i in range(max(rounds for _, rounds in runners.values())):
        for name, (runner, rounds) in runners.items():
            if i < rounds:
                CPU.clear()
                wall[name].append(trio.run(runner, base_url, chunks))
                cpu[name].append((chunks + 1) / CPU[0])
    return {name: {"wall": summarize(wall[name]), "cpu": summarize(cpu[name])} for name in runners}


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
        async with await create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True, extra_query={"chunks": 20}
        ) as stream:
            async for _ in stream:
                pass
        hold = {"hold": 1}
        return await _hold_streams(
            lambda: create(model="gpt-4o-mini", messages=MESSAGES, stream=True, extra_query=hold),
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
        stream = await create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True, extra_query={"chunks": 20}
        )
        async with stream:
            async for _ in stream:
                pass
        hold = {"hold": 1}
        return await _hold_streams(
            lambda: create(model="gpt-4o-mini", messages=MESSAGES, stream=True, extra_query=hold),
            streams,
        )


class _RawStream:
    """The memory floor's stream: a socket that sent its request and read its head."""

    def __init__(self, sock: trio.SocketStream) -> None:
        self.sock = sock

    async def __aenter__(self) -> _RawStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.sock.aclose()

    async def __anext__(self) -> bytes:
        return await self.sock.receive_some(65536)


async def memory_floor(base_url: str, streams: int) -> tuple[int, int]:
    """The floor: what any trio client holds per open stream (a socket and a task)."""
    host, _, rest = base_url.split("://", 1)[1].partition(":")
    port = int(rest.split("/", 1)[0])
    request = (
        b"POST /v1/chat/completions?hold=1 HTTP/1.1\r\nHost: %s\r\n"
        b"Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}" % host.encode()
    )

    async def open_one() -> _RawStream:
        sock = await trio.open_tcp_stream(host, port)
        await sock.send_all(request)
        return _RawStream(sock)

    return await _hold_streams(open_one, streams)


def memory_worker(side: str, base_url: str, streams: int) -> dict[str, int]:
    fn = {"ours": memory_ours, "sdk": memory_sdk, "floor": memory_floor}[side]
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
    parser.add_argument(
        "--metric",
        choices=["cpu", "wall"],
        default="cpu",
        help="what the rows report: chunks per client CPU-second (default) or per second",
    )
    parser.add_argument("--profile", action="store_true", help="print a cProfile of ours")
    parser.add_argument("--json", help="write results here")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for tests")
    parser.add_argument("--memory-worker", choices=["ours", "sdk", "floor"], help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_worker:
        print(json.dumps(memory_worker(args.memory_worker, args.base_url, args.concurrent)))
        return {}
    if args.smoke:
        chunks, rounds, concurrent = 300, 1, 20
    else:
        chunks, rounds, concurrent = args.chunks, args.rounds, args.concurrent
    metric = args.metric
    pin_self(0)
    results: dict[str, object] = {
        "benchmark": "stream",
        "python": sys.version.split()[0],
        "chunks": chunks,
        "concurrent": concurrent,
        "metric": metric,
    }
    with canned_server("stream") as port:
        base_url = f"http://127.0.0.1:{port}/v1"
        measured = measure(
            {
                "ours": (run_ours, rounds),
                "sdk": (run_sdk, min(rounds, 3)),
                "floor": (run_floor, rounds),
            },
            base_url,
            chunks,
        )
        ours, theirs, floor = measured["ours"], measured["sdk"], measured["floor"]
        ratio = ours[metric]["median"] / theirs[metric]["median"]
        ratio_floor = ours[metric]["median"] / floor[metric]["median"]
        results["throughput"] = {**measured, "ratio": ratio, "ratio_floor": ratio_floor}
        print(
            f"{chunks}-chunk stream: "
            + "   ".join(
                f"{name} {m['wall']['median']:8.0f} chunks/s "
                f"[{m['wall']['min']:.0f}-{m['wall']['max']:.0f}], "
                f"{m['cpu']['median']:8.0f} per CPU-s"
                for name, m in measured.items()
            )
            + f"   ours/SDK {ratio:5.1f}x, ours/floor {ratio_floor:4.2f} ({metric})",
            flush=True,
        )
        memory = {
            side: measure_memory(side, base_url, concurrent) for side in ("ours", "sdk", "floor")
        }
        results["memory"] = memory
        per_stream = {side: memory[side]["delta_kib"] / concurrent for side in memory}
        results["rows"] = [
            {
                "scenario": f"chat stream of {chunks} chunks",
                "unit": "chunks/CPU-s" if metric == "cpu" else "chunks/s",
                "ours": ours[metric]["median"],
                "theirs": theirs[metric]["median"],
                "floor": floor[metric]["median"],
                "ratio": ratio,
                "ratio_floor": ratio_floor,
                "higher_is_better": True,
            },
            {
                "scenario": f"memory per open stream ({concurrent} streams waiting for a token)",
                "unit": "KiB",
                "ours": per_stream["ours"],
                "theirs": per_stream["sdk"],
                "floor": per_stream["floor"],
                "ratio": per_stream["ours"] / max(per_stream["sdk"], 1e-9),
                "ratio_floor": per_stream["ours"] / max(per_stream["floor"], 1e-9),
                "higher_is_better": False,
            },
        ]
        print(
            f"{concurrent} open streams, peak RSS growth per stream: trio_openai "
            f"{per_stream['ours']:.1f} KiB   openai SDK {per_stream['sdk']:.1f} KiB   floor (a "
            f"trio socket and task) {per_stream['floor']:.1f} KiB   "
            f"ours/SDK {per_stream['ours'] / max(per_stream['sdk'], 1e-9):.0%}"
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
