"""Progress: the snapshots the runners report, and ``rich`` displays of them.

Theory of operation
-------------------
A runner reports progress by calling a callback with a frozen snapshot:
:class:`RunProgress` from :func:`~trio_openai.jobs.run_jsonl` (about five times a
second, from a ticker task, and once at the end), :class:`BatchProgress` from
:func:`~trio_openai.jobs.submit_batch` (after every poll round). ``progress=True``
asks for the ``rich`` display of the snapshots instead (:class:`RichProgress`, one
bar; :class:`RichBatchProgress`, one bar per batch), drawn on stderr;
:func:`resolve_progress` turns the ``progress`` argument into a callback and the
display to close at the end.

Rules kept: ``rich`` is imported only when a display is made, with an actionable
``ImportError`` when it is missing; the displays refresh when given a snapshot (no
refresh thread); ``close()`` is idempotent; text the displays did not write (file
names, batch ids and statuses from the server) is shown through
:func:`~._terminal.printable` and escaped from ``rich`` markup.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from ._terminal import printable

if TYPE_CHECKING:
    from ._batch_state import BatchRecord

__all__ = [
    "BatchProgress",
    "BatchProgressCallback",
    "ProgressCallback",
    "RichBatchProgress",
    "RichProgress",
    "RunProgress",
    "resolve_progress",
]

S = TypeVar("S")
S_contra = TypeVar("S_contra", contravariant=True)
D = TypeVar("D", bound="Display[Any]")


class Display(Protocol[S_contra]):
    """A progress display: called with each snapshot, closed at the end."""

    def __call__(self, snap: S_contra, /) -> None: ...

    def close(self) -> None: ...


def resolve_progress(
    progress: Callable[[S], None] | bool | None, make_display: Callable[[], D]
) -> tuple[Callable[[S], None] | None, D | None]:
    """The callback for a runner's ``progress`` argument, and the display to close.

    ``True`` makes a display (``make_display()``), ``False`` or ``None`` reports
    nothing, a callable is called with each snapshot.

    Raises:
        TypeError: ``progress`` is none of these.
        ImportError: a display is asked for and ``rich`` is not installed.
    """
    if progress is True:
        display = make_display()
        return display, display
    if progress is False or progress is None:
        return None, None
    if callable(progress):
        return progress, None
    raise TypeError(f"progress must be a bool, None or a callable, got {progress!r}")


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


class RichProgress:
    """A ``rich`` progress bar for :func:`run_jsonl` (done, failed, rate, tokens, ETA).

    Drawn on stderr and refreshed by the runner's ticker (no refresh thread).

    Raises:
        ImportError: ``rich`` is not installed (with what to install).
    """

    def __init__(self, description: str = "requests", *, console: Any = None) -> None:
        try:
            from rich.console import Console
            from rich.markup import escape
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
            escape(printable(description)), total=None, failed=0, rate="", tokens="", start=False
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


class RichBatchProgress:
    """A ``rich`` display for :func:`submit_batch`: one bar per batch.

    Raises:
        ImportError: ``rich`` is not installed (with what to install).
    """

    def __init__(self, *, console: Any = None) -> None:
        try:
            from rich.console import Console
            from rich.markup import escape
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
        self._escape: Callable[[str], str] = escape

    def __call__(self, snap: BatchProgress) -> None:
        progress = self._progress
        if not self._started:
            self._started = True
            progress.start()
        for b in snap.batches:
            key = b.input_file_id
            name = self._escape(printable(b.id or b.input_file_id))
            label = f"{name} [bold]{self._escape(printable(b.status))}"
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
