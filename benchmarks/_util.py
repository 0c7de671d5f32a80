"""Shared benchmark plumbing: a server in a child process, pinned to its own core.

Measuring: :func:`drive` reports requests per second of wall time and, in ``stats``,
the client process's CPU seconds (``time.process_time``: user + system, so the
kernel's socket and TLS work is counted) over the same calls. On a shared machine the
wall figure moves with everyone else's load; the CPU figure per call barely does, and
``1 / cpu_per_call`` is what the client could do alone on its core (the server has
the other one). Rows report both.
"""

from __future__ import annotations

import contextlib
import gc
import os
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

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


@dataclass(frozen=True)
class TLSFiles:
    """A trustme CA and a certificate for 127.0.0.1 it signed, written as PEM files."""

    ca: str  # the CA certificate (what clients trust: ``verify=ca``)
    server: str  # the server's key and certificate chain (``--tls`` of the server)

    def client_context(self) -> ssl.SSLContext:
        """A client context trusting only the CA (verification on, as a user's is)."""
        return ssl.create_default_context(cafile=self.ca)


@contextlib.contextmanager
def tls_files() -> Iterator[TLSFiles]:
    """A fresh trustme CA and server certificate in a temporary directory."""
    import trustme

    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1", "localhost")
    with tempfile.TemporaryDirectory() as tmp:
        files = TLSFiles(os.path.join(tmp, "ca.pem"), os.path.join(tmp, "server.pem"))
        ca.cert_pem.write_to_path(files.ca)
        leaf.private_key_and_cert_chain_pem.write_to_path(files.server)
        yield files


def pin_self(cpu: int = 0) -> None:
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, {cpu})


def settle() -> None:
    """Collect what earlier runs left (a contender's garbage must not be collected
    in the next one's timed window): called by every contender right before it
    starts timing."""
    gc.collect()


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
    stats: dict[str, Any] | None = None,
) -> float:
    """Call ``one()`` ``n`` times, sequentially or from ``concurrency`` tasks; return calls/s.

    ``warmup`` calls come first, one after the other (a connection made, code paths
    hot; httpx, under the SDK, stays several times slower for the life of a client
    whose very first calls were concurrent). With ``concurrency`` > 1 the tasks then
    run without a break: ``2 * concurrency`` more calls finish first, and the timed
    window is the next ``n`` calls to finish, while every task still has calls to
    make. So the figure is the steady state (every connection open, none idle,
    nothing handshaking) and not the start or the tail of a burst. In sequential mode, each
    call's seconds are appended to ``latencies`` when it is given. ``stats`` receives
    ``wall_s``, ``cpu_s`` (the process's CPU time) and ``n`` of the timed calls.
    """
    for _ in range(warmup):
        await one()
    settle()
    if concurrency == 1:
        cpu_start = time.process_time()
        start = time.perf_counter()
        clock = time.perf_counter
        for _ in range(n):
            t = clock()
            await one()
            if latencies is not None:
                latencies.append(clock() - t)
        wall = time.perf_counter() - start
        cpu = time.process_time() - cpu_start
    else:
        wall, cpu = await _window(one, 2 * concurrency, n, concurrency)
    if stats is not None:
        stats.update(wall_s=wall, cpu_s=cpu, n=n)
    return n / wall


async def _window(
    one: Callable[[], Awaitable[object]], warm: int, n: int, concurrency: int
) -> tuple[float, float]:
    """Run ``concurrency`` tasks calling ``one()``; time calls ``warm`` to ``warm + n``."""
    claimed = finished = 0
    # Enough calls that every task is still busy when the window closes.
    total = warm + n + concurrency
    marks: list[tuple[float, float]] = []

    async def worker() -> None:
        nonlocal claimed, finished
        while claimed < total:
            claimed += 1
            await one()
            finished += 1
            if finished == warm or finished == warm + n:
                marks.append((time.perf_counter(), time.process_time()))

    async with trio.open_nursery() as nursery:
        for _ in range(concurrency):
            nursery.start_soon(worker)
    (wall0, cpu0), (wall1, cpu1) = marks
    return wall1 - wall0, cpu1 - cpu0
