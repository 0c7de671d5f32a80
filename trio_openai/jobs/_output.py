"""OUTPUT: recovered before a run (the resume), then appended to line by line.

Theory of operation
-------------------
Both runners write results to OUTPUT, one whole line per request, and use OUTPUT as
their only record of what is done. Before a run, :func:`recover_output` reads it:

- A final line without a newline is a line torn by a crash (or trailing lines that do
  not parse: the garbage a power loss can leave); it is truncated away before
  anything is appended.
- Every other line must parse as an output line, or the run stops with
  :class:`OutputCorruptError`: an OUTPUT that is not ours is never appended to.
- The ``custom_id`` s found are *done*: the runners skip them, whatever their result.
  With ``retry_failed`` the failed lines are first removed (OUTPUT is rewritten to a
  temporary file, ``fsync`` ed and renamed over it), so those requests are sent again.

Then :class:`OutputWriter` appends: one ``write`` of each complete line as soon as it
is known, and an ``fsync`` at least every ``interval`` seconds and at the end. A crash
or ``SIGKILL`` at any moment loses only the lines not yet written (the next run sends
those requests again); written lines are never lost or torn.

Rules kept: OUTPUT is locked (``flock``) while a run appends to it, so two runners
cannot interleave; file I/O is synchronous (whole-line writes, an ``fsync`` at most
once per interval): trio's async files use worker threads, which this package does
not. The done ids are kept as exact strings: ~100 MB for a million short ids, where
64-bit hashes would save a quarter and admit a (tiny) chance of skipping a line that
was never sent.

Options rejected: write-behind buffering of output lines (a crash would lose
finished, paid-for requests).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import IO

import msgspec
import trio

from ..errors import OpenAIError
from ._formats import decode_seen, is_failure
from ._passes import STEP, Steps

__all__ = ["OutputCorruptError", "OutputWriter", "Recovered", "recover_output"]


class OutputCorruptError(OpenAIError, ValueError):
    """OUTPUT has a line, not at its end, that is not a batch output line.

    Nothing is appended to such a file: it was not written by this runner (or was
    edited), and skipping or dropping its lines could lose results.
    """


@dataclass
class Recovered:
    """What :func:`recover_output` found (and did) in OUTPUT.

    Attributes:
        done: the ``custom_id`` s with a line in OUTPUT (sent no more).
        lines: output lines kept.
        failed: of ``lines``, failures.
        truncated_bytes: bytes of a torn tail cut away.
        dropped_failed: failed lines removed by ``retry_failed``.
        replaced: whether OUTPUT was rewritten (a writer must reopen it).
    """

    done: set[str] = field(default_factory=set)
    lines: int = 0
    failed: int = 0
    truncated_bytes: int = 0
    dropped_failed: int = 0
    replaced: bool = False


def recover_output(path: str, *, retry_failed: bool) -> Steps[Recovered]:
    """Read OUTPUT (if any): cut a torn tail, collect the done ids.

    With ``retry_failed`` the failed lines are removed (the file is rewritten to a
    temporary file and renamed over OUTPUT: ``replaced``) so that their requests are
    sent again.

    Raises:
        OutputCorruptError: a line before the end does not parse.
    """
    state = Recovered()
    if not os.path.exists(path):
        return state
    good_end = 0  # offset just past the last good line
    bad_start: int | None = None  # start of a run of bad lines not followed by a good one
    bad_number = 0
    offset = 0
    with open(path, "rb") as f:
        for number, raw in enumerate(f, start=1):
            if number % STEP == 0:
                yield
            start = offset
            offset += len(raw)
            if not raw.endswith(b"\n"):
                break  # a torn final line: cut below
            if not raw.strip():
                if bad_start is None:
                    good_end = offset
                continue
            try:
                seen = decode_seen(raw)
            except (msgspec.DecodeError, msgspec.ValidationError):
                if bad_start is None:
                    bad_start, bad_number = start, number
                continue
            if bad_start is not None:
                raise OutputCorruptError(
                    f"{path}: line {bad_number} is not a batch output line, and valid lines "
                    "follow it; refusing to append to a file this runner did not write "
                    "(fix the line or choose another output file)"
                )
            good_end = offset
            state.lines += 1
            state.done.add(seen.custom_id)
            if is_failure(seen):
                state.failed += 1
    size = os.path.getsize(path)
    if good_end < size:
        state.truncated_bytes = size - good_end
        with open(path, "r+b") as f:
            f.truncate(good_end)
            f.flush()
            os.fsync(f.fileno())
    if retry_failed and state.failed:
        state = yield from _drop_failed(path, state)
    return state


def _drop_failed(path: str, state: Recovered) -> Steps[Recovered]:
    tmp = f"{path}.retry-failed.tmp"
    kept = Recovered(truncated_bytes=state.truncated_bytes, replaced=True)
    with open(path, "rb") as src, open(tmp, "wb") as dst:
        for number, raw in enumerate(src, start=1):
            if number % STEP == 0:
                yield
            if not raw.strip():
                continue
            seen = decode_seen(raw)
            if is_failure(seen):
                kept.dropped_failed += 1
                continue
            dst.write(raw)
            kept.lines += 1
            kept.done.add(seen.custom_id)
        dst.flush()
        os.fsync(dst.fileno())
    os.replace(tmp, path)
    _fsync_dir(path)
    return kept


def _fsync_dir(path: str) -> None:
    if sys.platform == "win32":  # pragma: no cover - directories cannot be fsynced there
        return
    fd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class OutputWriter:
    """Appends whole lines to OUTPUT; ``fsync`` at most every ``interval`` seconds."""

    __slots__ = ("_f", "_interval", "_last_sync", "_unsynced", "path")

    def __init__(self, path: str, interval: float) -> None:
        self.path = path
        self._interval = interval
        self._f = self._open()
        self._last_sync = trio.current_time()
        self._unsynced = False

    def _open(self) -> IO[bytes]:
        f: IO[bytes] = open(self.path, "ab", buffering=0)  # noqa: SIM115 - closed in close()
        try:
            _lock(f)
        except BaseException:
            f.close()
            raise
        return f

    def reopen(self) -> None:
        """Open (and lock) the file now at ``path``, after it was replaced."""
        old = self._f
        self._f = self._open()
        old.close()

    def write(self, line: bytes) -> None:
        view = memoryview(line)
        while view:  # a regular file takes it all in one write unless the disk is full
            view = view[self._f.write(view) :]
        self._unsynced = True
        now = trio.current_time()
        if now - self._last_sync >= self._interval:
            self.sync(now)

    def sync(self, now: float | None = None) -> None:
        if self._unsynced:
            os.fsync(self._f.fileno())
            self._unsynced = False
        self._last_sync = trio.current_time() if now is None else now

    def close(self) -> None:
        if self._f.closed:
            return
        try:
            self.sync()
        finally:
            self._f.close()


def _lock(f: IO[bytes]) -> None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on POSIX: no lock
        return
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise RuntimeError(
            f"{f.name}: another runner is writing this output file (it is locked)"
        ) from None
