"""Jobs benchmark: the JSONL runner vs the same job written with the official SDK.

Three questions, each answered in the same run for both contenders where there is one:

1. **Throughput.** A Batch API input file of N small chat requests (default 20,000)
   run at concurrency 64 against the canned-bytes server (a child process pinned to
   the other core): ``jobs.run_jsonl`` (validation, resume bookkeeping, Batch API
   output lines, fsync) vs ``openai.AsyncOpenAI`` on trio with a
   ``trio.CapacityLimiter`` reading the same file and writing the same output format
   (the SDK gets N/8 lines; rates compare). Reported: lines/s, median and min-max over
   rounds, and the ratio.
2. **Under a server RPM limit.** The embedded mock server (a child process) with
   ``RateLimitSim(rpm=R, window=W)``: a bucket of R requests refilling R/W per second.
   L lines (default 3,000 at R=300, W=1 s). Reported: wall time against the ideal
   ``L / (R/W)`` (and the burst-aware ideal ``(L - R) / (R/W)``), and the share of
   requests answered 429, for both contenders.
3. **Memory.** Peak RSS of a fresh interpreter running the validation and skipping
   passes of ``run_jsonl`` over a generated file of 1,000,000 lines whose OUTPUT
   already holds every result (so nothing is sent): the memory a resume of a huge job
   needs. The budget is 200 MB. The files live in a temporary directory.

    python -m benchmarks.bench_jobs [--lines N] [--rounds R] [--rpm-lines L]
        [--memory-lines M] [--json FILE] [--smoke]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import Any

import trio

from ._util import canned_server, pin_self

BODY = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hi"}]}
CONCURRENCY = 64
MEMORY_BUDGET_MB = 200.0


def write_input(path: str, n: int, prefix: str = "req") -> None:
    with open(path, "w") as f:
        for i in range(n):
            line = {
                "custom_id": f"{prefix}-{i:07d}",
                "method": "POST",
                "url": "/v1/chat/completions",
                "body": BODY,
            }
            f.write(json.dumps(line, separators=(",", ":")))
            f.write("\n")


# --------------------------------------------------------------------------- contenders


async def job_ours(base_url: str, inp: str, out: str, concurrency: int) -> dict[str, Any]:
    import trio_openai
    from trio_openai import jobs

    limits = trio_openai.PoolLimits(max_connections=concurrency, max_idle_per_host=concurrency)
    async with trio_openai.Client(
        api_key="sk-bench", base_url=base_url, limits=limits, breaker=None
    ) as client:
        start = time.perf_counter()
        summary = await jobs.run_jsonl(client, inp, out, concurrency=concurrency)
        elapsed = time.perf_counter() - start
    return {"elapsed": elapsed, "lines": summary.sent, "failed": summary.failed}


async def job_sdk(base_url: str, inp: str, out: str, concurrency: int) -> dict[str, Any]:
    """The same job as a user would write it with the SDK: a limiter, one task per line
    (at most ``concurrency`` alive), Batch-format output lines."""
    import openai

    client = openai.AsyncOpenAI(api_key="sk-bench", base_url=base_url)
    limiter = trio.CapacityLimiter(concurrency)
    failed = 0
    lines = 0
    start = time.perf_counter()
    try:
        with open(inp) as source, open(out, "w") as sink:

            async def one(line: dict[str, Any], token: object) -> None:
                nonlocal failed, lines
                try:
                    entry: dict[str, Any]
                    try:
                        raw = await client.chat.completions.with_raw_response.create(**line["body"])
                        completion = raw.parse()
                        entry = {
                            "status_code": raw.status_code,
                            "request_id": raw.headers.get("x-request-id"),
                            "body": completion.model_dump(),
                        }
                        error = None
                    except openai.APIStatusError as exc:
                        failed += 1
                        entry = {
                            "status_code": exc.status_code,
                            "request_id": exc.request_id,
                            "body": exc.body,
                        }
                        error = None
                    except openai.APIConnectionError as exc:
                        failed += 1
                        entry, error = {}, {"code": "connection_error", "message": str(exc)}
                    out_line = {
                        "id": f"batch_req_{line['custom_id']}",
                        "custom_id": line["custom_id"],
                        "response": entry or None,
                        "error": error,
                    }
                    sink.write(json.dumps(out_line) + "\n")
                    sink.flush()
                    lines += 1
                finally:
                    limiter.release_on_behalf_of(token)

            async with trio.open_nursery() as nursery:
                for raw_line in source:
                    token = object()
                    await limiter.acquire_on_behalf_of(token)
                    nursery.start_soon(one, json.loads(raw_line), token)
            os.fsync(sink.fileno())
    finally:
        await client.close()
    return {"elapsed": time.perf_counter() - start, "lines": lines, "failed": failed}


# --------------------------------------------------------------------------- 1. throughput


def throughput(port: int, n: int, rounds: int, tmp: str) -> dict[str, Any]:
    base_url = f"http://127.0.0.1:{port}/v1"
    results: dict[str, Any] = {}
    for name, job, lines in (("ours", job_ours, n), ("sdk", job_sdk, max(64, n // 8))):
        inp = os.path.join(tmp, f"tp-{name}.jsonl")
        write_input(inp, lines)
        rates = []
        for r in range(rounds):
            out = os.path.join(tmp, f"tp-{name}-{r}.out.jsonl")
            got = trio.run(job, base_url, inp, out, CONCURRENCY)
            assert got["lines"] == lines and got["failed"] == 0, got
            rates.append(lines / got["elapsed"])
            os.remove(out)
        results[name] = {
            "median": statistics.median(rates),
            "min": min(rates),
            "max": max(rates),
            "lines": lines,
        }
    results["ratio"] = results["ours"]["median"] / results["sdk"]["median"]
    return results


# --------------------------------------------------------------------------- 2. RPM


@contextlib.contextmanager
def mock_server(rpm: int, window: float, cpu: int | None = 1) -> Iterator[tuple[str, str]]:
    """Run the embedded mock server with a rate limit in a child process; yield its base
    URL and the file where it keeps its request and 429 counts."""
    with tempfile.TemporaryDirectory() as tmp:
        url_file = os.path.join(tmp, "url")
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "benchmarks.bench_jobs",
                "--serve-mock",
                url_file,
                "--rpm",
                str(rpm),
                "--window",
                str(window),
            ],
            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        )
        try:
            if cpu is not None and hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
                with contextlib.suppress(OSError):
                    os.sched_setaffinity(proc.pid, {cpu})
            deadline = time.monotonic() + 20
            while not os.path.exists(url_file):
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("mock server did not start")
                time.sleep(0.02)
            with open(url_file) as f:
                yield f.read(), url_file + ".stats"
        finally:
            proc.terminate()
            proc.wait(timeout=10)


async def serve_mock(url_file: str, rpm: int, window: float) -> None:
    from trio_openai.testing import RateLimitSim, open_mock_server

    async with open_mock_server(
        rate_limits=RateLimitSim(rpm=rpm, window=window), api_key=None, record_requests=False
    ) as server:
        with open(url_file + ".tmp", "w") as f:
            f.write(server.base_url)
        os.replace(url_file + ".tmp", url_file)
        while True:
            # The parent reads the counts from a file (rewritten atomically).
            await trio.sleep(0.2)
            stats = server.stats
            with open(url_file + ".stats.tmp", "w") as f:
                json.dump({"requests": stats.requests, "429": stats.too_many_requests}, f)
            os.replace(url_file + ".stats.tmp", url_file + ".stats")


def rpm_limited(lines: int, rpm: int, window: float, tmp: str) -> dict[str, Any]:
    rate = rpm / window
    results: dict[str, Any] = {
        "lines": lines,
        "rpm": rpm,
        "window": window,
        "ideal": lines / rate,
        "ideal_with_burst": max(0.0, lines - rpm) / rate,
    }
    for name, job in (("ours", job_ours), ("sdk", job_sdk)):
        # A fresh server per contender: the bucket starts full for both.
        with mock_server(rpm, window) as (base_url, stats_file):
            inp = os.path.join(tmp, f"rpm-{name}.jsonl")
            write_input(inp, lines)
            out = os.path.join(tmp, f"rpm-{name}.out.jsonl")
            got = trio.run(job, base_url, inp, out, CONCURRENCY)
            time.sleep(0.5)  # the server writes its counters every 0.2 s
            with open(stats_file) as f:
                stats = json.load(f)
        got["requests"] = stats["requests"]
        got["429"] = stats["429"]
        got["share_429"] = stats["429"] / max(1, stats["requests"])
        got["vs_ideal"] = got["elapsed"] / results["ideal"]
        results[name] = got
    return results


# --------------------------------------------------------------------------- 3. memory


def memory(lines: int, tmp: str) -> dict[str, Any]:
    inp = os.path.join(tmp, "mem.jsonl")
    out = os.path.join(tmp, "mem.out.jsonl")
    write_input(inp, lines)
    with open(out, "w") as f:
        for i in range(lines):
            cid = f"req-{i:07d}"
            f.write(
                f'{{"id":"batch_req_{i}","custom_id":"{cid}","response":{{"status_code":200,'
                f'"request_id":"req_{i}","body":{{}}}},"error":null}}\n'
            )
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_jobs", "--memory-child", inp, out],
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    result["lines"] = lines
    result["input_mb"] = os.path.getsize(inp) / 1e6
    result["output_mb"] = os.path.getsize(out) / 1e6
    return result


def memory_child(inp: str, out: str) -> None:
    async def go() -> dict[str, Any]:
        import trio_openai
        from trio_openai import jobs

        start_rss = _rss_mb()
        async with trio_openai.Client(api_key="sk-bench", base_url="http://127.0.0.1:9/v1") as c:
            start = time.perf_counter()
            summary = await jobs.run_jsonl(c, inp, out)
            elapsed = time.perf_counter() - start
        assert summary.skipped == summary.total and summary.sent == 0, summary
        return {
            "seconds": elapsed,
            "rss_start_mb": start_rss,
            "peak_rss_mb": _peak_rss_mb(),
            "skipped": summary.skipped,
        }

    print(json.dumps(trio.run(go)))


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1]) / 1024
    return 0.0


def _rss_mb() -> float:
    return _status_mb("VmRSS:")


def _peak_rss_mb() -> float:
    # VmHWM, not ru_maxrss: on Linux ru_maxrss survives exec, so this child would
    # report the peak of the benchmark process that started it.
    return _status_mb("VmHWM:")


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=20_000, help="lines per round (ours)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rpm", type=int, default=300)
    parser.add_argument("--window", type=float, default=1.0)
    parser.add_argument("--rpm-lines", type=int, default=3000)
    parser.add_argument("--memory-lines", type=int, default=1_000_000)
    parser.add_argument("--skip", nargs="*", default=[], choices=["throughput", "rpm", "memory"])
    parser.add_argument("--json", help="write results here")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for tests")
    parser.add_argument("--serve-mock", help=argparse.SUPPRESS)
    parser.add_argument("--memory-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_mock:
        with contextlib.suppress(KeyboardInterrupt):
            trio.run(serve_mock, args.serve_mock, args.rpm, args.window)
        return {}
    if args.memory_child:
        memory_child(*args.memory_child)
        return {}
    if args.smoke:
        args.lines, args.rounds, args.rpm_lines, args.memory_lines = 256, 1, 90, 10_000
        args.rpm, args.window = 60, 1.0

    pin_self(0)
    results: dict[str, Any] = {"benchmark": "jobs", "python": sys.version.split()[0]}
    rows: list[dict[str, Any]] = []
    results["rows"] = rows
    with tempfile.TemporaryDirectory(prefix="bench-jobs-") as tmp:
        if "throughput" not in args.skip:
            with canned_server() as port:
                tp = throughput(port, args.lines, args.rounds, tmp)
            results["throughput"] = tp
            rows.append(
                {
                    "scenario": f"JSONL runner, {args.lines} lines, concurrency {CONCURRENCY}",
                    "unit": "lines/s",
                    "ours": tp["ours"]["median"],
                    "theirs": tp["sdk"]["median"],
                    "ratio": tp["ratio"],
                    "higher_is_better": True,
                    "note": "theirs = SDK + trio.CapacityLimiter",
                }
            )
            print(
                f"throughput: run_jsonl {tp['ours']['median']:7.0f} lines/s "
                f"[{tp['ours']['min']:.0f}-{tp['ours']['max']:.0f}]   SDK + limiter "
                f"{tp['sdk']['median']:6.0f} lines/s [{tp['sdk']['min']:.0f}-"
                f"{tp['sdk']['max']:.0f}]   ratio {tp['ratio']:5.1f}x",
                flush=True,
            )
        if "rpm" not in args.skip:
            rl = rpm_limited(args.rpm_lines, args.rpm, args.window, tmp)
            results["rpm"] = rl
            limit = f"{args.rpm_lines} lines at {args.rpm / args.window:g} req/s"
            ours_r, sdk_r = rl["ours"], rl["sdk"]
            rows.append(
                {
                    "scenario": f"JSONL runner under a server limit ({limit}), wall time",
                    "unit": "x ideal",
                    "ours": ours_r["vs_ideal"],
                    "theirs": sdk_r["vs_ideal"],
                    "ratio": ours_r["vs_ideal"] / sdk_r["vs_ideal"],
                    "higher_is_better": False,
                    "note": (
                        f"ideal = lines / limit = {rl['ideal']:.1f} s; the SDK job lost "
                        f"{sdk_r['failed']} lines to 429s, ours {ours_r['failed']}"
                    ),
                }
            )
            rows.append(
                {
                    "scenario": f"JSONL runner under a server limit ({limit}), 429 answers",
                    "unit": "% of requests",
                    "ours": 100 * ours_r["share_429"],
                    "theirs": 100 * sdk_r["share_429"],
                    "ratio": ours_r["share_429"] / sdk_r["share_429"]
                    if sdk_r["share_429"]
                    else 1.0,
                    "higher_is_better": False,
                }
            )
            for name in ("ours", "sdk"):
                r = rl[name]
                print(
                    f"rpm limit: {name:4} {r['elapsed']:6.2f} s ({r['vs_ideal']:.2f}x the ideal "
                    f"{rl['ideal']:.2f} s; burst-aware ideal {rl['ideal_with_burst']:.2f} s), "
                    f"429s {r['429']}/{r['requests']} ({r['share_429']:.1%}), "
                    f"failed lines {r['failed']}",
                    flush=True,
                )
        if "memory" not in args.skip:
            mem = memory(args.memory_lines, tmp)
            results["memory"] = mem
            rows.append(
                {
                    "scenario": f"resume pass over {args.memory_lines:,} lines, peak RSS",
                    "unit": "MB",
                    "ours": mem["peak_rss_mb"],
                    "theirs": MEMORY_BUDGET_MB,
                    "ratio": mem["peak_rss_mb"] / MEMORY_BUDGET_MB,
                    "higher_is_better": False,
                    "note": "theirs = the 200 MB budget",
                }
            )
            print(
                f"memory: {args.memory_lines:,} lines ({mem['input_mb']:.0f} MB in, "
                f"{mem['output_mb']:.0f} MB out): validation + skipping in "
                f"{mem['seconds']:.1f} s, peak RSS {mem['peak_rss_mb']:.0f} MB "
                f"(after start-up {mem['rss_start_mb']:.0f} MB; budget {MEMORY_BUDGET_MB:.0f})",
                flush=True,
            )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return results


if __name__ == "__main__":
    main()
