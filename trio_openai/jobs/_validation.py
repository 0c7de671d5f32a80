"""Input validation: a batch input file is checked whole before anything is sent.

Theory of operation
-------------------
:func:`validate_jsonl` (and the first pass of both runners) parses every non-blank
line of INPUT with the lenient :class:`~._formats.InputLine` view and checks it: JSON,
an object, the four fields (``custom_id`` a non-empty string, ``method`` ``POST``, a
``url`` among the allowed endpoints, a ``body`` object), no ``stream: true``, a body
the client's own request validator accepts for that ``url`` (:mod:`._bodies`: the
check each service runs before sending; every problem of the body, each naming its
field, ``body.temprature``, and the rule), and a ``custom_id`` used once in the file.
Every problem is collected by line number (up to ``max_problems``) and raised
together as :class:`InputValidationError`, so a user fixes the file in one go; a job
whose input has any problem sends nothing.

Duplicates are found with a set of the ids seen, not of the lines; their line numbers
come from a second pass (:func:`_number_duplicates`), made only when there are
duplicates. Each pass is a :mod:`._passes` generator, so the runners validate inside
trio without starving other tasks.

Rules kept: the problem ``code`` s are stable names (scripts match on them); the
message names the field and the rule. A body is decoded once, to be validated (only
when its ``url`` has a validator; otherwise only when its bytes mention
``"stream"``), never re-encoded: the bytes sent are the bytes of the file.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

import msgspec

from ..errors import OpenAIError
from ._bodies import body_problems, params_type
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
            ``stream_not_supported``, ``invalid_parameter``, ``duplicate_custom_id``,
            ``empty_file``, ``mixed_endpoints``.
        message: what is wrong, for people.
        custom_id: the line's ``custom_id`` when it has a usable one.
        field: for ``invalid_parameter``, the parameter's path in the line
            (``body.messages[0].role``).
    """

    line: int
    code: str
    message: str
    custom_id: str | None = None
    field: str | None = None

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
) -> tuple[InputLine | None, list[LineProblem]]:
    """Parse and check one non-blank line: the line, or its problems."""
    try:
        line = decode_input(raw)
    except msgspec.ValidationError:
        return None, [LineProblem(number, "not_an_object", "the line is not a JSON object")]
    except msgspec.DecodeError as exc:
        return None, [LineProblem(number, "invalid_json", f"not valid JSON ({exc})")]
    cid = line.custom_id
    if cid is msgspec.UNSET:
        return None, [LineProblem(number, "missing_custom_id", "'custom_id' is missing")]
    if not isinstance(cid, str) or not cid:
        return None, [
            LineProblem(
                number,
                "invalid_custom_id",
                f"'custom_id' must be a non-empty string, got {_short(cid)}",
            )
        ]
    problem = _check_request(line, number, cid, endpoints)
    if problem is not None:
        return None, [problem]
    problems = _check_body(line, number, cid)
    return (None, problems) if problems else (line, [])


def _check_request(
    line: InputLine, number: int, cid: str, endpoints: frozenset[str]
) -> LineProblem | None:
    """The method, the url and the body's presence and kind."""
    if line.method is msgspec.UNSET:
        return LineProblem(number, "missing_method", "'method' is missing", cid)
    if line.method != "POST":
        return LineProblem(
            number, "invalid_method", f"'method' must be \"POST\", got {_short(line.method)}", cid
        )
    url = line.url
    if url is msgspec.UNSET:
        return LineProblem(number, "missing_url", "'url' is missing", cid)
    if not isinstance(url, str) or url not in endpoints:
        return LineProblem(
            number,
            "unsupported_url",
            f"'url' {_short(url)} is not supported; use one of {', '.join(sorted(endpoints))}",
            cid,
        )
    body = line.body
    if body is msgspec.UNSET:
        return LineProblem(number, "missing_body", "'body' is missing", cid)
    if not bytes(body).lstrip().startswith(b"{"):
        return LineProblem(number, "invalid_body", "'body' must be a JSON object", cid)
    return None


def _check_body(line: InputLine, number: int, cid: str) -> list[LineProblem]:
    """No ``stream: true``, and every problem the service of the url would find."""
    url: str = line.url
    raw = bytes(line.body)  # type: ignore[arg-type]  # a Raw: _check_request saw it set
    checked = params_type(url) is not None
    if not checked and b'"stream"' not in raw:
        return []
    try:
        body = msgspec.json.decode(raw)
    except (msgspec.DecodeError, RecursionError):  # nested deeper than the stack allows
        return [LineProblem(number, "invalid_body", "'body' is nested too deeply", cid)]
    if body.get("stream") is True:
        return [
            LineProblem(
                number,
                "stream_not_supported",
                "'body.stream' is true; batch requests cannot stream",
                cid,
            )
        ]
    if not checked:
        return []
    return [
        LineProblem(
            number,
            "invalid_parameter",
            f"body.{field}: {rule}" + ("" if shown is None else f" (got {shown})"),
            cid,
            f"body.{field}",
        )
        for field, rule, shown in body_problems(url, body)
    ]


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
        line, found = _check_line(raw, number, allowed)
        if found:
            room = max_problems - len(problems)
            problems.extend(found[:room])
            truncated = truncated or len(found) > room
            cid = found[0].custom_id
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
