"""The Batch API path: the same JSONL file, run by OpenAI's Batch API.

Theory of operation
-------------------
``submit_batch(client, INPUT, OUTPUT)`` takes the input file that
:func:`trio_openai.jobs.run_jsonl` takes and produces the same OUTPUT, but lets the
Batch API do the work:

1. **Validate** INPUT exactly as the runner does (nothing is uploaded if a line is
   bad), then **recover** OUTPUT (torn tail cut, done ``custom_id`` s collected).
2. **Finish what an earlier run started**: the state file ``OUTPUT.batches.json``
   lists the batches this job created. Those not yet downloaded are polled and
   downloaded first, so a rerun never submits a line twice. An entry whose batch was
   never recorded (a crash between the upload and the create) is looked up by its
   input file id among the account's batches before anything is created again.
3. **Split and submit** the lines not yet done: one batch per endpoint, and a new
   batch whenever one would pass ``max_requests`` lines or ``max_bytes`` bytes (the
   Batch API's per-file limits, 50,000 requests and 200 MB; parameters, so tests can
   split small files). Each chunk is written to a new file (0600, created
   exclusively) in a private temporary directory, uploaded with
   purpose ``batch`` and turned into a batch; the state file is rewritten
   (atomically) after each step.
4. **Poll** every pending batch with backoff (``poll_interval``, growing 1.5x per
   round up to ``max_poll_interval``), reporting status and counts; when a batch
   ends (``completed``, ``failed``, ``expired``, ``cancelled``) its output and error
   files are **downloaded** into OUTPUT, line by line, skipping ``custom_id`` s that
   are already there. The lines are the Batch API's own, unchanged but for a raw CR
   (whitespace in JSON) made a space, as the runner does (``one_line`` in
   :mod:`._formats`); a line that does not decode is skipped.

Lines of a batch that failed validation, was cancelled or expired without a result
are *missing*: the summary counts them, and running ``submit`` again sends them in a
new batch.

Rules kept: the same OUTPUT guarantees as the runner (whole lines, ``fsync`` ed, a
lock, a torn tail cut on the next run: :mod:`._output`); state-file writes are atomic
(:mod:`._batch_state`); waiting is ``trio.sleep``, so any cancel scope stops it (the
batches keep running at OpenAI: run ``submit`` again to collect them, or ``batch
cancel``).

Options rejected: the ``/uploads`` multipart API for inputs (a batch input file is at
most 200 MB, under the 512 MB limit of a plain upload); deleting the uploaded input
files afterwards (they are the record of what was submitted, and expire in 30 days).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, Final

import msgspec
import trio

from ..errors import NotFoundError
from ._batch_state import BatchJobSummary, BatchRecord, StateFile
from ._concurrency import check_limit
from ._files import create_private
from ._formats import decode_input, decode_seen, is_failure, one_line
from ._output import OutputWriter, recover_output
from ._passes import STEP, Steps, adrive, iter_lines
from ._progress import BatchProgress, BatchProgressCallback, RichBatchProgress, resolve_progress
from ._validation import DEFAULT_MAX_PROBLEMS, normalize_endpoints, validate

if TYPE_CHECKING:
    from .._client import Client
    from ..types.batches import Batch

__all__ = [
    "DEFAULT_MAX_BATCH_BYTES",
    "DEFAULT_MAX_BATCH_REQUESTS",
    "TERMINAL_STATUSES",
    "submit_batch",
]

DEFAULT_MAX_BATCH_REQUESTS: Final = 50_000
"""Most requests in one batch input file (the Batch API's limit)."""
DEFAULT_MAX_BATCH_BYTES: Final = 200_000_000
"""Most bytes in one batch input file (the Batch API's 200 MB, read as 10^6)."""
TERMINAL_STATUSES: Final = frozenset({"completed", "failed", "expired", "cancelled"})
_SEARCH_LIMIT: Final = 2000  # recent batches searched for an unrecorded one


# --------------------------------------------------------------------------- chunks


@dataclass
class _Chunk:
    endpoint: str
    path: str
    file: IO[bytes]
    requests: int = 0
    size: int = 0


class _Chunker:
    """Splits lines into chunk files per endpoint within the per-file limits."""

    def __init__(self, directory: str, max_requests: int, max_bytes: int) -> None:
        self._dir = directory
        self._max_requests = max_requests
        self._max_bytes = max_bytes
        self._open: dict[str, _Chunk] = {}
        self._count = 0
        self.ready: list[_Chunk] = []

    def add(self, endpoint: str, raw: bytes) -> None:
        if not raw.endswith(b"\n"):
            raw += b"\n"
        chunk = self._open.get(endpoint)
        if chunk is not None and (
            chunk.requests >= self._max_requests or chunk.size + len(raw) > self._max_bytes
        ):
            self._close(chunk)
            chunk = None
        if chunk is None:
            self._count += 1
            path = os.path.join(self._dir, f"batch-input-{self._count:05d}.jsonl")
            chunk = _Chunk(endpoint, path, create_private(path))
            self._open[endpoint] = chunk
        chunk.file.write(raw)
        chunk.requests += 1
        chunk.size += len(raw)

    def _close(self, chunk: _Chunk) -> None:
        chunk.file.close()
        del self._open[chunk.endpoint]
        self.ready.append(chunk)

    def finish(self) -> list[_Chunk]:
        for chunk in list(self._open.values()):
            self._close(chunk)
        return self.ready


def _chunks_of(
    input_path: str, done: set[str], directory: str, max_requests: int, max_bytes: int
) -> Steps[list[_Chunk]]:
    """Write INPUT's lines not in ``done`` into chunk files; return the chunks."""
    chunker = _Chunker(directory, max_requests, max_bytes)
    for number, raw in iter_lines(input_path):
        if number % STEP == 0:
            yield
        line = decode_input(raw)
        if line.custom_id not in done:
            chunker.add(line.url, raw)
    return chunker.finish()


def _count_missing(input_path: str, done: set[str]) -> Steps[int]:
    missing = 0
    for number, raw in iter_lines(input_path):
        if number % STEP == 0:
            yield
        if decode_input(raw).custom_id not in done:
            missing += 1
    return missing


# --------------------------------------------------------------------------- the job


class _Counts:
    __slots__ = ("failed", "succeeded", "written")

    def __init__(self) -> None:
        self.written = 0
        self.succeeded = 0
        self.failed = 0


async def _download(
    client: Client, file_id: str, writer: OutputWriter, done: set[str], counts: _Counts
) -> None:
    """Append a result file's lines to OUTPUT, skipping ``custom_id`` s already there."""
    pending = b""

    def take(raw: bytes) -> None:
        if not raw.strip():
            return
        try:
            seen = decode_seen(raw)
        except (msgspec.DecodeError, msgspec.ValidationError):
            return  # not a result line: nothing to join it to
        if seen.custom_id in done:
            return
        writer.write(one_line(raw.rstrip(b"\r\n")) + b"\n")  # just decoded: exact
        done.add(seen.custom_id)
        counts.written += 1
        if is_failure(seen):
            counts.failed += 1
        else:
            counts.succeeded += 1

    async with await client.files.content(file_id) as response:
        async for chunk in response.iter_bytes():
            data = pending + chunk
            lines = data.split(b"\n")
            pending = lines.pop()
            for raw in lines:
                take(raw + b"\n")
    if pending:
        take(pending)
    writer.sync()


async def _find_batch(client: Client, input_file_id: str) -> Batch | None:
    """The batch created from ``input_file_id``, if it is among the recent ones."""
    seen = 0
    async for batch in client.batches.list(limit=100):
        if batch.input_file_id == input_file_id:
            return batch
        seen += 1
        if seen >= _SEARCH_LIMIT:
            break
    return None


def _update(record: BatchRecord, batch: Batch) -> None:
    record.id = batch.id
    record.status = batch.status
    counts = batch.request_counts
    if counts is not None:
        record.completed = counts.completed
        record.failed = counts.failed
        record.total = counts.total
    if batch.errors is not None and batch.errors.data:
        record.errors = [
            f"line {e.line}: {e.code}: {e.message}" if e.line else f"{e.code}: {e.message}"
            for e in batch.errors.data
        ]


async def submit_batch(
    client: Client,
    input_path: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    *,
    completion_window: str = "24h",
    metadata: Mapping[str, str] | None = None,
    max_requests: int = DEFAULT_MAX_BATCH_REQUESTS,
    max_bytes: int = DEFAULT_MAX_BATCH_BYTES,
    poll_interval: float = 5.0,
    max_poll_interval: float = 60.0,
    wait: bool = True,
    progress: BatchProgressCallback | bool | None = None,
    endpoints: Iterable[str] | None = None,
) -> BatchJobSummary:
    """Run a batch input file through the Batch API and write its results to OUTPUT.

    Resumable like :func:`trio_openai.jobs.run_jsonl`: the batches already created
    are collected (not created again) and lines already in OUTPUT are not submitted.
    See the module docstring for the steps.

    Args:
        client: an open :class:`Client`.
        input_path: the JSONL input (``custom_id``, ``method``, ``url``, ``body``).
        output_path: the JSONL output (created or appended to); the job's state is
            kept next to it in ``OUTPUT.batches.json``.
        completion_window: the batches' window (the API accepts ``"24h"``).
        metadata: added to every batch created.
        max_requests: most lines per batch (the API's limit: 50,000).
        max_bytes: most bytes per batch input file (the API's limit: 200 MB).
        poll_interval: seconds between the first polls.
        max_poll_interval: the longest pause between polls.
        wait: ``False`` returns once the batches are created (run again to collect).
        progress: ``True`` for a ``rich`` display on stderr, or a callable given a
            :class:`BatchProgress` after every poll round.
        endpoints: the ``url`` s accepted (default: every Batch API endpoint).

    Returns:
        A :class:`BatchJobSummary` (``ok`` is False if lines failed or are missing).

    Raises:
        InputValidationError: INPUT has invalid lines; nothing was uploaded.
        OutputCorruptError: OUTPUT has a line that is not an output line.
        APIError: uploading, creating, polling or downloading failed (after the
            client's retries); what was done is in the state file, so run it again.
        ValueError: bad arguments, or a state file that is not ours.
        trio.Cancelled: cancelled; the batches keep running (run again to collect).
    """
    max_requests = check_limit("max_requests", max_requests)
    max_bytes = check_limit("max_bytes", max_bytes)
    for name, value in (("poll_interval", poll_interval), ("max_poll_interval", max_poll_interval)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"{name} must be a number > 0, got {value!r}")
    in_name = os.fspath(input_path)
    out_name = os.fspath(output_path)
    client._check_open()
    show, display = resolve_progress(progress, RichBatchProgress)

    started = trio.current_time()
    allowed = normalize_endpoints(endpoints)
    summary_in = await adrive(validate(in_name, allowed, DEFAULT_MAX_PROBLEMS))
    writer = OutputWriter(out_name, 1.0)
    try:
        recovered = await adrive(recover_output(out_name, retry_failed=False))
        if recovered.replaced:  # records of an earlier version put on one line each
            writer.reopen()
        done = recovered.done
        skipped = len(done)
        state = StateFile.load(out_name + ".batches.json", in_name)
        counts = _Counts()

        def report(phase: str) -> None:
            if show is not None:
                copies = tuple(
                    BatchRecord(**{**b.__dict__, "errors": list(b.errors)}) for b in state.batches
                )
                show(BatchProgress(copies, phase, trio.current_time() - started))

        job = _Job(client, state, writer, done, counts, report)
        await job.resume_unrecorded(completion_window, metadata)
        if wait:
            await job.collect(poll_interval, max_poll_interval)
        if not job.has_pending():
            # Only now may lines go into new batches: a pending batch holds lines
            # that are not in OUTPUT yet, and nothing says which.
            await job.submit_remaining(
                in_name, max_requests, max_bytes, completion_window, metadata
            )
            if wait:
                await job.collect(poll_interval, max_poll_interval)
        missing = await adrive(_count_missing(in_name, done))
        report("done")
    finally:
        writer.close()
        if display is not None:
            display.close()
    return BatchJobSummary(
        input_path=in_name,
        output_path=out_name,
        total=summary_in.requests,
        skipped=skipped,
        batches=tuple(state.batches),
        written=counts.written,
        succeeded=counts.succeeded,
        failed=counts.failed,
        missing=missing,
        elapsed=trio.current_time() - started,
    )


class _Job:
    """The steps of :func:`submit_batch` over one state file."""

    def __init__(
        self,
        client: Client,
        state: StateFile,
        writer: OutputWriter,
        done: set[str],
        counts: _Counts,
        report: Callable[[str], None],
    ) -> None:
        self.client = client
        self.state = state
        self.writer = writer
        self.done = done
        self.counts = counts
        self.report = report

    def has_pending(self) -> bool:
        return any(not b.downloaded for b in self.state.batches)

    async def resume_unrecorded(
        self, completion_window: str, metadata: Mapping[str, str] | None
    ) -> None:
        """Entries with an uploaded file but no batch id (a crash between the upload and
        the create, or between the create and the state write): adopt the batch made
        from that file if there is one, else create it now."""
        for record in self.state.batches:
            if record.id is None and not record.downloaded:
                batch = await _find_batch(self.client, record.input_file_id)
                if batch is not None:
                    _update(record, batch)
                    self.state.save()
                else:
                    await self.create(record, completion_window, metadata)

    async def create(
        self, record: BatchRecord, completion_window: str, metadata: Mapping[str, str] | None
    ) -> None:
        params: dict[str, Any] = {
            "input_file_id": record.input_file_id,
            "endpoint": record.endpoint,
            "completion_window": completion_window,
        }
        if metadata is not None:
            params["metadata"] = dict(metadata)
        batch = await self.client.batches.create(**params)
        _update(record, batch)
        self.state.save()

    async def submit_remaining(
        self,
        input_path: str,
        max_requests: int,
        max_bytes: int,
        completion_window: str,
        metadata: Mapping[str, str] | None,
    ) -> None:
        directory = tempfile.mkdtemp(prefix="trio-openai-batch-")
        try:
            chunks: list[_Chunk] = await adrive(
                _chunks_of(input_path, self.done, directory, max_requests, max_bytes)
            )
            for chunk in chunks:
                uploaded = await self.client.files.create(file=chunk.path, purpose="batch")
                record = BatchRecord(uploaded.id, chunk.endpoint, chunk.requests)
                self.state.batches.append(record)
                self.state.save()
                self.report("uploading")
                await self.create(record, completion_window, metadata)
                self.report("uploading")
        finally:
            shutil.rmtree(directory, ignore_errors=True)

    async def collect(self, poll_interval: float, max_poll_interval: float) -> None:
        """Poll the pending batches until each ends; download each one's results."""
        interval = poll_interval
        while True:
            pending = [b for b in self.state.batches if not b.downloaded and b.id is not None]
            if not pending:
                return
            for record in pending:
                assert record.id is not None
                try:
                    batch = await self.client.batches.retrieve(record.id)
                except NotFoundError:
                    record.status = "not_found"
                    record.downloaded = True  # nothing to collect; its lines are missing
                    self.state.save()
                    continue
                _update(record, batch)
                if batch.status in TERMINAL_STATUSES:
                    for file_id in (batch.output_file_id, batch.error_file_id):
                        if file_id:
                            await _download(
                                self.client, file_id, self.writer, self.done, self.counts
                            )
                    record.downloaded = True
                    self.state.save()
            self.report("polling")
            if any(not b.downloaded and b.id is not None for b in self.state.batches):
                await trio.sleep(interval)
                interval = min(max_poll_interval, interval * 1.5)
