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

**One record, one line.** The runner and the resume split OUTPUT at ``\n``, so an
output line must not contain one, yet a 2xx body goes into its line as the server sent
it (never re-encoded), and a server may pretty-print. :func:`one_line` puts a body on
one line by replacing each raw CR and LF with a space. That is exact only for text
already checked to be JSON: in JSON a raw CR or LF may appear only as whitespace
between tokens (inside a string it is invalid, written ``\n``), where a space means the
same. So the caller checks first (the sender decodes every 2xx body; a resume decodes
every line), and the value, the numbers as written, the key order and the length of
the body are all kept. Re-encoding the decoded value instead would cost a second
encode per reply and could change what the server sent (float spellings, integers
too large for 64 bits, duplicate keys); ``msgspec.json.format`` would re-tokenise the
whole body again for the same result.

**Depth.** msgspec decodes nested arrays and objects recursively and raises
``RecursionError`` on a document nested deeper than the interpreter's stack allows
(4 KB of ``[`` is enough). The decoders here turn that into ``msgspec.DecodeError``,
so such a line is an invalid line like any other, never a crash (:func:`decode_input`,
:func:`decode_seen`, :func:`check_json`).

Rules kept: the endpoints a line may name are the Batch API's, from
:data:`~trio_openai.types.batches.BatchEndpoint` (one list for the types, the jobs and
the embedded server). Sans-IO: bytes in, bytes out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, Final, TypeVar, get_args

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
    "check_json",
    "decode_input",
    "decode_seen",
    "encode",
    "error_line",
    "is_failure",
    "one_line",
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


T = TypeVar("T")

encode = msgspec.json.Encoder().encode


def _depth_checked(decode: Callable[[bytes], T]) -> Callable[[bytes], T]:
    """``decode`` raising ``msgspec.DecodeError`` for a document nested too deeply."""

    def decode_checked(data: bytes) -> T:
        try:
            return decode(data)
        except RecursionError:
            raise msgspec.DecodeError("JSON is nested too deeply") from None

    return decode_checked


decode_input: Final = _depth_checked(msgspec.json.Decoder(InputLine).decode)
"""An input line, leniently (:class:`InputLine`)."""
decode_seen: Final = _depth_checked(msgspec.json.Decoder(SeenLine).decode)
"""What a resume needs of an output line (:class:`SeenLine`); checks the whole line."""
check_json: Final = _depth_checked(msgspec.json.Decoder(msgspec.Raw).decode)
"""Checks that bytes are one JSON document (returns it as :class:`msgspec.Raw`)."""

_CRLF_TO_SPACE: Final = bytes.maketrans(b"\r\n", b"  ")


def one_line(json_text: bytes) -> bytes:
    """Checked JSON text on one line: each raw CR and LF (whitespace) becomes a space.

    Only for text already decoded without error (see the module docstring): in
    anything else a CR or LF may sit inside a string and this would change its value.
    """
    if b"\n" in json_text or b"\r" in json_text:
        return json_text.translate(_CRLF_TO_SPACE)
    return json_text


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
    """The output line (newline included) of a request that got an HTTP answer.

    ``body`` must be JSON text already checked (decoded without error): it is put on
    one line by :func:`one_line` and otherwise kept as it is.
    """
    out = BatchOutputLine(
        id=output_id(custom_id),
        custom_id=custom_id,
        response=BatchOutputResponse(
            status_code=status, request_id=request_id or "", body=msgspec.Raw(one_line(body))
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
