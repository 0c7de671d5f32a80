"""Import + client construction: whole fresh processes, trio_openai vs the official SDK.

Each contender runs in a new interpreter several times, the contenders taking turns
(so a change in machine load touches all of them alike); reported are the median
wall time of the process (``import`` plus constructing one async client) and its
peak RSS, with the ratio ours / SDK. ``trio`` alone is measured too: it is the floor
of any trio program, and most of trio_openai's time; the first row is what each
library adds to it (the process's median minus that of ``import trio`` alone).

    python -m benchmarks.bench_import [--runs N] [--json FILE] [--smoke]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

# Both programs are trio programs: the SDK "on trio" needs trio imported as well
# (trio_openai imports it itself). "openai-alone" shows the SDK without trio.
CONTENDERS = {
    "trio_openai": "import trio_openai; trio_openai.Client(api_key='sk-bench')",
    "openai": "import trio, openai; openai.AsyncOpenAI(api_key='sk-bench')",
    "openai-alone": "import openai; openai.AsyncOpenAI(api_key='sk-bench')",
    "trio": "import trio",
    "python": "pass",
}


# Children run as a user's program would: with bytecode caching on (a warm-up run
# writes the .pyc files), even where the environment sets PYTHONDONTWRITEBYTECODE.
_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _run_once(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=_ENV)
    return time.perf_counter() - start


def _peak_rss_kb(code: str) -> int:
    # VmHWM, not ru_maxrss: on Linux ru_maxrss survives exec, so a child would
    # report the peak of the (much larger) benchmark process that started it.
    probe = (
        f"{code}\nimport sys\n"
        "sys.stdout.write([l.split()[1] for l in open('/proc/self/status') "
        "if l.startswith('VmHWM:')][0])"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True, env=_ENV
    )
    return int(out.stdout.strip())


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--json")
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args(argv)
    runs = 1 if args.smoke else args.runs
    results: dict[str, object] = {"benchmark": "import", "python": sys.version.split()[0]}
    for code in CONTENDERS.values():
        _run_once(code)  # warm the file cache and write bytecode
    samples: dict[str, list[float]] = {name: [] for name in CONTENDERS}
    for _ in range(runs):
        for name, code in CONTENDERS.items():
            samples[name].append(_run_once(code))
    for name, code in CONTENDERS.items():
        times = samples[name]
        results[name] = {
            "median_s": statistics.median(times),
            "min_s": min(times),
            "max_s": max(times),
            "peak_rss_kb": _peak_rss_kb(code),
        }
    ours = results["trio_openai"]
    sdk = results["openai"]
    base = results["python"]
    assert isinstance(ours, dict) and isinstance(sdk, dict) and isinstance(base, dict)
    results["time_ratio"] = ours["median_s"] / sdk["median_s"]
    results["time_ratio_minus_interpreter"] = (ours["median_s"] - base["median_s"]) / (
        sdk["median_s"] - base["median_s"]
    )
    results["rss_ratio"] = ours["peak_rss_kb"] / sdk["peak_rss_kb"]
    trio_only = results["trio"]
    assert isinstance(trio_only, dict)
    # What each library adds to a trio program: the process minus `import trio` alone.
    added_ours = ours["median_s"] - trio_only["median_s"]
    added_sdk = sdk["median_s"] - trio_only["median_s"]
    results["added_over_trio_ratio"] = added_ours / added_sdk
    results["rows"] = [
        {
            "scenario": "import + construct, added over a bare `import trio` process",
            "unit": "ms",
            "ours": added_ours * 1000,
            "theirs": added_sdk * 1000,
            "ratio": results["added_over_trio_ratio"],
            "higher_is_better": False,
        },
        {
            "scenario": "import + construct a client (whole process, with trio)",
            "unit": "ms",
            "ours": ours["median_s"] * 1000,
            "theirs": sdk["median_s"] * 1000,
            "ratio": results["time_ratio"],
            "higher_is_better": False,
        },
        {
            "scenario": "peak RSS after import + construct",
            "unit": "MiB",
            "ours": ours["peak_rss_kb"] / 1024,
            "theirs": sdk["peak_rss_kb"] / 1024,
            "ratio": results["rss_ratio"],
            "higher_is_better": False,
        },
    ]
    for name in CONTENDERS:
        r = results[name]
        assert isinstance(r, dict)
        print(
            f"{name:12s} {r['median_s'] * 1000:7.1f} ms [{r['min_s'] * 1000:.0f}-"
            f"{r['max_s'] * 1000:.0f}]  peak RSS {r['peak_rss_kb'] / 1024:6.1f} MiB"
        )
    floor = results["trio"]
    assert isinstance(floor, dict)
    results["trio_ratio"] = floor["median_s"] / sdk["median_s"]
    print(
        f"added over `import trio`: trio_openai {added_ours * 1000:.1f} ms, SDK "
        f"{added_sdk * 1000:.1f} ms: {results['added_over_trio_ratio']:.1%}"
    )
    print(
        f"ours / SDK: time {results['time_ratio']:.0%} "
        f"(without the bare interpreter: {results['time_ratio_minus_interpreter']:.0%}), "
        f"memory {results['rss_ratio']:.0%}; trio alone / SDK: {results['trio_ratio']:.0%}"
    )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return results


if __name__ == "__main__":
    main()
