"""The test HTTP server's byte-level work: parsing request heads, framing responses.

Theory of operation: a plain request head (HTTP/1.1, a Host, no body or one
Content-Length, well-formed header lines) is parsed by :func:`parse_plain_head` with
the field grammar of ``trio_openai._http._grammar`` (``TOKEN``, ``FIELD_VALUE_READ``:
h11's rules for what a peer may send). Anything else makes it return None, and the
server hands the request to an ``h11.Connection`` instead; :func:`request_from_h11`
converts h11's result. Responses are serialized here, not by h11, so that a test can
frame a body as it likes: :func:`status_line`, :func:`encode_fields` (checks a
handler's headers) and :func:`frame` (one chunk of chunked coding).

Rules kept:
- Sans-IO: bytes in, values out; no trio, no socket.
- The fast path only ever narrows what h11 accepts, with the same result (a property
  test checks it against h11 on the same bytes, whatever the split).
- A handler's header must be one h11 would read back: a token name, a value in the
  read grammar (no CR, LF or NUL), Latin-1. A test server may send odd but legal
  values on purpose, so the stricter send grammar is not imposed.

Options rejected: a grammar of our own (one source: ``_http/_grammar.py``).
"""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import TYPE_CHECKING, Final

from .._http._grammar import FIELD_VALUE_READ, TOKEN, TOKEN_STR
from ._http_messages import Request, Response

if TYPE_CHECKING:
    import h11

__all__ = [
    "LOOSE_BLANK_LINE",
    "REASONS",
    "encode_fields",
    "frame",
    "has_close_token",
    "parse_plain_head",
    "request_from_h11",
    "status_line",
]

REASONS: Final[dict[int, bytes]] = {s.value: s.phrase.encode("ascii") for s in HTTPStatus}
"""The standard reason phrase of each registered status code."""

LOOSE_BLANK_LINE: Final = re.compile(rb"\n\r?\n")
"""A head end that is not CRLF CRLF (bare LFs): h11 decides what it means."""

_REQUEST_LINE = re.compile(rb"(" + TOKEN + rb") ([\x21-\x7e]+) HTTP/1\.1")
_HEADER_LINE = re.compile(rb"(" + TOKEN + rb"):[ \t]*(" + FIELD_VALUE_READ + rb")[ \t]*")
_FIELD_VALUE_STR = re.compile(FIELD_VALUE_READ.decode("latin-1"))


def parse_plain_head(
    head: bytes,
) -> tuple[str, str, list[tuple[str, str]], int, bool] | None:
    """Parse a plain HTTP/1.1 request head, or return None to let h11 handle it.

    Args:
        head: the head up to, not including, the blank line (CRLF line ends).

    Returns:
        ``(method, target, headers, content_length, keep_alive)``, header names
        lowercased; or None for anything but a plain request.
    """
    lines = head.split(b"\r\n")
    match = _REQUEST_LINE.fullmatch(lines[0])
    if match is None:
        return None
    headers: list[tuple[str, str]] = []
    length = -1
    keep_alive = True
    has_host = False
    for line in lines[1:]:
        field = _HEADER_LINE.fullmatch(line)
        if field is None:
            return None  # folded, malformed: h11 decides
        raw_name = field[1].lower()
        value = field[2]
        if raw_name == b"content-length":
            if length >= 0 or not value.isdigit():
                return None
            length = int(value)
        elif raw_name == b"host":
            if has_host:
                return None
            has_host = True
        elif raw_name == b"transfer-encoding" or raw_name == b"expect":
            return None
        elif raw_name == b"connection" and b"close" in value.lower():
            keep_alive = not has_close_token(value)
        headers.append((raw_name.decode("ascii"), value.decode("latin-1")))
    if not has_host:
        return None
    return (
        match[1].decode("ascii"),
        match[2].decode("ascii"),
        headers,
        max(length, 0),
        keep_alive,
    )


def has_close_token(value: bytes) -> bool:
    """Whether a ``Connection`` header value holds the ``close`` option."""
    return any(token.strip() == b"close" for token in value.lower().split(b","))


def request_from_h11(head: h11.Request, parts: list[bytes], conn_id: int) -> tuple[Request, bool]:
    """Build a :class:`Request` from h11's head and body parts.

    Returns:
        The request and whether the client allows keep-alive.
    """
    target = head.target.decode("latin-1")
    path, _, query = target.partition("?")
    headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in head.headers]
    version = head.http_version.decode("ascii")
    keep_alive = version == "1.1" and not any(
        name == "connection" and has_close_token(value.encode("latin-1")) for name, value in headers
    )
    request = Request(
        method=head.method.decode("ascii"),
        target=target,
        path=path,
        query=query,
        headers=headers,
        body=b"".join(parts),
        connection_id=conn_id,
        http_version=version,
    )
    return request, keep_alive


def status_line(status: int) -> bytes:
    """``HTTP/1.1 <status> <reason>`` and CRLF (an empty reason for unknown codes)."""
    return b"HTTP/1.1 %d %s\r\n" % (status, REASONS.get(status, b""))


def encode_fields(response: Response) -> list[bytes]:
    """Check a handler's status and headers; return the header lines, encoded.

    Raises:
        ValueError: a status that is not final (but 101 with ``upgrade``), or a header
            that is not valid HTTP (a name outside the token grammar, a value with CR,
            LF or NUL, or characters beyond Latin-1).
    """
    upgrading = response.status == 101 and response.upgrade is not None
    if not (200 <= response.status <= 999 or upgrading):
        raise ValueError(f"Response.status must be a final status (200-999), not {response.status}")
    fields = []
    for name, value in response.headers:
        if TOKEN_STR.fullmatch(name) is None or _FIELD_VALUE_STR.fullmatch(value) is None:
            raise ValueError(f"invalid response header {name!r}: {value!r}")
        try:
            fields.append(b"%s: %s\r\n" % (name.encode("ascii"), value.encode("latin-1")))
        except UnicodeEncodeError:
            raise ValueError(f"response header {name!r} is not Latin-1: {value!r}") from None
    return fields


def frame(data: bytes) -> bytes:
    """One chunk of chunked transfer coding."""
    return b"%x\r\n%s\r\n" % (len(data), data)
