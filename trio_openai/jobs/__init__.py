"""Jobs: bounded concurrency for many calls, and batch files run locally or by the Batch API.

Three tools, from the smallest up:

- ``await jobs.map(fn, items, limit=N)`` and ``async with jobs.as_completed(fn, items,
  limit=N) as results``: run ``fn(item)`` for every item with at most ``N`` calls at
  once; each call's result is an :class:`outcome.Outcome`, so one failure cancels
  nothing, and cancelling the caller cancels every call.
- ``await jobs.run_jsonl(client, INPUT, OUTPUT)``: send every request of a file in the
  Batch API's input format through the client, here, and write the Batch API's output
  format; resumable from OUTPUT, paced by the server's rate-limit headers, with a
  progress display. :func:`validate_jsonl` checks a file without sending anything.
- ``await jobs.submit_batch(client, INPUT, OUTPUT)``: the same file and the same
  OUTPUT, with OpenAI's Batch API doing the work (upload, create, poll, download).

Theory of operation
-------------------
This package only re-exports; each concern has its module, and a module imports only
the ones listed before it:

- ``_concurrency``: ``map``, ``as_completed`` (a worker pool over one iterator).
- ``_passes``: file passes as generators, run with or without trio checkpoints.
- ``_files``: files beside OUTPUT, replaced atomically or created exclusively.
- ``_terminal``: text from the network made safe to print (also used by the CLI).
- ``_formats``: the input and output line formats and their codecs.
- ``_validation``: checking an input file (every problem, by line number).
- ``_output``: recovering OUTPUT for a resume, and appending whole lines to it.
- ``_batch_state``: the Batch API job's records and state file.
- ``_progress``: progress snapshots and their ``rich`` displays.
- ``_pacing``: following the server's rate-limit buckets.
- ``_sender``: one input line to one output line.
- ``_runner``: the local run loop (:func:`run_jsonl`).
- ``_batch_api``: the Batch API job (:func:`submit_batch`).

``import trio_openai`` does not load this package; ``trio_openai.jobs`` loads it on
first use (and ``rich`` loads only when a progress display is asked for).
"""

from __future__ import annotations

from ._batch_api import DEFAULT_MAX_BATCH_BYTES as DEFAULT_MAX_BATCH_BYTES
from ._batch_api import DEFAULT_MAX_BATCH_REQUESTS as DEFAULT_MAX_BATCH_REQUESTS
from ._batch_api import submit_batch as submit_batch
from ._batch_state import BatchJobSummary as BatchJobSummary
from ._batch_state import BatchRecord as BatchRecord
from ._concurrency import JobStatistics as JobStatistics
from ._concurrency import Results as Results
from ._concurrency import as_completed as as_completed
from ._concurrency import map as map
from ._formats import BATCH_ENDPOINTS as BATCH_ENDPOINTS
from ._output import OutputCorruptError as OutputCorruptError
from ._progress import BatchProgress as BatchProgress
from ._progress import RichBatchProgress as RichBatchProgress
from ._progress import RichProgress as RichProgress
from ._progress import RunProgress as RunProgress
from ._runner import RunSummary as RunSummary
from ._runner import run_jsonl as run_jsonl
from ._validation import InputSummary as InputSummary
from ._validation import InputValidationError as InputValidationError
from ._validation import LineProblem as LineProblem
from ._validation import validate_jsonl as validate_jsonl

__all__ = [
    "map",
    "as_completed",
    "Results",
    "JobStatistics",
    # the JSONL runner
    "run_jsonl",
    "validate_jsonl",
    "RunSummary",
    "RunProgress",
    "InputSummary",
    "InputValidationError",
    "OutputCorruptError",
    "LineProblem",
    "RichProgress",
    "BATCH_ENDPOINTS",
    # the Batch API
    "submit_batch",
    "BatchJobSummary",
    "BatchProgress",
    "BatchRecord",
    "RichBatchProgress",
    "DEFAULT_MAX_BATCH_REQUESTS",
    "DEFAULT_MAX_BATCH_BYTES",
]
