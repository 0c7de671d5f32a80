"""Shared benchmark plumbing: a server in a child process, pinned to its own core."""

from __future__ import annotations

import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence

import trio


@contextlib.contextmanager
def canned_server(
    kind: str = "chat", *, cpu: int | None = 1, extra: Sequence[str] = ()
) -> Iterator[int]:
    """Run ``benchmarks._canned_server`` in a child process; yield its port."""
    with tempfile.TemporaryDirectory() as tmp:
        port_file = os.path.join(tmp, "port")
        proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks._canned_server", port_file, "--kind", kind, *extra],
            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        )
        try:
            if (
                cpu is not None
                and hasattr(os, "sched_setaffinity")
                and os.cpu_count()
                and (os.cpu_count() or 1) > 1
            ):
                with contextlib.suppress(OSError):
                    os.sched_setaffinity(proc.pid, {cpu})
            deadline = time.monotonic() + 60
            while not os.path.exists(port_file):
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("benchmark server did not start")
                time.sleep(0.02)
            with open(port_file) as f:
                yield int(f.read())
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def pin_self(cpu: int = 0) -> None:
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, {cpu})


def summarize(values: list[float]) -> dict[str, float]:
    """Median and min-max of a benchmark's rounds."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


async def drive(
    one: Callable[[], Awaitable[object]],
    n: int,
    concurrency: int,
    *,
    warmup: int = 1,
    latencies: list[float] | None = None,
) -> float:
    """Call ``one()`` ``n`` times, sequentially or from ``concurrency`` tasks; return calls/s.

    ``warmup`` calls come first (connection made, code paths hot). In sequential mode,
    each call's seconds are appended to ``latencies`` when it is given.
    """
    for _ in range(warmup):
        await one()
    start = time.perf_counter()
    if concurrency == 1:
        clock = time.perf_counter
        for _ in range(n):
            t = clock()
            await one()
            if latencies is not None:
                latencies.append(clock() - t)
    else:

        async def worker(count: int) -> None:
            for _ in range(count):
                await one()

        async with trio.open_nursery() as nursery:
            for i in range(concurrency):
                nursery.start_soon(worker, n // concurrency + (i < n % concurrency))
    return n / (time.perf_counter() - start)
