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
   split small files). Each chunk is written to a temporary file, uploaded with
   purpose ``batch`` and turned into a batch; the state file is rewritten
   (atomically) after each step.
4. **Poll** every pending batch with backoff (``poll_interval``, growing 1.5x per
   round up to ``max_poll_interval``), reporting status and counts; when a batch
   ends (``completed``, ``failed``, ``expired``, ``cancelled``) its output and error
   files are **downloaded** into OUTPUT, line by line, skipping ``custom_id`` s that
   are already there. The lines are the Batch API's own, unchanged.

Lines of a batch that failed validation, was cancelled or expired without a result
are *missing*: the summary counts them, and running ``submit`` again sends them in a
new batch.

Rules kept: the same OUTPUT guarantees as the runner (whole lines, ``fsync`` ed, a
lock, a torn tail cut on the next run); state-file writes are atomic (temporary file,
``fsync``, rename); waiting is ``trio.sleep``, so any cancel scope stops it (the
batches keep running at OpenAI: run ``submit`` again to collect them, or ``batch
cancel``).

Options rejected: the ``/uploads`` multipart API for inputs (a batch input file is at
most 200 MB, under the 512 MB limit of a plain upload); deleting the uploaded input
files afterwards (they are the record of what was submitted, and expire in 30 days).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, Final

import msgspec
import trio

from ._runner import (
    _STEP,
    BATCH_ENDPOINTS,
    _adrive,
    _decode_input,
    _decode_seen,
    _is_failure,
    _iter_lines,
    _normalize_endpoints,
    _OutputWriter,
    _recover_output,
    _Steps,
    _validate,
)
from .errors import NotFoundError

if TYPE_CHECKING:
    from ._client import Client
    from .types.batches import Batch

__all__ = [
    "DEFAULT_MAX_BATCH_BYTES",
    "DEFAULT_MAX_BATCH_REQUESTS",
    "TERMINAL_STATUSES",
    "BatchJobSummary",
    "BatchProgress",
    "BatchRecord",
    "RichBatchProgress",
    "submit_batch",
]

DEFAULT_MAX_BATCH_REQUESTS: Final = 50_000
"""Most requests in one batch input file (the Batch API's limit)."""
DEFAULT_MAX_BATCH_BYTES: Final = 200_000_000
"""Most bytes in one batch input file (the Batch API's 200 MB, read as 10^6)."""
TERMINAL_STATUSES: Final = frozenset({"completed", "failed", "expired", "cancelled"})
_STATE_VERSION: Final = 1
_SEARCH_LIMIT: Final = 2000  # recent batches searched for an unrecorded one


@dataclass
class BatchRecord:
    """One batch of this job, as the state file and the summary know it.

    Attributes:
        input_file_id: the uploaded chunk.
        endpoint: the batch's endpoint (``/v1/chat/completions``).
        requests: lines in the chunk.
        id: the batch id (``None`` until the batch is created).
        status: the last status seen.
        completed, failed, total: the last request counts seen.
        downloaded: whether its results are in OUTPUT.
        errors: the batch's validation errors (``failed`` batches), as text.
    """

    input_file_id: str
    endpoint: str
    requests: int
    id: str | None = None
    status: str = "new"
    completed: int = 0
    failed: int = 0
    total: int = 0
    downloaded: bool = False
    errors: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "input_file_id": self.input_file_id,
            "endpoint": self.endpoint,
            "requests": self.requests,
            "id": self.id,
            "status": self.status,
            "downloaded": self.downloaded,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BatchRecord:
        return cls(
            input_file_id=str(data["input_file_id"]),
            endpoint=str(data["endpoint"]),
            requests=int(data["requests"]),
            id=data.get("id"),
            status=str(data.get("status", "new")),
            downloaded=bool(data.get("downloaded", False)),
        )


@dataclass(frozen=True)
class BatchProgress:
    """A snapshot given to :func:`submit_batch`'s ``progress`` callback.

    Attributes:
        batches: every batch of the job (copies).
        phase: ``"uploading"``, ``"polling"`` or ``"done"``.
        elapsed: seconds since the call started.
    """

    batches: tuple[BatchRecord, ...]
    phase: str
    elapsed: float


BatchProgressCallback = Callable[[BatchProgress], None]


@dataclass(frozen=True)
class BatchJobSummary:
    """The result of :func:`submit_batch`.

    Attributes:
        input_path, output_path: the files.
        total: requests in INPUT.
        skipped: requests already in OUTPUT when the call started.
        batches: every batch of the job (from the state file and this call).
        written: lines appended to OUTPUT by this call.
        succeeded, failed: of ``written``, 2xx answers and failures.
        missing: requests of INPUT still without a line in OUTPUT (a batch failed,
            was cancelled or expired, or is still pending with ``wait=False``).
        elapsed: seconds.
    """

    input_path: str
    output_path: str
    total: int
    skipped: int
    batches: tuple[BatchRecord, ...]
    written: int
    succeeded: int
    failed: int
    missing: int
    elapsed: float

    @property
    def pending(self) -> tuple[BatchRecord, ...]:
        """Batches whose results are not downloaded yet."""
        return tuple(b for b in self.batches if not b.downloaded)

    @property
    def ok(self) -> bool:
        """True when every request has a line in OUTPUT and none of this call failed."""
        return self.missing == 0 and self.failed == 0

    def __str__(self) -> str:
        parts = [
            f"{self.total} requests in {self.input_path}: {self.skipped} already done, "
            f"{self.written} results written in {self.elapsed:.1f} s "
            f"(succeeded {self.succeeded}, failed {self.failed}), {self.missing} missing"
        ]
        for b in self.batches:
            state = "downloaded" if b.downloaded else "pending"
            parts.append(
                f"  {b.id or '(not created)'} {b.endpoint} {b.status} "
                f"{b.completed + b.failed}/{b.total or b.requests} ({state})"
            )
            parts.extend(f"    {e}" for e in b.errors[:10])
        parts.append(f"  output: {self.output_path}")
        return "\n".join(parts)


class RichBatchProgress:
    """A ``rich`` display for :func:`submit_batch`: one bar per batch.

    Raises:
        ImportError: ``rich`` is not installed (with what to install).
    """

    def __init__(self, *, console: Any = None) -> None:
        try:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
            from rich.progress import TimeElapsedColumn as Elapsed
        except ImportError:
            raise ImportError(
                "the progress display needs the 'rich' package: pip install rich "
                "(or run without progress / with --quiet)"
            ) from None
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("[red]{task.fields[failed]} failed"),
            Elapsed(),
            console=console if console is not None else Console(stderr=True),
            auto_refresh=False,
        )
        self._tasks: dict[str, Any] = {}
        self._started = False

    def __call__(self, snap: BatchProgress) -> None:
        progress = self._progress
        if not self._started:
            self._started = True
            progress.start()
        for b in snap.batches:
            key = b.input_file_id
            label = f"{b.id or b.input_file_id} [bold]{b.status}"
            total = b.total or b.requests
            if key not in self._tasks:
                self._tasks[key] = progress.add_task(label, total=total, failed=0)
            progress.update(
                self._tasks[key],
                description=label,
                total=total,
                completed=b.completed + b.failed,
                failed=b.failed,
            )
        progress.refresh()
        if snap.phase == "done":
            progress.stop()

    def close(self) -> None:
        """Stop drawing (idempotent)."""
        if self._started:
            self._progress.stop()


# --------------------------------------------------------------------------- state


class _State:
    """``OUTPUT.batches.json``: the batches of this job, rewritten atomically."""

    __slots__ = ("batches", "input_path", "path")

    def __init__(self, path: str, input_path: str) -> None:
        self.path = path
        self.input_path = os.path.abspath(input_path)
        self.batches: list[BatchRecord] = []

    @classmethod
    def load(cls, path: str, input_path: str) -> _State:
        state = cls(path, input_path)
        if os.path.exists(path):
            with open(path, "rb") as f:
                data = json.load(f)
            if not isinstance(data, dict) or data.get("version") != _STATE_VERSION:
                raise ValueError(f"{path}: not a batch state file of this version")
            state.batches = [BatchRecord.from_json(b) for b in data.get("batches", [])]
        return state

    def save(self) -> None:
        data = {
            "version": _STATE_VERSION,
            "input": self.input_path,
            "batches": [b.to_json() for b in self.batches],
        }
        tmp = self.path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)


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
            chunk = _Chunk(endpoint, path, open(path, "wb"))  # noqa: SIM115 - closed in _close
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
) -> _Steps[list[_Chunk]]:
    """Write INPUT's lines not in ``done`` into chunk files; return the chunks."""
    chunker = _Chunker(directory, max_requests, max_bytes)
    for number, raw in _iter_lines(input_path):
        if number % _STEP == 0:
            yield
        line = _decode_input(raw)
        if line.custom_id not in done:
            chunker.add(line.url, raw)
    return chunker.finish()


def _count_missing(input_path: str, done: set[str]) -> _Steps[int]:
    missing = 0
    for number, raw in _iter_lines(input_path):
        if number % _STEP == 0:
            yield
        if _decode_input(raw).custom_id not in done:
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
    client: Client, file_id: str, writer: _OutputWriter, done: set[str], counts: _Counts
) -> None:
    """Append a result file's lines to OUTPUT, skipping ``custom_id`` s already there."""
    pending = b""

    def take(raw: bytes) -> None:
        if not raw.strip():
            return
        try:
            seen = _decode_seen(raw)
        except (msgspec.DecodeError, msgspec.ValidationError):
            return  # not a result line: nothing to join it to
        if seen.custom_id in done:
            return
        writer.write(raw if raw.endswith(b"\n") else raw + b"\n")
        done.add(seen.custom_id)
        counts.written += 1
        if _is_failure(seen):
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
    from .jobs import _check_limit

    max_requests = _check_limit("max_requests", max_requests)
    max_bytes = _check_limit("max_bytes", max_bytes)
    for name, value in (("poll_interval", poll_interval), ("max_poll_interval", max_poll_interval)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"{name} must be a number > 0, got {value!r}")
    in_name = os.fspath(input_path)
    out_name = os.fspath(output_path)
    client._check_open()
    show: BatchProgressCallback | None
    display: RichBatchProgress | None = None
    if progress is True:
        display = RichBatchProgress()
        show = display
    elif progress is False or progress is None:
        show = None
    elif callable(progress):
        show = progress
    else:
        raise TypeError(f"progress must be a bool, None or a callable, got {progress!r}")

    started = trio.current_time()
    allowed = _normalize_endpoints(endpoints if endpoints is not None else BATCH_ENDPOINTS)
    summary_in = await _adrive(_validate(in_name, allowed, 1000))
    writer = _OutputWriter(out_name, 1.0)
    try:
        recovered = await _adrive(_recover_output(out_name, retry_failed=False))
        done = recovered.done
        skipped = len(done)
        state = _State.load(out_name + ".batches.json", in_name)
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
        missing = await _adrive(_count_missing(in_name, done))
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
        state: _State,
        writer: _OutputWriter,
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
            chunks: list[_Chunk] = await _adrive(
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
