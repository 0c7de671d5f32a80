"""The resumable JSONL runner: a Batch API input file run through the client locally.

Theory of operation
-------------------
``run_jsonl(client, INPUT, OUTPUT)`` reads INPUT in the Batch API's input format and
appends one line per request to OUTPUT in its output format (:mod:`._formats`), so a
file moves between this runner and the Batch API unchanged. Three passes over INPUT,
none of which holds it in memory:

1. **Validate** (:mod:`._validation`): every line is parsed and checked; any problem
   raises :class:`~._validation.InputValidationError` listing them by line number,
   and nothing is sent.
2. **Recover OUTPUT** (:mod:`._output`): a torn tail is cut, the ``custom_id`` s
   already there are *done* and skipped (``retry_failed=True`` first removes the
   failed lines, so those are sent again).
3. **Run** (this module): the lines not done go through
   :func:`~._concurrency.as_completed` at ``concurrency``, each sent by the
   :class:`~._sender.Sender` (paced by a :class:`~._pacing.Pacer` when
   ``adaptive``); each result is written as one whole line as soon as it is known,
   and OUTPUT is ``fsync`` ed at least every ``fsync_interval`` seconds and at the
   end. A crash or ``SIGKILL`` at any moment loses only the requests in flight
   (their lines were never written: at most ``concurrency`` being sent plus
   :data:`_RESULT_BUFFER` answered and waiting to be written), which the next run
   sends again.

Progress (:mod:`._progress`) is reported from a ticker task; the client's ``retry``
hook counts retries for it and is removed when the run ends.

Options rejected: keeping the ids of INPUT in memory during the run (the run pass
re-reads INPUT); writing lines in input order (a slow request would hold back every
later line, and the Batch API does not keep order either: join by ``custom_id``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Generator, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import msgspec
import trio

from .._compat import BaseExceptionGroup
from ._concurrency import Results, as_completed, check_limit, collapse
from ._formats import decode_input
from ._output import OutputWriter, Recovered, recover_output
from ._pacing import Pacer
from ._passes import adrive, iter_lines
from ._progress import ProgressCallback, RichProgress, RunProgress, resolve_progress
from ._sender import Pending, Result, Sender, api_path
from ._validation import DEFAULT_MAX_PROBLEMS, normalize_endpoints, validate

if TYPE_CHECKING:
    from .._client import Client
    from .._observe import RetryEvent

__all__ = ["RunSummary", "run_jsonl"]

_RESULT_BUFFER: Final = 8
"""Finished results waiting to be written. With the ``concurrency`` calls in flight,
these are the answered requests a crash can lose (and the next run sends again), so
the loss is at most ``concurrency + 8`` requests. A buffer of one costs ~20 % of the
throughput (a worker parks on nearly every result); eight keeps most of it."""
_PROGRESS_INTERVAL: Final = 0.2
"""Seconds between two progress snapshots."""


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
        joined: records of an earlier version found spread over several lines of
            OUTPUT (kept, and put on one line each).
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
    joined: int = 0

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
        if self.joined:
            parts.append(f"  put {self.joined} records spread over several lines on one line each")
        if self.foreign:
            parts.append(f"  warning: {self.foreign} OUTPUT lines have a custom_id not in INPUT")
        parts.append(f"  output: {self.output_path}")
        return "\n".join(parts)


def _pending_lines(path: str, done: set[str], found: list[int]) -> Generator[Pending, None, None]:
    """The run pass: INPUT's lines whose ``custom_id`` is not done (lazily)."""
    for _number, raw in iter_lines(path):
        line = decode_input(raw)
        cid = line.custom_id
        if not isinstance(cid, str) or not isinstance(line.url, str):
            raise ValueError(f"{path} changed during the run (line {_number})")
        if cid in done:
            found[0] += 1
            continue
        body = line.body
        if not isinstance(body, msgspec.Raw):
            raise ValueError(f"{path} changed during the run (line {_number})")
        yield Pending(cid, api_path(line.url), line.url, bytes(body))


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

    def add(self, result: Result) -> None:
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
    it again after a crash, a kill or Ctrl-C to finish the job (what is written for
    each request: :mod:`trio_openai.jobs._sender`).

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
    concurrency = check_limit("concurrency", concurrency)
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
    show, rich_bar = resolve_progress(progress, lambda: RichProgress(os.path.basename(in_name)))

    summary_in = await adrive(
        validate(in_name, normalize_endpoints(endpoints), DEFAULT_MAX_PROBLEMS)
    )
    writer = OutputWriter(out_name, float(fsync_interval))  # locks OUTPUT first
    try:
        recovered = await adrive(recover_output(out_name, retry_failed=retry_failed))
        if recovered.replaced:
            writer.reopen()
        return await _run(
            client,
            in_name,
            out_name,
            summary_in.requests,
            recovered,
            writer,
            Sender(client, max_retries, Pacer() if adaptive else None),
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
    recovered: Recovered,
    writer: OutputWriter,
    sender: Sender,
    concurrency: int,
    show: ProgressCallback | None,
) -> RunSummary:
    counters = _Counters()
    found = [0]
    done_ids = recovered.done
    skipped_guess = min(len(done_ids), total)
    started = trio.current_time()
    live: list[Results[Result]] = []

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
                            result: Result = outcome.unwrap()  # the sender never raises
                            writer.write(result.line)
                            counters.add(result)
                    nursery.cancel_scope.cancel()
            except BaseExceptionGroup as group:
                raised = collapse(group, None)
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
        joined=recovered.joined,
    )
