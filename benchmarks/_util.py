"""Shared benchmark plumbing: a server in a child process, pinned to its own core."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence


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
