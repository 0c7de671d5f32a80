"""Input validation: a batch input file is checked whole before anything is sent.

Theory of operation
-------------------
:func:`validate_jsonl` (and the first pass of both runners) parses every non-blank
line of INPUT with the lenient :class:`~._formats.InputLine` view and checks it: JSON,
an object, the four fields (``custom_id`` a non-empty string, ``method`` ``POST``, a
``url`` among the allowed endpoints, a ``body`` object), no ``stream: true``, and a
``custom_id`` used once in the file. Every problem is collected by line number (up to
``max_problems``) and raised together as :class:`InputValidationError`, so a user
fixes the file in one go; a job whose input has any problem sends nothing.

Duplicates are found with a set of the ids seen, not of the lines; their line numbers
come from a second pass (:func:`_number_duplicates`), made only when there are
duplicates. Each pass is a :mod:`._passes` generator, so the runners validate inside
trio without starving other tasks.

Rules kept: the problem ``code`` s are stable names (scripts match on them); the
message names the field and the rule. A body is checked for ``"stream"`` only when the
bytes contain it, so a clean file is never decoded twice.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

import msgspec

from ..errors import OpenAIError
from ._formats import BATCH_ENDPOINTS, InputLine, decode_input
from ._passes import STEP, Steps, drive, iter_lines

__all__ = [
    "DEFAULT_MAX_PROBLEMS",
    "InputSummary",
    "InputValidationError",
    "LineProblem",
    "normalize_endpoints",
    "validate",
    "validate_jsonl",
]

_SHOWN_PROBLEMS: Final = 20
DEFAULT_MAX_PROBLEMS: Final = 1000
"""Problems collected before :func:`validate_jsonl` stops counting."""


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
) -> tuple[InputLine | None, LineProblem | None]:
    """Parse and check one non-blank line."""
    try:
        line = decode_input(raw)
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


def normalize_endpoints(endpoints: Iterable[str] | None) -> frozenset[str]:
    """The ``url`` s a job accepts: ``endpoints``, or every Batch API endpoint.

    Raises:
        ValueError: ``endpoints`` is empty or holds something that is not a path.
    """
    if endpoints is None:
        return frozenset(BATCH_ENDPOINTS)
    result = frozenset(endpoints)
    if not result or not all(isinstance(e, str) and e.startswith("/") for e in result):
        raise ValueError(f"endpoints must be paths like '/v1/chat/completions', got {endpoints!r}")
    return result


def validate_jsonl(
    path: str | os.PathLike[str],
    *,
    endpoints: Iterable[str] | None = None,
    max_problems: int = DEFAULT_MAX_PROBLEMS,
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
    return drive(validate(os.fspath(path), normalize_endpoints(endpoints), max_problems))


def validate(name: str, allowed: frozenset[str], max_problems: int) -> Steps[InputSummary]:
    """The validation pass behind :func:`validate_jsonl` (run it with a driver).

    Raises:
        InputValidationError: a line is not valid (every problem, by line number).
    """
    problems: list[LineProblem] = []
    truncated = False
    seen: set[str] = set()
    repeated: set[str] = set()
    counts: dict[str, int] = {}
    requests = 0
    for number, raw in iter_lines(name):
        if number % STEP == 0:
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


def _number_duplicates(path: str, repeated: set[str]) -> Steps[list[LineProblem]]:
    """Second pass: a problem for every line repeating an earlier line's id."""
    first: dict[str, int] = {}
    problems: list[LineProblem] = []
    for number, raw in iter_lines(path):
        if number % STEP == 0:
            yield
        try:
            cid = decode_input(raw).custom_id
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
