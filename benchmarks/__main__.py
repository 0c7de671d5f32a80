"""The benchmark suite: every benchmark, side by side with its competitor.

    python -m benchmarks [--smoke] [--only NAME ...] [--results DIR] [--write-docs]

Each benchmark module's ``main(argv)`` runs its scenarios (ours and the official SDK /
httpx in the same run, and where there is one the floor: a bare trio + h11 + msgspec
client doing the same work) and returns ``{"rows": [...]}``; this collects the rows
into a markdown table of ratios (to the competitor and to the floor), saves the raw
results as JSON (``--results``, default ``benchmarks/results/``, one file per run
named by date and commit, so runs can be compared between commits), and with
``--write-docs`` rewrites ``docs/benchmarks.md`` and draws ``docs/img/benchmarks.png``
(matplotlib, when installed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import platform
import subprocess
import sys
from typing import Any

SUITE = (
    "bench_transport",
    "bench_client",
    "bench_stream",
    "bench_sse",
    "bench_embeddings",
    "bench_import",
    "bench_jobs",
    "bench_realtime",
)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip()


def _fmt(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def render_table(
    rows: list[dict[str, Any]], ranges: dict[str, tuple[int, float, float]] | None = None
) -> str:
    """The rows as a markdown table; with ``ranges`` (scenario -> runs, lowest and
    highest ours / theirs over the runs of the same commit), a column for them."""
    head = (
        "| scenario | unit | trio_openai | competitor | floor | ours / theirs | ours / floor "
        "| better |"
    )
    rule = "|---|---|---:|---:|---:|---:|---:|---|"
    if ranges:
        head += " ours / theirs, every run |"
        rule += "---:|"
    lines = [head, rule]
    for row in rows:
        better = "higher" if row.get("higher_is_better", True) else "lower"
        note = f" ({row['note']})" if row.get("note") else ""
        floor = _fmt(row["floor"]) if "floor" in row else "-"
        to_floor = f"{row['ratio_floor']:.2f}x" if "ratio_floor" in row else "-"
        line = (
            f"| {row['scenario']}{note} | {row['unit']} | {_fmt(row['ours'])} | "
            f"{_fmt(row['theirs'])} | {floor} | {row['ratio']:.2f}x | {to_floor} | {better} |"
        )
        if ranges:
            runs, low, high = ranges.get(row["scenario"], (0, 0.0, 0.0))
            line += f" {low:.2f}-{high:.2f}x ({runs} runs) |" if runs else " - |"
        lines.append(line)
    return "\n".join(lines)


def run_ranges(results_dir: str, commit: str) -> dict[str, tuple[int, float, float]]:
    """Per scenario: how many full runs of ``commit`` are saved in ``results_dir``, and
    the lowest and highest ours / theirs among them."""
    seen: dict[str, list[float]] = {}
    if not os.path.isdir(results_dir):
        return {}
    for name in sorted(os.listdir(results_dir)):
        if not name.endswith(f"-{commit}.json"):
            continue
        with open(os.path.join(results_dir, name)) as f:
            saved = json.load(f)
        if saved.get("meta", {}).get("smoke"):
            continue
        for result in saved.get("results", {}).values():
            for row in result.get("rows", []):
                seen.setdefault(row["scenario"], []).append(row["ratio"])
    return {name: (len(v), min(v), max(v)) for name, v in seen.items()}


def draw_chart(rows: list[dict[str, Any]], path: str) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    # Show every ratio as "times better than the competitor" (rows with a zero on
    # either side, such as "429 answers: 0", have no meaningful ratio to draw).
    rows = [r for r in rows if r["ours"] > 0 and r["theirs"] > 0]
    labels = [r["scenario"] for r in rows]
    gains = [r["ratio"] if r.get("higher_is_better", True) else 1 / r["ratio"] for r in rows]
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(rows) + 1.2))
    ax.barh(labels[::-1], gains[::-1], color="#3b7dd8")
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("times better than the competitor (log scale; 1 = equal)")
    for y, g in enumerate(gains[::-1]):
        ax.text(g, y, f" {g:.1f}x", va="center", fontsize=8)
    fig.tight_layout()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def write_docs(
    rows: list[dict[str, Any]],
    meta: dict[str, Any],
    ranges: dict[str, tuple[int, float, float]] | None = None,
) -> None:
    chart = os.path.join(ROOT, "docs", "img", "benchmarks.png")
    has_chart = draw_chart(rows, chart)
    text = f"""# Benchmarks

Written by `python -m benchmarks --write-docs` on {meta["date"]} at commit
`{meta["commit"]}`: Python {meta["python"]}, {meta["machine"]}, {meta["cpus"]} cores
(shared; absolute figures mean little, the ratios are what to read). Every scenario
runs trio_openai and its competitor (the official `openai` SDK on trio;
`httpx.AsyncClient` for the transport; a bare trio-websocket + `json.loads` loop for
Realtime, whose SDK client needs asyncio) in the same run against a canned-bytes server
in a child process pinned to the other core (plain HTTP, or TLS 1.3 with a trustme
CA); medians of several rounds, contenders taking turns. Where a row has a floor, it
is a bare trio + h11 + msgspec client doing the same work (`benchmarks/_floor.py`;
for memory, a bare trio socket and task per stream): the practical ceiling of the
stack, so `ours / floor` near 1 means little is left to gain. (The memory floor
connects with `trio.open_tcp_stream`, as any trio client does; trio_openai dials an IP
address directly, without its happy-eyeballs nursery, which is how it ends below it.)
The last column gives the lowest and highest `ours / theirs` over every full run of
the same commit saved under `benchmarks/results/`.

Request rows are in requests per second of *client CPU time* (`1 / CPU per call`,
user + system, of the client process over the timed calls): what the client does
alone on its core. On a machine shared with other work, wall-clock rates move with
everyone else's load; the CPU figure moves far less. `--metric wall` reports wall
clock instead; the raw JSON has both.

{render_table(rows, ranges)}

{"![ratios](img/benchmarks.png)" if has_chart else ""}

Run one benchmark alone with `python -m benchmarks.bench_<name> --help`; raw results
of each suite run are kept as JSON under `benchmarks/results/` for comparison between
commits.
"""
    with open(os.path.join(ROOT, "docs", "benchmarks.md"), "w") as f:
        f.write(text)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (for the tests)")
    parser.add_argument("--only", nargs="*", choices=SUITE, help="run only these")
    parser.add_argument("--results", default=os.path.join(ROOT, "benchmarks", "results"))
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args(argv)
    names = args.only or list(SUITE)
    meta = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": _commit(),
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "smoke": args.smoke,
    }
    all_rows: list[dict[str, Any]] = []
    raw: dict[str, Any] = {}
    for name in names:
        print(f"== {name}", flush=True)
        module = importlib.import_module(f"benchmarks.{name}")
        result = module.main(["--smoke"] if args.smoke else [])
        raw[name] = result
        all_rows.extend(result.get("rows", []))
    print()
    print(render_table(all_rows))
    if not args.smoke:
        os.makedirs(args.results, exist_ok=True)
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        path = os.path.join(args.results, f"{stamp}-{meta['commit']}.json")
        with open(path, "w") as f:
            json.dump({"meta": meta, "results": raw}, f, indent=2, default=str)
        print(f"\nraw results: {path}")
    if args.write_docs:
        write_docs(all_rows, meta, run_ranges(args.results, meta["commit"]))
        print("wrote docs/benchmarks.md")
    return {"meta": meta, "rows": all_rows, "results": raw}


if __name__ == "__main__":
    main()
