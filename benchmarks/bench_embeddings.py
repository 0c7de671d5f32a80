"""Embeddings decode: 2048 base64 vectors of 1536 dimensions, trio_openai vs the SDK.

The canned server answers ``POST /embeddings`` with a ~17 MB body of base64 float32
vectors (what both clients ask for by default). Both clients turn it into lists of
Python floats (the SDK's type, trio_openai's default); trio_openai also runs with
``vectors="float32"``, which keeps the decoded values packed (a float32 memoryview per
vector, numpy-ready) instead of making 3.1 M Python floats. Reported: seconds per call
(median, min-max) and the ratios.

    python -m benchmarks.bench_embeddings [--rounds R] [--count N] [--json FILE] [--smoke]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import trio

from ._util import canned_server, pin_self


async def run_ours(base_url: str, calls: int, vectors: str = "list") -> list[float]:
    import trio_openai

    times = []
    async with trio_openai.Client(api_key="sk-bench", base_url=base_url) as client:
        for _ in range(calls + 1):
            start = time.perf_counter()
            result = await client.embeddings.create(
                model="text-embedding-3-small", input="x", vectors=vectors
            )
            vector = result.data[-1].embedding
            assert len(vector) == 1536 and isinstance(vector, list) == (vectors == "list")
            times.append(time.perf_counter() - start)
    return times[1:]  # the first call is a warm-up


async def run_sdk(base_url: str, calls: int) -> list[float]:
    import openai

    times = []
    client = openai.AsyncOpenAI(api_key="sk-bench", base_url=base_url)
    try:
        for _ in range(calls + 1):
            start = time.perf_counter()
            result = await client.embeddings.create(model="text-embedding-3-small", input="x")
            assert isinstance(result.data[-1].embedding, list)
            times.append(time.perf_counter() - start)
    finally:
        await client.close()
    return times[1:]


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--count", type=int, default=2048)
    parser.add_argument("--json")
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args(argv)
    rounds, count = (1, 16) if args.smoke else (args.rounds, args.count)
    pin_self(0)
    with canned_server("embeddings", extra=["--count", str(count)]) as port:
        url = f"http://127.0.0.1:{port}/v1"
        ours = trio.run(run_ours, url, rounds)
        packed = trio.run(run_ours, url, rounds, "float32")
        sdk = trio.run(run_sdk, url, rounds)
    o, p, s = statistics.median(ours), statistics.median(packed), statistics.median(sdk)

    def span(values: list[float]) -> str:
        return f"{min(values) * 1000:.0f}-{max(values) * 1000:.0f}"

    print(
        f"{count} x 1536 base64 embeddings: SDK {s * 1000:.0f} ms [{span(sdk)}]\n"
        f"  trio_openai, list[float]      {o * 1000:4.0f} ms [{span(ours)}]   {s / o:.1f}x faster\n"
        f"  trio_openai, vectors=float32  {p * 1000:4.0f} ms [{span(packed)}]   {s / p:.1f}x faster"
    )
    results: dict[str, object] = {
        "benchmark": "embeddings",
        "python": sys.version.split()[0],
        "count": count,
        "ours_s": ours,
        "ours_float32_s": packed,
        "sdk_s": sdk,
        "rows": [
            {
                "scenario": f"embeddings.create, {count} x 1536 base64 vectors to list[float]",
                "unit": "ms",
                "ours": o * 1000,
                "theirs": s * 1000,
                "ratio": o / s,
                "higher_is_better": False,
            },
            {
                "scenario": f"embeddings.create, {count} x 1536 vectors, vectors='float32'",
                "unit": "ms",
                "ours": p * 1000,
                "theirs": s * 1000,
                "ratio": p / s,
                "higher_is_better": False,
                "note": "theirs = the SDK making list[float]",
            },
        ],
    }
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return results


if __name__ == "__main__":
    main()
