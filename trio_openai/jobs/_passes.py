"""File passes: reading a JSONL file line by line without starving the other tasks.

Theory of operation
-------------------
Every pass the jobs make over a file (validating INPUT, recovering OUTPUT, choosing
the lines of a new batch, counting what is missing) is written once, as a generator
that yields nothing every :data:`STEP` lines and returns its result. The same code
then runs two ways: :func:`drive` runs it to the end synchronously (for
:func:`~trio_openai.jobs.validate_jsonl`, which a user may call outside trio), and
:func:`adrive` runs it inside trio with a checkpoint at each yield, so a pass over a
million lines gives the scheduler a turn every ten thousand.

Rules kept: file I/O is synchronous (small buffered reads): trio's async files use
worker threads, which this package does not. Blank lines are not lines: every pass
skips them, so all passes agree on which lines exist and on their numbers.

Options rejected: an ``async`` generator per pass (each line would cost a coroutine
step; a checkpoint every :data:`STEP` lines is enough to stay fair); reading a file
whole (a batch input is up to 200 MB).
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import Final, TypeVar

import trio

__all__ = ["STEP", "Steps", "adrive", "drive", "iter_lines"]

T = TypeVar("T")

STEP: Final = 10_000
"""Lines a file pass handles between two yields (see :func:`drive`)."""

Steps = Generator[None, None, T]
"""A file pass written as a generator that yields every :data:`STEP` lines, so the
same code runs synchronously (:func:`drive`) or with a trio checkpoint at each yield
(:func:`adrive`) and a long pass does not starve the other tasks."""


def iter_lines(path: str) -> Iterator[tuple[int, bytes]]:
    """``(line number, line)`` for every non-blank line (a generator; closes the file)."""
    with open(path, "rb") as f:
        for number, raw in enumerate(f, start=1):
            if raw.strip():
                yield number, raw


def drive(steps: Steps[T]) -> T:
    """Run a file pass to its end, synchronously; return its result."""
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            result: T = stop.value
            return result


async def adrive(steps: Steps[T]) -> T:
    """Run a file pass to its end with a trio checkpoint at each step; return its result."""
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            result: T = stop.value
            return result
        await trio.lowlevel.checkpoint()
