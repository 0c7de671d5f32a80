"""What a Batch API job knows of its batches: records, the state file, the summary.

Theory of operation
-------------------
:func:`~trio_openai.jobs.submit_batch` may be interrupted at any step (after an
upload, after a create, while polling) and run again. What lets the next run carry
on is the state file ``OUTPUT.batches.json``: one :class:`BatchRecord` per batch of
the job (its uploaded input file, endpoint, line count, batch id once created,
last status, whether its results are in OUTPUT). :class:`StateFile` loads it and
rewrites it after every step; :class:`BatchJobSummary` is what a call returns.

Rules kept: the state file is written atomically, through a private temporary file
of a random name (:func:`~._files.replace_file`: never through a link planted at a
predictable name), so a crash leaves the old version or the new one, never a mix; a file of
another version (or not ours) is refused, not guessed at. Only what a resume needs
is stored: request counts and errors are seen again at the next poll.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from ._files import replace_file
from ._terminal import printable

__all__ = ["BatchJobSummary", "BatchRecord", "StateFile"]

_STATE_VERSION: Final = 1


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
            # The ids, statuses and errors are the server's: shown escaped, one line each.
            state = "downloaded" if b.downloaded else "pending"
            parts.append(
                f"  {printable(b.id or '(not created)')} {printable(b.endpoint)} "
                f"{printable(b.status)} {b.completed + b.failed}/{b.total or b.requests} "
                f"({state})"
            )
            parts.extend(f"    {printable(e)}" for e in b.errors[:10])
        parts.append(f"  output: {self.output_path}")
        return "\n".join(parts)


class StateFile:
    """``OUTPUT.batches.json``: the batches of this job, rewritten atomically."""

    __slots__ = ("batches", "input_path", "path")

    def __init__(self, path: str, input_path: str) -> None:
        self.path = path
        self.input_path = os.path.abspath(input_path)
        self.batches: list[BatchRecord] = []

    @classmethod
    def load(cls, path: str, input_path: str) -> StateFile:
        state = cls(path, input_path)
        if os.path.exists(path):
            with open(path, "rb") as f:
                try:
                    data = json.load(f)
                except RecursionError:
                    data = None
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
        with replace_file(self.path) as f:
            f.write(json.dumps(data, indent=1).encode("utf-8") + b"\n")
