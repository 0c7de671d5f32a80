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
  With ``retry_failed`` the failed lines are first removed (OUTPUT is rewritten: see
  :func:`~._files.replace_file`), so those requests are sent again.

A complete record is never cut away. Earlier versions wrote a 2xx body as it came, so
a pretty-printed reply spread its record over several lines (the ``body`` inside it);
none of those lines parses alone. A run of lines that do not parse is therefore
joined and tried as one record whenever its last line ends the way such a record
ends (``,"error":null}``, what the encoder puts after every body); a run that parses
is a record, done like any other, and OUTPUT is rewritten with each record on one
line (:func:`~._formats.one_line`; the record was just decoded, so that is exact).
Only lines that never form a record are bad: cut at the end, refused before a good
line.

Then :class:`OutputWriter` appends: one ``write`` of each complete line as soon as it
is known, and an ``fsync`` at least every ``interval`` seconds and at the end. A crash
or ``SIGKILL`` at any moment loses only the lines not yet written (the next run sends
those requests again); written lines are never lost or torn.

Rules kept: OUTPUT is locked (``flock``) while a run appends to it, so two runners
cannot interleave; file I/O is synchronous (whole-line writes, an ``fsync`` at most
once per interval): trio's async files use worker threads, which this package does
not. The done ids are kept as exact strings: ~100 MB for a million short ids, where
64-bit hashes would save a quarter and admit a (tiny) chance of skipping a line that
was never sent. A run of unparsed lines is joined only up to
:data:`_MAX_RECORD_BYTES`; past that it is bad.

Options rejected: write-behind buffering of output lines (a crash would lose
finished, paid-for requests); trying every prefix of a run of bad lines as a record
(quadratic in the run; the record's known ending says when to try).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Final

import msgspec
import trio

from ..errors import OpenAIError
from ._files import replace_file
from ._formats import SeenLine, decode_seen, is_failure, one_line
from ._passes import STEP, Steps

__all__ = ["OutputCorruptError", "OutputWriter", "Recovered", "recover_output"]

_RECORD_END: Final = b',"error":null}'
"""How a record of an answered request ends (the encoder's bytes after the body)."""
_MAX_RECORD_BYTES: Final = 1 << 30
"""The longest run of unparsed lines still tried as one record (1 GiB)."""


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
        joined: records found spread over several lines (then put on one line each).
        replaced: whether OUTPUT was rewritten (a writer must reopen it).
    """

    done: set[str] = field(default_factory=set)
    lines: int = 0
    failed: int = 0
    truncated_bytes: int = 0
    dropped_failed: int = 0
    joined: int = 0
    replaced: bool = False


def _try_seen(raw: bytes) -> SeenLine | None:
    try:
        return decode_seen(raw)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


class _Records:
    """The records of an OUTPUT file, read line by line (see the module docstring).

    Iterating yields ``(record bytes, what it says, spanned several lines)`` for each
    complete record, in order. Afterwards ``end`` is the offset just past the last
    complete record (what follows is a torn tail or bad lines, to cut).

    Raises (while iterating):
        OutputCorruptError: a line that is not part of any record has a record after it.
    """

    __slots__ = ("_f", "_path", "end")

    def __init__(self, path: str, f: IO[bytes]) -> None:
        self._path = path
        self._f = f
        self.end = 0

    def __iter__(self) -> Iterator[tuple[bytes, SeenLine, bool]]:
        offset = 0
        run: list[bytes] = []  # unparsed lines that may still form one record
        run_bytes = 0
        run_number = 0  # line number of the run's first line (0: no run)
        for number, raw in enumerate(self._f, start=1):
            offset += len(raw)
            if not raw.endswith(b"\n"):
                return  # a torn final line: cut by the caller
            if not run_number:
                if not raw.strip():
                    self.end = offset
                    continue
                seen = _try_seen(raw)
                if seen is not None:
                    self.end = offset
                    yield raw, seen, False
                    continue
                run, run_bytes, run_number = [raw], len(raw), number
                continue
            if raw.strip() and _try_seen(raw) is not None:
                raise OutputCorruptError(
                    f"{self._path}: line {run_number} is not a batch output line, and "
                    "valid lines follow it; refusing to append to a file this runner did "
                    "not write (fix the line or choose another output file)"
                )
            run_bytes += len(raw)
            if run_bytes > _MAX_RECORD_BYTES:
                run.clear()  # too long to be one record: bad, whatever follows
                continue
            run.append(raw)
            if run and raw.rstrip().endswith(_RECORD_END):
                joined = b"".join(run)
                seen = _try_seen(joined)
                if seen is not None:
                    self.end = offset
                    run, run_bytes, run_number = [], 0, 0
                    yield joined, seen, True


def recover_output(path: str, *, retry_failed: bool) -> Steps[Recovered]:
    """Read OUTPUT (if any): cut a torn tail, collect the done ids.

    With ``retry_failed`` the failed lines are removed (the file is rewritten and
    renamed over OUTPUT: ``replaced``) so that their requests are sent again. Records
    spread over several lines (written by earlier versions) are kept, and OUTPUT is
    rewritten with one line each.

    Raises:
        OutputCorruptError: a line before the end is not part of any record.
    """
    state = Recovered()
    if not os.path.exists(path):
        return state
    with open(path, "rb") as f:
        records = _Records(path, f)
        for count, (_raw, seen, joined) in enumerate(records, start=1):
            if count % STEP == 0:
                yield
            state.lines += 1
            state.done.add(seen.custom_id)
            state.joined += joined
            if is_failure(seen):
                state.failed += 1
        good_end = records.end
    size = os.path.getsize(path)
    if good_end < size:
        state.truncated_bytes = size - good_end
        with open(path, "r+b") as f:
            f.truncate(good_end)
            f.flush()
            os.fsync(f.fileno())
    if state.joined or (retry_failed and state.failed):
        state = yield from _rewrite(path, state, drop_failed=retry_failed)
    return state


def _rewrite(path: str, state: Recovered, *, drop_failed: bool) -> Steps[Recovered]:
    """OUTPUT again, one line per record, without the failed ones if ``drop_failed``."""
    kept = Recovered(truncated_bytes=state.truncated_bytes, joined=state.joined, replaced=True)
    with open(path, "rb") as src, replace_file(path) as dst:
        for count, (raw, seen, joined) in enumerate(_Records(path, src), start=1):
            if count % STEP == 0:
                yield
            failed = is_failure(seen)
            if drop_failed and failed:
                kept.dropped_failed += 1
                continue
            dst.write(one_line(raw.rstrip(b"\r\n")) + b"\n" if joined else raw)
            kept.lines += 1
            kept.failed += failed
            kept.done.add(seen.custom_id)
    return kept


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
