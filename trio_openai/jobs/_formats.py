"""The JSONL line formats of a batch job: input lines read, output lines written and read.

Theory of operation
-------------------
A job reads INPUT in the Batch API's input format (one ``{"custom_id", "method",
"url", "body"}`` per line) and writes OUTPUT in its output format (``{"id",
"custom_id", "response": {"status_code", "request_id", "body"}, "error"}``), so a
file moves between the local runner and the Batch API unchanged. This module holds
the three views of those lines the jobs need, each with a decoder built once:

- :class:`InputLine`, the lenient view of an input line: every field any JSON and
  ``body`` kept as raw bytes, so validation can say what is wrong with a field
  (instead of msgspec's first error) and the body is sent exactly as it is in INPUT,
  never re-encoded.
- The output line written for one request (:func:`answer_line`, :func:`error_line`),
  encoded from the public :class:`~trio_openai.types.batches.BatchOutputLine`: one
  definition of the format for users and for the runner.
- :class:`SeenLine`, what a resume needs of an OUTPUT line (its ``custom_id`` and
  whether it failed); the other fields are skipped unparsed, and a line without a
  ``custom_id`` string is not an output line.

The output ``id`` is ``batch_req_`` plus a hash of the ``custom_id``
(:func:`output_id`), so it is the same whichever run wrote the line.

Rules kept: the endpoints a line may name are the Batch API's, from
:data:`~trio_openai.types.batches.BatchEndpoint` (one list for the types, the jobs and
the embedded server). Sans-IO: bytes in, bytes out.
"""

from __future__ import annotations

import hashlib
from typing import Any, Final, get_args

import msgspec

from ..types.batches import (
    BatchEndpoint,
    BatchOutputError,
    BatchOutputLine,
    BatchOutputResponse,
)

__all__ = [
    "BATCH_ENDPOINTS",
    "InputLine",
    "SeenLine",
    "answer_line",
    "decode_input",
    "decode_seen",
    "encode",
    "error_line",
    "is_failure",
    "output_id",
]

BATCH_ENDPOINTS: Final[tuple[str, ...]] = get_args(BatchEndpoint)
"""The ``url`` s a batch line may name (the Batch API's ``endpoint`` values)."""


class InputLine(msgspec.Struct):
    """One input line, leniently: every field any JSON, ``body`` left as raw bytes."""

    custom_id: Any = msgspec.UNSET
    method: Any = msgspec.UNSET
    url: Any = msgspec.UNSET
    body: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET


class SeenResponse(msgspec.Struct):
    status_code: int = 0


class SeenLine(msgspec.Struct):
    """What a resume needs from an OUTPUT line (other fields are skipped unparsed)."""

    custom_id: str
    response: SeenResponse | None = None
    error: Any = None


decode_input = msgspec.json.Decoder(InputLine).decode
decode_seen = msgspec.json.Decoder(SeenLine).decode
encode = msgspec.json.Encoder().encode


def is_failure(line: SeenLine) -> bool:
    """Whether an output line records a failure (an ``error``, or no 2xx answer)."""
    if line.error is not None:
        return True
    response = line.response
    return response is None or not 200 <= response.status_code < 300


def output_id(custom_id: str) -> str:
    """The output line ``id`` for a ``custom_id``: the same in every run."""
    digest = hashlib.blake2b(custom_id.encode("utf-8"), digest_size=12).hexdigest()
    return f"batch_req_{digest}"


def answer_line(custom_id: str, status: int, request_id: str | None, body: bytes) -> bytes:
    """The output line (newline included) of a request that got an HTTP answer."""
    out = BatchOutputLine(
        id=output_id(custom_id),
        custom_id=custom_id,
        response=BatchOutputResponse(
            status_code=status, request_id=request_id or "", body=msgspec.Raw(body)
        ),
        error=None,
    )
    return encode(out) + b"\n"


def error_line(custom_id: str, code: str, message: str) -> bytes:
    """The output line (newline included) of a request that got no usable answer."""
    out = BatchOutputLine(
        id=output_id(custom_id),
        custom_id=custom_id,
        response=None,
        error=BatchOutputError(code=code, message=message),
    )
    return encode(out) + b"\n"
