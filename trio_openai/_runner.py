"""The resumable JSONL runner: a Batch API input file run through the client locally.

Theory of operation
-------------------
``run_jsonl(client, INPUT, OUTPUT)`` reads INPUT in the Batch API's input format (one
``{"custom_id", "method", "url", "body"}`` per line) and appends one line per request
to OUTPUT in the Batch API's output format (``{"id", "custom_id", "response":
{"status_code", "request_id", "body"}, "error"}``), so a file moves between this runner
and the Batch API unchanged. Three passes over INPUT, none of which holds it in
memory:

1. **Validate** (:func:`validate_jsonl`): every line is parsed and checked (JSON, the
   four fields, a supported ``url``, no ``stream: true``, unique ``custom_id``). Any
   problem raises :class:`InputValidationError` listing them by line number, and
   nothing is sent. Duplicates are found with a set of the ids; their line numbers
   come from a second pass made only when there are duplicates.
2. **Recover OUTPUT**: a final line without a newline is a line torn by a crash (or
   trailing lines that do not parse: the garbage a power loss can leave); it is
   truncated away before anything is appended. Every other line must parse, or the
   run stops (an OUTPUT that is not ours is never appended to). The ``custom_id`` s
   found are *done*: they are skipped, whatever their result (``retry_failed=True``
   first rewrites OUTPUT without its failed lines, so those are sent again).
3. **Run**: the lines not done go through :func:`trio_openai.jobs.as_completed` at
   ``concurrency``; each result is written as one whole line as soon as it is known
   (one ``write`` of the complete line), and OUTPUT is ``fsync`` ed at least every
   ``fsync_interval`` seconds and at the end. A crash or ``SIGKILL`` at any moment
   loses only the requests in flight (their lines were never written: at most
   ``concurrency`` being sent plus :data:`_RESULT_BUFFER` answered and waiting to be
   written), which the next run sends again. Written lines are never lost or torn.

Each line is sent with ``client._send`` (the body bytes exactly as they are in INPUT,
not re-encoded), so the client's retries, circuit breaker and rate limiter apply
(client-side budgets come from ``Client(rate_limits=RateLimits(...))``). On top, the
runner paces itself by the server's ``x-ratelimit-*`` headers (:class:`_Pacer`,
``adaptive=True``): the first request goes alone and its answer tells the limits; a
mirror of each server bucket (requests, tokens) learns the refill rate from
``(limit - remaining) / reset``, is charged for every request sent and lowered to what
the answers report, and no request leaves before its mirror can pay. Measured against
the embedded server's simulation: a bucket of 300 refilling 300/s, 3,000 lines, 0 429s
and 9.2 s for an ideal of 9.0 s (burst included); without the pacer, the client's own
limiter lets a burst through each time the server's window resets (~60 429s in 300
lines at 60/s). The pacer is the runner's, not the client's, because it has to see
every answer of the job in order to count what is in flight.

What is written for each request
--------------------------------
- **2xx**: ``response`` with the status, ``x-request-id`` and the body as received.
- **An error status after the client's retries** (400, 401, 404, 5xx ...): ``response``
  with the error status and the error body (``{"error": {...}}``), ``error`` null.
  This is what the Batch API does (its error file keeps ``response`` for every
  failure that got an HTTP answer; ``error`` is for failures without one), and it
  makes the line *done*: a resume does not send it again.
- **No HTTP answer** (connection failure or timeout after retries) or a 2xx body that
  is not JSON: ``response`` null and ``error`` ``{"code", "message"}`` with codes
  ``connection_error``, ``timeout``, ``invalid_response_body``, ``invalid_request``,
  ``internal_error``. Also done.
- **Not written, sent again**: a 429 that outlived the client's retries (except
  ``insufficient_quota``, which no wait fixes and is written as an error status) and a
  request refused by an open circuit breaker: the line waits (``retry-after`` or the
  breaker's probe time) and goes again, up to :data:`MAX_REQUEUES` times. Rate
  limiting is the normal state of a big job, not a failure.

The output ``id`` is ``batch_req_`` plus a hash of the ``custom_id``, so it is the
same whichever run wrote the line.

Rules kept: file I/O is synchronous (small buffered reads; whole-line writes; an
``fsync`` at most once per ``fsync_interval``): trio's async files use worker threads,
which this package does not. OUTPUT is locked (``flock``) while a run appends to it,
so two runners cannot interleave. Progress is reported from a ticker task; ``rich``
is imported only when a progress bar is asked for.

Options rejected: keeping the ids of INPUT in memory during the run (the run pass
re-reads INPUT; the ids of OUTPUT are kept, as exact strings: ~100 MB for a million
short ids, where 64-bit hashes would save a quarter and admit a (tiny) chance of
skipping a line that was never sent); writing lines in input order (a slow request
would hold back every later line, and the Batch API does not keep order either: join
by ``custom_id``); write-behind buffering of output lines (a crash would lose finished,
paid-for requests).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, Final, TypeVar

import msgspec
import trio

from ._compat import BaseExceptionGroup
from ._resilience import estimate_tokens, parse_ratelimit_headers
from .errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    CircuitOpenError,
    OpenAIError,
    RateLimitError,
    ValidationError,
)

if TYPE_CHECKING:
    from ._client import Client, Exchange
    from ._observe import RetryEvent

T = TypeVar("T")

__all__ = [
    "BATCH_ENDPOINTS",
    "MAX_REQUEUES",
    "InputSummary",
    "InputValidationError",
    "LineProblem",
    "OutputCorruptError",
    "RunProgress",
    "RunSummary",
    "run_jsonl",
    "validate_jsonl",
]

BATCH_ENDPOINTS: Final = (
    "/v1/responses",
    "/v1/chat/completions",
    "/v1/embeddings",
    "/v1/completions",
    "/v1/moderations",
    "/v1/images/generations",
    "/v1/images/edits",
    "/v1/videos",
)
"""The ``url`` s a batch line may name (the Batch API's ``endpoint`` values)."""

MAX_REQUEUES: Final = 100
"""How many times one line is sent again after a 429 or an open circuit."""

_RESULT_BUFFER: Final = 8
"""Finished results waiting to be written. With the ``concurrency`` calls in flight,
these are the answered requests a crash can lose (and the next run sends again), so
the loss is at most ``concurrency + 8`` requests. A buffer of one costs ~20 % of the
throughput (a worker parks on nearly every result); eight keeps most of it."""
_SHOWN_PROBLEMS: Final = 20
_DEFAULT_MAX_PROBLEMS: Final = 1000
_PROGRESS_INTERVAL: Final = 0.2

# --------------------------------------------------------------------------- formats


class _InputLine(msgspec.Struct):
    """One input line, leniently: every field any JSON, ``body`` left as raw bytes."""

    custom_id: Any = msgspec.UNSET
    method: Any = msgspec.UNSET
    url: Any = msgspec.UNSET
    body: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET


class _OutResponse(msgspec.Struct):
    status_code: int
    request_id: str
    body: msgspec.Raw


class _OutError(msgspec.Struct):
    code: str
    message: str


class _OutLine(msgspec.Struct):
    id: str
    custom_id: str
    response: _OutResponse | None
    error: _OutError | None


class _SeenResponse(msgspec.Struct):
    status_code: int = 0


class _SeenLine(msgspec.Struct):
    """What a resume needs from an OUTPUT line (other fields are skipped unparsed)."""

    custom_id: str
    response: _SeenResponse | None = None
    error: Any = None


class _Usage(msgspec.Struct):
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None


class _Reply(msgspec.Struct):
    """Enough of a 2xx body to count tokens (decoding it also proves it is JSON)."""

    usage: _Usage | None = None


_decode_input = msgspec.json.Decoder(_InputLine).decode
_decode_seen = msgspec.json.Decoder(_SeenLine).decode
_decode_reply = msgspec.json.Decoder(_Reply).decode
_check_json = msgspec.json.Decoder(msgspec.Raw).decode
_encode = msgspec.json.Encoder().encode
_NULL: Final = msgspec.Raw(b"null")


def output_id(custom_id: str) -> str:
    """The output line ``id`` for a ``custom_id``: the same in every run."""
    digest = hashlib.blake2b(custom_id.encode("utf-8"), digest_size=12).hexdigest()
    return f"batch_req_{digest}"


# --------------------------------------------------------------------------- validation


@dataclass(frozen=True)
class LineProblem:
    """One reason an input line cannot be sent.

    Attributes:
        line: the 1-based line number in the input file (0: the file as a whole).
        code: a stable name: ``invalid_json``, ``not_an_object``, ``missing_custom_id``,
            ``invalid_custom_id``, ``missing_method``, ``invalid_method``,
            ``missing_url``, ``unsupported_url``, ``missing_body``, ``invalid_body``,
            ``stream_not_supported``, ``duplicate_custom_id``, ``empty_file``,
            ``mixed_endpoints``.
        message: what is wrong, for people.
        custom_id: the line's ``custom_id`` when it has a usable one.
    """

    line: int
    code: str
    message: str
    custom_id: str | None = None

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "file"
        return f"{where}: {self.code}: {self.message}"


class InputValidationError(OpenAIError, ValueError):
    """The input file has lines that cannot be sent; nothing was sent.

    Attributes:
        path: the input file.
        problems: every problem found (up to ``max_problems``), in line order.
        truncated: whether more problems exist than were collected.
    """

    def __init__(self, path: str, problems: Sequence[LineProblem], truncated: bool) -> None:
        self.path = path
        self.problems = list(problems)
        self.truncated = truncated
        count = f"{len(self.problems)}{'+' if truncated else ''}"
        lines = [f"{path}: {count} problem(s); nothing was sent:"]
        lines += [f"  {p}" for p in self.problems[:_SHOWN_PROBLEMS]]
        if len(self.problems) > _SHOWN_PROBLEMS:
            lines.append(f"  ... and {len(self.problems) - _SHOWN_PROBLEMS} more")
        super().__init__("\n".join(lines))


class OutputCorruptError(OpenAIError, ValueError):
    """OUTPUT has a line, not at its end, that is not a batch output line.

    Nothing is appended to such a file: it was not written by this runner (or was
    edited), and skipping or dropping its lines could lose results.
    """


@dataclass(frozen=True)
class InputSummary:
    """What :func:`validate_jsonl` found in a valid input file.

    Attributes:
        path: the file.
        requests: request lines (blank lines are not counted).
        endpoints: requests per ``url``.
        bytes: the file's size.
    """

    path: str
    requests: int
    endpoints: dict[str, int]
    bytes: int


def _short(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _check_line(
    raw: bytes, number: int, endpoints: frozenset[str]
) -> tuple[_InputLine | None, LineProblem | None]:
    """Parse and check one non-blank line."""
    try:
        line = _decode_input(raw)
    except msgspec.ValidationError:
        return None, LineProblem(number, "not_an_object", "the line is not a JSON object")
    except msgspec.DecodeError as exc:
        return None, LineProblem(number, "invalid_json", f"not valid JSON ({exc})")
    cid = line.custom_id
    if cid is msgspec.UNSET:
        return None, LineProblem(number, "missing_custom_id", "'custom_id' is missing")
    if not isinstance(cid, str) or not cid:
        return None, LineProblem(
            number,
            "invalid_custom_id",
            f"'custom_id' must be a non-empty string, got {_short(cid)}",
        )
    if line.method is msgspec.UNSET:
        return None, LineProblem(number, "missing_method", "'method' is missing", cid)
    if line.method != "POST":
        return None, LineProblem(
            number, "invalid_method", f"'method' must be \"POST\", got {_short(line.method)}", cid
        )
    url = line.url
    if url is msgspec.UNSET:
        return None, LineProblem(number, "missing_url", "'url' is missing", cid)
    if not isinstance(url, str) or url not in endpoints:
        return None, LineProblem(
            number,
            "unsupported_url",
            f"'url' {_short(url)} is not supported; use one of {', '.join(sorted(endpoints))}",
            cid,
        )
    body = line.body
    if body is msgspec.UNSET:
        return None, LineProblem(number, "missing_body", "'body' is missing", cid)
    if not bytes(body).lstrip().startswith(b"{"):
        return None, LineProblem(number, "invalid_body", "'body' must be a JSON object", cid)
    if b'"stream"' in bytes(body):
        decoded = msgspec.json.decode(body)
        if isinstance(decoded, dict) and decoded.get("stream") is True:
            return None, LineProblem(
                number,
                "stream_not_supported",
                "'body.stream' is true; batch requests cannot stream",
                cid,
            )
    return line, None


def _iter_lines(path: str) -> Iterator[tuple[int, bytes]]:
    """``(line number, line)`` for every non-blank line (a generator; closes the file)."""
    with open(path, "rb") as f:
        for number, raw in enumerate(f, start=1):
            if raw.strip():
                yield number, raw


def _normalize_endpoints(endpoints: Iterable[str] | None) -> frozenset[str]:
    if endpoints is None:
        return frozenset(BATCH_ENDPOINTS)
    result = frozenset(endpoints)
    if not result or not all(isinstance(e, str) and e.startswith("/") for e in result):
        raise ValueError(f"endpoints must be paths like '/v1/chat/completions', got {endpoints!r}")
    return result


_STEP: Final = 10_000
"""Lines a file pass handles between two yields (see :func:`_drive`)."""

_Steps = Generator[None, None, T]
"""A file pass written as a generator that yields every :data:`_STEP` lines, so the
same code runs synchronously (:func:`_drive`) or with a trio checkpoint at each yield
(:func:`_adrive`) and a long pass does not starve the other tasks."""


def _drive(steps: _Steps[T]) -> T:
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            result: T = stop.value
            return result


async def _adrive(steps: _Steps[T]) -> T:
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            result: T = stop.value
            return result
        await trio.lowlevel.checkpoint()


def validate_jsonl(
    path: str | os.PathLike[str],
    *,
    endpoints: Iterable[str] | None = None,
    max_problems: int = _DEFAULT_MAX_PROBLEMS,
) -> InputSummary:
    """Check a batch input file without sending anything.

    Reads the file twice at most (the second time only to number duplicates); memory
    holds the set of ``custom_id`` s, not the lines.

    Args:
        path: the JSONL file.
        endpoints: the ``url`` s allowed (default :data:`BATCH_ENDPOINTS`).
        max_problems: stop collecting problems after this many.

    Returns:
        An :class:`InputSummary` (line count, requests per endpoint, size).

    Raises:
        InputValidationError: a line is not valid (every problem, by line number).
        OSError: the file cannot be read.
    """
    return _drive(_validate(os.fspath(path), _normalize_endpoints(endpoints), max_problems))


def _validate(name: str, allowed: frozenset[str], max_problems: int) -> _Steps[InputSummary]:
    problems: list[LineProblem] = []
    truncated = False
    seen: set[str] = set()
    repeated: set[str] = set()
    counts: dict[str, int] = {}
    requests = 0
    for number, raw in _iter_lines(name):
        if number % _STEP == 0:
            yield
        line, problem = _check_line(raw, number, allowed)
        if problem is not None:
            if len(problems) < max_problems:
                problems.append(problem)
            else:
                truncated = True
            cid = problem.custom_id
        else:
            assert line is not None
            cid = line.custom_id
            requests += 1
            url: str = line.url
            counts[url] = counts.get(url, 0) + 1
        if cid is not None:
            if cid in seen:
                repeated.add(cid)
            else:
                seen.add(cid)
    del seen
    if repeated:
        problems.extend((yield from _number_duplicates(name, repeated)))
        problems.sort(key=lambda p: p.line)
        if len(problems) > max_problems:
            del problems[max_problems:]
            truncated = True
    if not problems and requests == 0:
        problems.append(LineProblem(0, "empty_file", "the file has no request lines"))
    if problems:
        raise InputValidationError(name, problems, truncated)
    return InputSummary(name, requests, counts, os.path.getsize(name))


def _number_duplicates(path: str, repeated: set[str]) -> _Steps[list[LineProblem]]:
    """Second pass: a problem for every line repeating an earlier line's id."""
    first: dict[str, int] = {}
    problems: list[LineProblem] = []
    for number, raw in _iter_lines(path):
        if number % _STEP == 0:
            yield
        try:
            cid = _decode_input(raw).custom_id
        except (msgspec.DecodeError, msgspec.ValidationError):
            continue
        if not isinstance(cid, str) or cid not in repeated:
            continue
        if cid in first:
            problems.append(
                LineProblem(
                    number,
                    "duplicate_custom_id",
                    f"'custom_id' {_short(cid)} was already used on line {first[cid]}; "
                    "custom_ids must be unique",
                    cid,
                )
            )
        else:
            first[cid] = number
    return problems


# --------------------------------------------------------------------------- OUTPUT


@dataclass
class _Recovered:
    done: set[str] = field(default_factory=set)
    lines: int = 0
    failed: int = 0
    truncated_bytes: int = 0
    dropped_failed: int = 0
    replaced: bool = False


def _is_failure(line: _SeenLine) -> bool:
    if line.error is not None:
        return True
    response = line.response
    return response is None or not 200 <= response.status_code < 300


def _recover_output(path: str, *, retry_failed: bool) -> _Steps[_Recovered]:
    """Read OUTPUT (if any): cut a torn tail, collect the done ids.

    With ``retry_failed`` the failed lines are removed (the file is rewritten to a
    temporary file and renamed over OUTPUT: ``replaced``) so that their requests are
    sent again.

    Raises:
        OutputCorruptError: a line before the end does not parse.
    """
    state = _Recovered()
    if not os.path.exists(path):
        return state
    good_end = 0  # offset just past the last good line
    bad_start: int | None = None  # start of a run of bad lines not followed by a good one
    bad_number = 0
    offset = 0
    with open(path, "rb") as f:
        for number, raw in enumerate(f, start=1):
            if number % _STEP == 0:
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
                seen = _decode_seen(raw)
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
            if _is_failure(seen):
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


def _drop_failed(path: str, state: _Recovered) -> _Steps[_Recovered]:
    tmp = f"{path}.retry-failed.tmp"
    kept = _Recovered(truncated_bytes=state.truncated_bytes, replaced=True)
    with open(path, "rb") as src, open(tmp, "wb") as dst:
        for number, raw in enumerate(src, start=1):
            if number % _STEP == 0:
                yield
            if not raw.strip():
                continue
            seen = _decode_seen(raw)
            if _is_failure(seen):
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


class _OutputWriter:
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


# --------------------------------------------------------------------------- progress


@dataclass(frozen=True)
class RunProgress:
    """A snapshot of a running :func:`run_jsonl`, given to its ``progress`` callback.

    Attributes:
        total: requests in INPUT.
        skipped: requests already done in OUTPUT when the run started.
        done: requests finished by this run (written to OUTPUT).
        succeeded: of ``done``, answered 2xx.
        failed: of ``done``, written with an error status or error.
        in_flight: requests being sent (or waiting for a rate limit).
        retries: retries the client made (all reasons).
        rate_limited: 429 answers seen (each one retried or re-sent).
        tokens_in: prompt/input tokens of the 2xx answers.
        tokens_out: completion/output tokens of the 2xx answers.
        elapsed: seconds since the run pass started.
        finished: whether this is the final snapshot.
    """

    total: int
    skipped: int
    done: int
    succeeded: int
    failed: int
    in_flight: int
    retries: int
    rate_limited: int
    tokens_in: int
    tokens_out: int
    elapsed: float
    finished: bool = False

    @property
    def remaining(self) -> int:
        """Requests not yet done."""
        return max(0, self.total - self.skipped - self.done)

    @property
    def rate(self) -> float:
        """Requests finished per second so far in this run."""
        return self.done / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta(self) -> float | None:
        """Seconds until the end at the current rate, or ``None`` if unknown."""
        rate = self.rate
        return self.remaining / rate if rate > 0 else None


ProgressCallback = Callable[[RunProgress], None]


@dataclass(frozen=True)
class RunSummary:
    """The result of :func:`run_jsonl`.

    Attributes:
        input_path, output_path: the files.
        total: requests in INPUT.
        skipped: requests already done in OUTPUT when the run started (not sent).
        succeeded: requests answered 2xx in this run.
        failed: requests written with an error status or error in this run.
        failed_before: failed lines already in OUTPUT from earlier runs.
        statuses: final HTTP statuses of this run's requests (``0``: no answer).
        errors: ``error.code`` counts of this run's lines without an answer.
        retries: retries the client made.
        rate_limited: 429 answers seen (retried or re-sent, not failures).
        requeued: times a line was sent again after a 429 or an open circuit.
        tokens_in, tokens_out: tokens of the 2xx answers.
        elapsed: seconds of the run pass.
        truncated_bytes: bytes of a torn tail cut from OUTPUT before appending.
        dropped_failed: failed lines removed from OUTPUT by ``retry_failed``.
        foreign: OUTPUT lines whose ``custom_id`` is not in INPUT.
    """

    input_path: str
    output_path: str
    total: int
    skipped: int
    succeeded: int
    failed: int
    failed_before: int
    statuses: dict[int, int]
    errors: dict[str, int]
    retries: int
    rate_limited: int
    requeued: int
    tokens_in: int
    tokens_out: int
    elapsed: float
    truncated_bytes: int = 0
    dropped_failed: int = 0
    foreign: int = 0

    @property
    def sent(self) -> int:
        """Requests finished by this run."""
        return self.succeeded + self.failed

    @property
    def ok(self) -> bool:
        """True when every request of INPUT is in OUTPUT with a 2xx answer."""
        return self.failed == 0 and self.failed_before == 0

    @property
    def rate(self) -> float:
        """Requests per second of this run."""
        return self.sent / self.elapsed if self.elapsed > 0 else 0.0

    def __str__(self) -> str:
        parts = [
            f"{self.total} requests in {self.input_path}: {self.skipped} already done, "
            f"{self.sent} sent in {self.elapsed:.1f} s ({self.rate:.1f}/s)",
            f"  succeeded {self.succeeded}, failed {self.failed}"
            + (f" (+{self.failed_before} failed in earlier runs)" if self.failed_before else ""),
        ]
        bad = {k: v for k, v in sorted(self.statuses.items()) if not 200 <= k < 300}
        if bad:
            parts.append("  failed statuses: " + ", ".join(f"{k}: {v}" for k, v in bad.items()))
        if self.errors:
            parts.append(
                "  errors: " + ", ".join(f"{k}: {v}" for k, v in sorted(self.errors.items()))
            )
        parts.append(
            f"  retries {self.retries}, 429s {self.rate_limited}, re-sent {self.requeued}, "
            f"tokens {self.tokens_in} in / {self.tokens_out} out"
        )
        if self.truncated_bytes:
            parts.append(f"  cut a torn tail of {self.truncated_bytes} bytes from OUTPUT")
        if self.dropped_failed:
            parts.append(f"  removed {self.dropped_failed} failed lines from OUTPUT to retry them")
        if self.foreign:
            parts.append(f"  warning: {self.foreign} OUTPUT lines have a custom_id not in INPUT")
        parts.append(f"  output: {self.output_path}")
        return "\n".join(parts)


class RichProgress:
    """A ``rich`` progress bar for :func:`run_jsonl` (done, failed, rate, tokens, ETA).

    Drawn on stderr and refreshed by the runner's ticker (no refresh thread).

    Raises:
        ImportError: ``rich`` is not installed (with what to install).
    """

    def __init__(self, description: str = "requests", *, console: Any = None) -> None:
        try:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
        except ImportError:
            raise ImportError(
                "the progress bar needs the 'rich' package: pip install rich "
                "(or run without progress / with --quiet)"
            ) from None
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("[red]{task.fields[failed]} failed"),
            TextColumn("{task.fields[rate]}"),
            TextColumn("{task.fields[tokens]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console if console is not None else Console(stderr=True),
            auto_refresh=False,
        )
        self._task = self._progress.add_task(
            description, total=None, failed=0, rate="", tokens="", start=False
        )
        self._started = False

    def __call__(self, snap: RunProgress) -> None:
        progress = self._progress
        if not self._started:
            self._started = True
            progress.start()
            progress.update(self._task, total=snap.total, completed=snap.skipped)
            progress.start_task(self._task)
        tokens = snap.tokens_in + snap.tokens_out
        progress.update(
            self._task,
            completed=snap.skipped + snap.done,
            failed=snap.failed,
            rate=f"{snap.rate:,.1f} req/s",
            tokens=f"{tokens:,} tok"
            + (f", {snap.rate_limited} x 429" if snap.rate_limited else ""),
        )
        progress.refresh()
        if snap.finished:
            progress.stop()

    def close(self) -> None:
        """Stop drawing (idempotent)."""
        if self._started:
            self._progress.stop()


# --------------------------------------------------------------------------- pacing


class _Mirror:
    """The runner's copy of one server bucket (requests or tokens), sans-IO.

    The server reports ``limit``, ``remaining`` and ``reset`` (the time until its
    bucket is full again), so it refills at ``(limit - remaining) / reset`` per
    second. The mirror refills at that rate (the estimate from the largest deficit
    seen, the most precise one, less :data:`_RATE_MARGIN`), is charged for every
    request sent, and is lowered (never raised) to what the server reports, less
    what was charged after the reporting request was sent (those requests are in
    flight: the figure does not count them yet). Lowering only, because other
    clients may share the quota and the server may charge more than we estimate.
    """

    __slots__ = ("_best_deficit", "_updated", "charged", "level", "limit", "rate")

    def __init__(self) -> None:
        self.limit = 0.0
        self.level: float | None = None
        self.rate: float | None = None
        self.charged = 0.0  # everything ever taken; tickets are readings of it
        self._best_deficit = 0.0
        self._updated = 0.0

    def _refill(self, now: float) -> None:
        if self.level is not None and self.rate is not None and now > self._updated:
            self.level = min(self.limit, self.level + (now - self._updated) * self.rate)
        self._updated = max(self._updated, now)

    def observe(
        self,
        limit: int | None,
        remaining: int | None,
        reset: float | None,
        now: float,
        ticket: float,
    ) -> None:
        """Apply one answer's figures; ``ticket`` is :attr:`charged` right after the
        answered request was charged."""
        if limit is None or remaining is None or limit <= 0:
            return
        self._refill(now)
        self.limit = float(limit)
        deficit = float(limit - remaining)
        if reset is not None and reset > 0 and deficit > 0 and deficit >= self._best_deficit:
            self._best_deficit = deficit
            self.rate = deficit / reset * _RATE_MARGIN
        known = remaining - max(0.0, self.charged - ticket)
        self.level = known if self.level is None else min(self.level, known)

    def wait(self, amount: float, now: float) -> float:
        self._refill(now)
        if self.level is None or amount <= 0:
            return 0.0
        need = min(amount, self.limit)  # a request larger than the bucket goes when full
        if self.level >= need:
            return 0.0
        if self.rate is None:
            return 0.0  # no refill rate known yet: the client's limiter decides
        return (need - self.level) / self.rate

    def take(self, amount: float, now: float) -> None:
        self._refill(now)
        self.charged += amount
        if self.level is not None:
            self.level -= amount


_RATE_MARGIN: Final = 0.98
"""Pace at 98 % of the estimated refill rate: the reset times are rounded to ms."""
_MIN_PACE_SLEEP: Final = 0.001


class _Pacer:
    """Proactive throttling from the server's ``x-ratelimit-*`` headers.

    The first request goes alone; its answer tells the limits before the others go
    (a job starting with ``concurrency`` requests at once could overrun a small
    bucket). From then on requests wait, in arrival order, until both mirrors
    (:class:`_Mirror`) can pay for them. Waits are cancellable trio sleeps.
    """

    __slots__ = ("_gate", "_lock", "_probe_sent", "requests", "tokens", "waits")

    def __init__(self) -> None:
        self.requests = _Mirror()
        self.tokens = _Mirror()
        self._gate = trio.Event()
        self._probe_sent = False
        self._lock = trio.Lock()
        self.waits = 0

    @property
    def wants_tokens(self) -> bool:
        return self.tokens.level is not None

    async def wait_for_limits(self) -> bool:
        """Return ``True`` for the probe (the first request), which goes at once; the
        others wait here until its answer is in."""
        if self._gate.is_set():
            return False
        if not self._probe_sent:
            self._probe_sent = True
            return True
        await self._gate.wait()
        return False

    async def acquire(self, tokens: float) -> tuple[float, float]:
        """Wait for the turn of a request of ``tokens``; return its ticket.

        No checkpoint while the server has reported no limits (the send that follows
        is one); otherwise a FIFO wait under the lock.
        """
        if self.requests.level is None and self.tokens.level is None:
            return self.requests.charged, self.tokens.charged
        async with self._lock:
            while True:
                now = trio.current_time()
                wait = max(self.requests.wait(1, now), self.tokens.wait(tokens, now))
                if wait <= 0:
                    self.requests.take(1, now)
                    self.tokens.take(tokens, now)
                    return self.requests.charged, self.tokens.charged
                self.waits += 1
                await trio.sleep(max(wait, _MIN_PACE_SLEEP))

    def observe(self, headers: Mapping[str, str], ticket: tuple[float, float]) -> None:
        self._gate.set()
        # Most answers of an unlimited server carry no limits: look before parsing.
        if headers.get("x-ratelimit-limit-requests") is None and (
            headers.get("x-ratelimit-limit-tokens") is None
        ):
            return
        server = parse_ratelimit_headers(headers)
        now = trio.current_time()
        if server is not None:
            self.requests.observe(
                server.limit_requests,
                server.remaining_requests,
                server.reset_requests,
                now,
                ticket[0],
            )
            self.tokens.observe(
                server.limit_tokens, server.remaining_tokens, server.reset_tokens, now, ticket[1]
            )

    def open_gate(self) -> None:
        self._gate.set()


# --------------------------------------------------------------------------- sending


@dataclass(slots=True)
class _Pending:
    custom_id: str
    path: str
    url: str
    body: bytes


@dataclass(slots=True)
class _Result:
    line: bytes
    ok: bool
    status: int  # 0: no HTTP answer
    error_code: str | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    requeued: int = 0
    rate_limited: int = 0  # 429s that ended a `_send` (re-sent, or final)


def _error_body(exc: APIStatusError) -> object:
    """The error body as the server sent it, as closely as the exception keeps it.

    ``APIStatusError.body`` is the *inner* object of ``{"error": {...}}``; an object
    with the error fields is put back inside ``{"error": ...}``.
    """
    body = exc.body
    if (
        isinstance(body, dict)
        and "error" not in body
        and any(k in body for k in ("message", "type", "code", "param"))
    ):
        return {"error": body}
    return body


def _answer_line(pending: _Pending, status: int, request_id: str | None, body: bytes) -> bytes:
    out = _OutLine(
        id=output_id(pending.custom_id),
        custom_id=pending.custom_id,
        response=_OutResponse(status, request_id or "", msgspec.Raw(body)),
        error=None,
    )
    return _encode(out) + b"\n"


def _error_line(pending: _Pending, code: str, message: str) -> bytes:
    out = _OutLine(
        id=output_id(pending.custom_id),
        custom_id=pending.custom_id,
        response=None,
        error=_OutError(code, message),
    )
    return _encode(out) + b"\n"


class _Sender:
    """Sends one pending line; never raises an ``Exception`` (every outcome is a line)."""

    __slots__ = ("_client", "_max_retries", "_pacer")

    def __init__(self, client: Client, max_retries: int | None, pacer: _Pacer | None) -> None:
        self._client = client
        self._max_retries = max_retries
        self._pacer = pacer

    async def __call__(self, pending: _Pending) -> _Result:
        client = self._client
        pacer = self._pacer
        requeued = limited = 0
        probe = pacer is not None and await pacer.wait_for_limits()
        estimated = 0
        if client._wants_token_estimate() or (pacer is not None and pacer.wants_tokens):
            body = msgspec.json.decode(pending.body)
            if isinstance(body, dict):
                estimated = estimate_tokens(body, endpoint=pending.url)
        while True:
            try:
                ticket = (0.0, 0.0)
                if pacer is not None and not probe:
                    ticket = await pacer.acquire(estimated)
                probe = False
                try:
                    exchange = await client._exchange(
                        "POST",
                        pending.path,
                        json=pending.body,
                        max_retries=self._max_retries,
                        estimated_tokens=estimated,
                    )
                except APIError as exc:
                    if pacer is not None:
                        pacer.observe(exc.headers, ticket)
                    raise
                finally:
                    if pacer is not None:
                        pacer.open_gate()  # whatever became of the probe, the others may go
            except RateLimitError as exc:
                limited += 1
                if exc.is_insufficient_quota or requeued >= MAX_REQUEUES:
                    return self._status_result(pending, exc, requeued, limited)
                requeued += 1
                # The client's limiter and the pacer already hold every sender back
                # after a 429; this wait covers a client with neither.
                if pacer is None and not client._limits_requests:
                    await trio.sleep(exc.retry_after if exc.retry_after is not None else 1.0)
                continue
            except CircuitOpenError as exc:
                if requeued >= MAX_REQUEUES:
                    return self._error(pending, "circuit_open", str(exc), requeued, limited)
                requeued += 1
                await trio.sleep(max(exc.retry_in, 0.05))
                continue
            except APIStatusError as exc:
                return self._status_result(pending, exc, requeued, limited)
            except APITimeoutError as exc:
                return self._error(pending, "timeout", str(exc), requeued, limited)
            except APIConnectionError as exc:
                return self._error(pending, "connection_error", str(exc), requeued, limited)
            except ValidationError as exc:
                return self._error(pending, "invalid_request", str(exc), requeued, limited)
            except Exception as exc:  # a bug or an unexpected failure: one failed line
                message = f"{type(exc).__name__}: {exc}"
                return self._error(pending, "internal_error", message, requeued, limited)
            if pacer is not None:
                pacer.observe(exchange.response.headers, ticket)
            with exchange:
                return self._success(pending, exchange, requeued, limited)

    @staticmethod
    def _error(pending: _Pending, code: str, message: str, requeued: int, limited: int) -> _Result:
        line = _error_line(pending, code, message)
        return _Result(line, False, 0, code, requeued=requeued, rate_limited=limited)

    @staticmethod
    def _status_result(
        pending: _Pending, exc: APIStatusError, requeued: int, limited: int
    ) -> _Result:
        body = _encode(_error_body(exc))
        line = _answer_line(pending, exc.status_code, exc.request_id, body)
        return _Result(line, False, exc.status_code, requeued=requeued, rate_limited=limited)

    def _success(
        self, pending: _Pending, exchange: Exchange, requeued: int, limited: int
    ) -> _Result:
        response = exchange.response
        status = response.status
        content = response.content
        request_id = response.headers.get("x-request-id")
        usage: _Usage | None = None
        try:
            try:
                usage = _decode_reply(content).usage
            except msgspec.ValidationError:
                # Another shape (not an object, an odd ``usage``): kept as it is if it
                # is JSON at all (a type error stops msgspec before the end).
                _check_json(content)
        except msgspec.DecodeError as exc:
            exchange.settle(error="APIResponseValidationError")
            message = f"status {status}, request id {request_id}: the body is not JSON ({exc})"
            return self._error(pending, "invalid_response_body", message, requeued, limited)
        tokens_in = tokens_out = 0
        if usage is not None:
            tokens_in = usage.prompt_tokens or usage.input_tokens or 0
            tokens_out = usage.completion_tokens or usage.output_tokens or 0
        exchange.settle(tokens_in, tokens_out)
        line = _answer_line(pending, status, request_id, content)
        ok = 200 <= status < 300
        return _Result(line, ok, status, None, tokens_in, tokens_out, requeued, limited)


def _api_path(url: str) -> str:
    """``/v1/chat/completions`` -> ``/chat/completions`` (joined to the base URL)."""
    return url[3:] if url.startswith("/v1/") else url


def _pending_lines(path: str, done: set[str], found: list[int]) -> Generator[_Pending, None, None]:
    """The run pass: INPUT's lines whose ``custom_id`` is not done (lazily)."""
    for _number, raw in _iter_lines(path):
        line = _decode_input(raw)
        cid = line.custom_id
        if not isinstance(cid, str) or not isinstance(line.url, str):
            raise ValueError(f"{path} changed during the run (line {_number})")
        if cid in done:
            found[0] += 1
            continue
        body = line.body
        if not isinstance(body, msgspec.Raw):
            raise ValueError(f"{path} changed during the run (line {_number})")
        yield _Pending(cid, _api_path(line.url), line.url, bytes(body))


# --------------------------------------------------------------------------- the run


class _Counters:
    __slots__ = (
        "done",
        "errors",
        "failed",
        "rate_limited",
        "requeued",
        "retries",
        "statuses",
        "succeeded",
        "tokens_in",
        "tokens_out",
    )

    def __init__(self) -> None:
        self.done = 0
        self.succeeded = 0
        self.failed = 0
        self.retries = 0
        self.rate_limited = 0
        self.requeued = 0
        self.tokens_in = 0
        self.tokens_out = 0
        self.statuses: dict[int, int] = {}
        self.errors: dict[str, int] = {}

    def on_retry(self, event: RetryEvent) -> None:
        self.retries += 1
        if event.status == 429:
            self.rate_limited += 1

    def add(self, result: _Result) -> None:
        self.done += 1
        self.statuses[result.status] = self.statuses.get(result.status, 0) + 1
        if result.ok:
            self.succeeded += 1
        else:
            self.failed += 1
        if result.error_code is not None:
            self.errors[result.error_code] = self.errors.get(result.error_code, 0) + 1
        self.rate_limited += result.rate_limited
        self.requeued += result.requeued
        self.tokens_in += result.tokens_in
        self.tokens_out += result.tokens_out


def _check_distinct(in_name: str, out_name: str) -> None:
    if os.path.exists(out_name) and os.path.samefile(in_name, out_name):
        raise ValueError("the output file must not be the input file")


def _progress_callback(
    progress: ProgressCallback | bool | None, name: str
) -> tuple[ProgressCallback | None, RichProgress | None]:
    if progress is True:
        bar = RichProgress(os.path.basename(name))
        return bar, bar
    if progress is False or progress is None:
        return None, None
    if callable(progress):
        return progress, None
    raise TypeError(f"progress must be a bool, None or a callable, got {progress!r}")


async def run_jsonl(
    client: Client,
    input_path: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    *,
    concurrency: int = 64,
    max_retries: int | None = None,
    progress: ProgressCallback | bool | None = None,
    retry_failed: bool = False,
    fsync_interval: float = 1.0,
    endpoints: Iterable[str] | None = None,
    adaptive: bool = True,
) -> RunSummary:
    """Send every request of a Batch API input file and write the Batch API output.

    Resumable: requests whose ``custom_id`` is already in OUTPUT are skipped, so run
    it again after a crash, a kill or Ctrl-C to finish the job (see the module
    docstring for what is written and when).

    Args:
        client: an open :class:`Client` (its retries, breaker and rate limits apply;
            give it ``limits=PoolLimits(max_connections=...)`` >= ``concurrency``).
        input_path: the JSONL input (``custom_id``, ``method``, ``url``, ``body``).
        output_path: the JSONL output; created or appended to.
        concurrency: requests in flight at once.
        max_retries: per-request retries (default: the client's).
        progress: ``True`` for a ``rich`` progress bar on stderr, or a callable given
            a :class:`RunProgress` about five times a second and once at the end.
        retry_failed: first remove OUTPUT's failed lines, so their requests are sent
            again.
        fsync_interval: most seconds between ``fsync`` s of OUTPUT.
        endpoints: the ``url`` s accepted (default :data:`BATCH_ENDPOINTS`).
        adaptive: pace requests by the server's ``x-ratelimit-*`` headers (learn the
            limit and refill rate from the first answer, then spend no faster); on
            top of the client's own limiter.

    Returns:
        A :class:`RunSummary` (``summary.ok`` is False if any line failed).

    Raises:
        InputValidationError: INPUT has invalid lines; nothing was sent.
        OutputCorruptError: OUTPUT has a line that is not an output line (not at its
            end); nothing was sent.
        RuntimeError: another runner holds OUTPUT's lock; the client is not open.
        OSError: a file cannot be read or written.
        ValueError, TypeError: bad arguments; INPUT and OUTPUT are the same file.
        trio.Cancelled: cancelled; OUTPUT holds every line finished before.
    """
    from .jobs import _check_limit

    concurrency = _check_limit("concurrency", concurrency)
    if (
        isinstance(fsync_interval, bool)
        or not isinstance(fsync_interval, (int, float))
        or not fsync_interval >= 0
    ):
        raise ValueError(f"fsync_interval must be a number >= 0, got {fsync_interval!r}")
    in_name = os.fspath(input_path)
    out_name = os.fspath(output_path)
    _check_distinct(in_name, out_name)
    client._check_open()
    show, rich_bar = _progress_callback(progress, in_name)

    summary_in = await _adrive(_validate(in_name, _normalize_endpoints(endpoints), 1000))
    writer = _OutputWriter(out_name, float(fsync_interval))  # locks OUTPUT first
    try:
        recovered = await _adrive(_recover_output(out_name, retry_failed=retry_failed))
        if recovered.replaced:
            writer.reopen()
        return await _run(
            client,
            in_name,
            out_name,
            summary_in.requests,
            recovered,
            writer,
            _Sender(client, max_retries, _Pacer() if adaptive else None),
            concurrency,
            show,
        )
    finally:
        writer.close()
        if rich_bar is not None:
            rich_bar.close()


async def _run(
    client: Client,
    in_name: str,
    out_name: str,
    total: int,
    recovered: _Recovered,
    writer: _OutputWriter,
    sender: _Sender,
    concurrency: int,
    show: ProgressCallback | None,
) -> RunSummary:
    from .jobs import Results, _collapse, as_completed

    counters = _Counters()
    found = [0]
    done_ids = recovered.done
    skipped_guess = min(len(done_ids), total)
    started = trio.current_time()
    live: list[Results[_Result]] = []

    def snapshot(finished: bool = False) -> RunProgress:
        running = live[0].statistics().running if live else 0
        return RunProgress(
            total=total,
            skipped=skipped_guess,
            done=counters.done,
            succeeded=counters.succeeded,
            failed=counters.failed,
            in_flight=running,
            retries=counters.retries,
            rate_limited=counters.rate_limited,
            tokens_in=counters.tokens_in,
            tokens_out=counters.tokens_out,
            elapsed=trio.current_time() - started,
            finished=finished,
        )

    async def ticker() -> None:
        assert show is not None
        while True:
            show(snapshot())
            await trio.sleep(_PROGRESS_INTERVAL)

    client.add_hook("retry", counters.on_retry)
    raised: BaseException | None = None
    try:
        with contextlib.closing(_pending_lines(in_name, done_ids, found)) as items:
            try:
                async with trio.open_nursery() as nursery:
                    if show is not None:
                        nursery.start_soon(ticker)
                    async with as_completed(
                        sender, items, limit=concurrency, buffer=_RESULT_BUFFER
                    ) as results:
                        live.append(results)
                        async for _index, outcome in results:
                            result: _Result = outcome.unwrap()  # the sender never raises
                            writer.write(result.line)
                            counters.add(result)
                    nursery.cancel_scope.cancel()
            except BaseExceptionGroup as group:
                raised = _collapse(group, None)
            if raised is not None:
                raise raised
        writer.sync()
    finally:
        client.remove_hook("retry", counters.on_retry)
    if show is not None:
        show(snapshot(finished=True))
    return RunSummary(
        input_path=in_name,
        output_path=out_name,
        total=total,
        skipped=found[0],
        succeeded=counters.succeeded,
        failed=counters.failed,
        failed_before=recovered.failed,
        statuses=dict(counters.statuses),
        errors=dict(counters.errors),
        retries=counters.retries,
        rate_limited=counters.rate_limited,
        requeued=counters.requeued,
        tokens_in=counters.tokens_in,
        tokens_out=counters.tokens_out,
        elapsed=trio.current_time() - started,
        truncated_bytes=recovered.truncated_bytes,
        dropped_failed=recovered.dropped_failed,
        foreign=len(done_ids) - found[0],
    )
