"""The mock server's wire formats: what an endpoint gets and answers, SSE framing,
cursor pages and ``multipart/form-data`` parsing (sans-IO).

Theory of operation: an endpoint function receives a :class:`Call` (the request
record, the path arguments its route captured, the checked body) and returns a
:class:`Reply`: a JSON payload, pre-encoded bytes, a list of framed Server-Sent
Events, or chunks of a binary body. The server core turns a :class:`Reply` into an
HTTP response; the batch engine reads its payload directly. Events are framed here,
exactly as OpenAI frames them: ``data: {json}`` (chat, completions, speech) or
``event: <type>`` + ``data: {json}`` (Responses), each ending with a blank line.

Rules kept: one JSON encoder and decoder (msgspec's); no I/O, no clock.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import msgspec

if TYPE_CHECKING:
    import trio

from .._records import RequestRecord, UploadedFile

__all__ = [
    "DONE",
    "FINGERPRINT",
    "JSON_CT",
    "SSE_CT",
    "Call",
    "Reply",
    "decode",
    "encode",
    "interleave",
    "page",
    "parse_multipart",
    "sse",
    "typed_sse",
]

JSON_CT: Final = "application/json"
SSE_CT: Final = "text/event-stream; charset=utf-8"
FINGERPRINT: Final = "fp_mock0000"
DONE: Final = b"data: [DONE]\n\n"

encode = msgspec.json.encode
decode = msgspec.json.decode


@dataclass(slots=True)
class Call:
    """What an endpoint function gets."""

    record: RequestRecord
    args: tuple[str, ...] = ()  # the path parameters of the route, in order
    body: dict[str, Any] = field(default_factory=dict)
    allow_stream: bool = True  # False for batch lines: ``stream: true`` answers JSON
    pad: int = 0  # oversized_event: size of the big SSE event to add (0: none)


@dataclass(slots=True)
class Reply:
    """What an endpoint function answers (turned into a Response by the server)."""

    payload: Any = None  # JSON-encodable
    status: int = 200
    raw: bytes | None = None  # a pre-encoded body (then content_type applies)
    content_type: str = JSON_CT
    events: list[bytes] | None = None  # SSE events, framed
    chunks: list[bytes] | None = None  # a non-SSE body sent chunked
    headers: list[tuple[str, str]] | None = None
    # status 101: takes the connection over: (the server's stream_interval, stream,
    # bytes past the head) -> None (the Realtime WebSocket)
    upgrade: Callable[[float, trio.abc.Stream, bytes], Awaitable[None]] | None = None


def sse(obj: Any) -> bytes:
    """One ``data: {json}`` event."""
    data: bytes = encode(obj)
    return b"data: " + data + b"\n\n"


def typed_sse(obj: dict[str, Any]) -> bytes:
    """One ``event: <obj["type"]>`` + ``data: {json}`` event (the Responses framing)."""
    name: str = obj["type"]
    data: bytes = encode(obj)
    return b"event: " + name.encode() + b"\ndata: " + data + b"\n\n"


def interleave(lists: list[list[bytes]]) -> list[bytes]:
    """Merge the event lists of several choices round-robin, as OpenAI streams ``n > 1``."""
    if len(lists) == 1:
        return lists[0]
    out: list[bytes] = []
    for i in range(max(len(x) for x in lists)):
        out.extend(x[i] for x in lists if i < len(x))
    return out


def page(
    items: list[dict[str, Any]], after: str | None, limit: int, *, with_ids: bool = True
) -> dict[str, Any]:
    """A cursor page over *items* (already in the requested order)."""
    start = 0
    if after is not None:
        for i, item in enumerate(items):
            if item.get("id") == after:
                start = i + 1
                break
    data = items[start : start + limit]
    out: dict[str, Any] = {"object": "list", "data": data}
    if with_ids:
        out["first_id"] = data[0]["id"] if data else None
        out["last_id"] = data[-1]["id"] if data else None
    out["has_more"] = start + limit < len(items)
    return out


# --------------------------------------------------------------------------------------
# Multipart

_DISPOSITION_PARAM = re.compile(r';\s*([\w*-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')


def _content_type_param(content_type: str, name: str) -> str | None:
    for match in _DISPOSITION_PARAM.finditer(content_type):
        if match.group(1).lower() == name:
            value = match.group(2).strip()
            if value.startswith('"') and value.endswith('"'):
                value = value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
            return value
    return None


def parse_multipart(body: bytes, content_type: str) -> dict[str, Any] | None:
    """Parse ``multipart/form-data``; None when it is malformed.

    Returns:
        The fields: text as ``str``, file parts as :class:`UploadedFile`, a repeated
        name as a list of its values.
    """
    boundary = _content_type_param(content_type, "boundary")
    if not boundary:
        return None
    delimiter = b"--" + boundary.encode("latin-1")
    pieces = body.split(delimiter)
    if len(pieces) < 2:
        return None
    form: dict[str, Any] = {}
    for piece in pieces[1:]:
        if piece.startswith(b"--"):
            break
        if piece.startswith(b"\r\n"):
            piece = piece[2:]
        if piece.endswith(b"\r\n"):
            piece = piece[:-2]
        head, sep, data = piece.partition(b"\r\n\r\n")
        if not sep:
            return None
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, colon, text = line.partition(":")
            if colon:
                headers[key.strip().lower()] = text.strip()
        disposition = headers.get("content-disposition", "")
        name = _content_type_param(disposition, "name")
        if name is None:
            return None
        filename = _content_type_param(disposition, "filename")
        value: Any
        if filename is not None:
            value = UploadedFile(filename, headers.get("content-type"), data)
        else:
            value = data.decode("utf-8", "replace")
        if name in form:
            previous = form[name]
            form[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            form[name] = value
    return form
