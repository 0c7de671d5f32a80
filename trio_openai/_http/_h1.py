"""HTTP/1.1 framing for the common case, sans-IO: request heads out, response heads in.

Theory of operation
-------------------
h11 implements all of HTTP/1.1 and stays the authority. Driving it costs ~65 µs of
CPU per exchange here (event objects, the state machine, per-header validation),
which is a quarter of a whole ``chat.completions.create`` call on this client. Almost
every exchange is the same shape, so this module handles that shape directly:

- :class:`RequestHead` checks a request the way h11 checks one (method, target, one
  Host, framing headers) and serializes its head once, when the request is prepared.
  The connection writes those bytes and the body framing itself (Content-Length, or
  chunks when ``Transfer-Encoding: chunked`` is set).
- :func:`parse_response_head` reads a complete response head if it is in the plain
  form: ``HTTP/1.1``, a final status (200-999), CRLF line ends, no obsolete line
  folding, every header line well formed, and framing that is one clean
  ``Content-Length`` or ``Transfer-Encoding: chunked`` (or no body by status/method).
  It returns what h11 would report for the same bytes (property-tested against h11).
- :class:`ChunkedBody` decodes a chunked body with h11's framing rules, handing out
  all the data of one read at once instead of an event per chunk.

Everything else -- 1xx responses, HTTP/1.0, bare-LF line ends, folded headers,
malformed lines, read-until-close bodies, odd framing headers, both framings at
once -- makes it return ``None``, and the connection hands the exchange to a fresh
``h11.Connection`` (told about the request with :meth:`RequestHead.h11_event`), which
accepts or rejects the bytes with its own rules (and the fallback refuses a body
framed both ways, which h11 would read). So this module never widens what is
accepted: it only takes a fast road through what h11 accepts.

The token and field-value patterns are :mod:`._grammar`'s, the one source of the
header grammar: response heads and trailers are read with h11's field-value rule
(``FIELD_VALUE_READ``); the header values of requests were checked with the strict
sending rule before they reach :class:`RequestHead` (see ``_headers``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final

from ._exceptions import InvalidRequestError, RemoteProtocolError
from ._grammar import FIELD_VALUE_READ, TOKEN

if TYPE_CHECKING:
    import h11

__all__ = [
    "HEAD_END",
    "TARGET",
    "ChunkedBody",
    "ParsedHead",
    "RequestHead",
    "ResponseHead",
    "parse_response_head",
]

HEAD_END: Final = re.compile(rb"\n\r?\n")
"""The end of a head, as h11 finds it (a blank line, with or without CR)."""

# What we read is held to h11's rules (_grammar.FIELD_VALUE_READ), never wider. The
# status line restricted to HTTP/1.1 and final statuses (a reason phrase is h11's:
# spaces, tabs and what a field value may hold); a header line; a folded continuation
# line (obsolete, still read by h11 in trailers); a chunk-size line.
_STATUS_LINE: Final = re.compile(rb"HTTP/1\.1 ([2-9][0-9]{2})(?: ((?:[ \t]|[^\x00\s])*))?")
_HEADER_LINE: Final = re.compile(rb"(" + TOKEN + rb"):[ \t]*(" + FIELD_VALUE_READ + rb")[ \t]*")
# A response head's header lines are checked with operations on the whole head (a
# regex per line, or a regex with h11's value rule over the head, costs several
# times more, since the regex engine spends tens of instructions per byte):
_NOT_IN_HEADS: Final = b"\x00\x0b\x0c"
"""Bytes h11's field rule never takes anywhere in a head: NUL, VT, FF."""
_TOKEN_CHARS: Final = (
    b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)
_CONTINUATION: Final = re.compile(rb"[ \t]+" + FIELD_VALUE_READ + rb"[ \t]*")
_CHUNK_SIZE_LINE: Final = re.compile(rb"([0-9A-Fa-f]{1,20})(?:;.*)?[ \t]*").fullmatch
_MAX_CHUNK_LINE: Final = 4096
_PLAIN_CHUNK: Final = re.compile(rb"([0-9A-Fa-f]{1,20})\r\n").match
"""A plain chunk-size line (no extension) at a position: the fast path of ChunkedBody."""
_TOKEN: Final = re.compile(TOKEN)
TARGET: Final = re.compile(rb"[\x21-\x7e]+")
"""What a request target may hold (as h11 checks it)."""
_DIGITS: Final = re.compile(rb"[0-9]{1,20}")  # h11 allows at most 20 digits

CHUNKED: Final = -1
"""``ParsedHead.body_length`` of a chunked body."""


class RequestHead:
    """A request checked and serialized once, before any connection is touched.

    Attributes:
        method, target: as sent.
        headers: the encoded ``(name, value)`` pairs as sent (Host first), read back
            from ``head`` when asked for (only h11's fallback and tools ask; a request
            in flight keeps its bytes only).
        head: the bytes of the request line and headers (Host first, as h11 writes).
        chunked: the body is sent with chunked framing; else ``length`` bytes.
        length: the declared Content-Length (``None`` without one).
        keep_alive: False when the request itself asks to close the connection.

    Raises:
        InvalidRequestError: what h11 would refuse to send, said plainly.
    """

    __slots__ = ("chunked", "head", "keep_alive", "length", "method", "target")

    def __init__(self, method: bytes, target: bytes, headers: list[tuple[bytes, bytes]]) -> None:
        if _TOKEN.fullmatch(method) is None:
            raise InvalidRequestError(f"method {method!r} is not a valid HTTP method")
        if TARGET.fullmatch(target) is None:
            raise InvalidRequestError(
                f"request target {target!r} has characters HTTP does not allow"
            )
        hosts = 0
        seen: bytes | None = None
        chunked = False
        keep_alive = True
        # As h11 sends them: repeated equal Content-Lengths once, and normalized
        # ("12, 12" -> "12"); the Transfer-Encoding value lowercased; Host first
        # (RFC 9110 asks user agents to send it first).
        host_lines: list[bytes] = []
        lines: list[bytes] = []
        for name, value in headers:
            lower = name.lower()
            if lower == b"host":
                hosts += 1
                host_lines += (name, b": ", value, b"\r\n")
                continue
            if lower == b"content-length":
                values = {v.strip() for v in value.split(b",")}
                only = values.pop() if len(values) == 1 else b""
                if _DIGITS.fullmatch(only) is None or (seen is not None and only != seen):
                    raise InvalidRequestError(f"Content-Length {value!r} is not valid")
                if seen is not None:
                    continue
                seen = value = only
            elif lower == b"transfer-encoding":
                value = value.lower()
                if chunked or value != b"chunked":
                    raise InvalidRequestError(
                        "Transfer-Encoding: only a single 'chunked' is supported"
                    )
                chunked = True
            elif lower == b"connection" and b"close" in _comma_tokens(value):
                keep_alive = False
            lines += (name, b": ", value, b"\r\n")
        if hosts != 1:
            raise InvalidRequestError(
                "a request needs exactly one Host header" if hosts else "missing Host header"
            )
        self.method = method
        self.target = target
        self.chunked = chunked
        self.length = None if chunked or seen is None else int(seen)
        self.keep_alive = keep_alive
        self.head = b"".join((method, b" ", target, b" HTTP/1.1\r\n", *host_lines, *lines, b"\r\n"))

    @classmethod
    def assemble(
        cls,
        method: bytes,
        target: bytes,
        prefix: bytes,
        host: tuple[bytes, bytes],
        headers: list[tuple[bytes, bytes]],
        lines: list[bytes],
        length: int | None,
        chunked: bool = False,
    ) -> RequestHead:
        """The head of a request whose parts were checked already (the common case of
        ``RequestPreparer.prepare``), without checking them again.

        Args:
            method: a token; ``target`` the request target.
            prefix: ``b" " + target + b" HTTP/1.1\\r\\nHost: " + host value + b"\\r\\n"``,
                with the target and the ``host`` pair checked as the constructor would.
            headers: checked pairs, none of them Host, Content-Length,
                Transfer-Encoding or Connection; ``lines`` their serialized lines.
            length: the Content-Length to send, or ``None`` for none.
            chunked: send ``Transfer-Encoding: chunked`` instead (``length`` None).

        The result is what ``RequestHead(method, target, [host, *headers, framing])``
        makes of the same parts.
        """
        self = cls.__new__(cls)
        self.method = method
        self.target = target
        self.chunked = chunked
        self.length = length
        self.keep_alive = True
        if chunked:
            self.head = b"".join((method, prefix, *lines, b"Transfer-Encoding: chunked\r\n\r\n"))
        elif length is not None:
            size = b"%d" % length
            self.head = b"".join((method, prefix, *lines, b"Content-Length: ", size, b"\r\n\r\n"))
        else:
            self.head = b"".join((method, prefix, *lines, b"\r\n"))
        return self

    @property
    def headers(self) -> list[tuple[bytes, bytes]]:
        pairs = []
        for line in self.head.split(b"\r\n")[1:-2]:
            name, _, value = line.partition(b": ")
            pairs.append((name, value))
        return pairs

    def h11_event(self) -> h11.Request:
        """The same request as an h11 event, for handing an exchange to h11.

        Built through h11's public constructor, which checks it again (a few µs, on
        the rare exchanges that fall back to h11). A head the pool prepared passed
        rules at least as strict as h11's, so that check does not fail.
        """
        import h11  # (h11 is imported only when some exchange needs it)

        return h11.Request(method=self.method, target=self.target, headers=self.headers)


class ResponseHead:
    """Status line and headers of a received response (names lowercased bytes)."""

    __slots__ = ("headers", "http_version", "reason", "status")

    def __init__(
        self, status: int, reason: bytes, headers: list[tuple[bytes, bytes]], http_version: bytes
    ) -> None:
        self.status = status
        self.reason = reason
        self.headers = headers
        self.http_version = http_version


class ParsedHead:
    """A response head read by :func:`parse_response_head`.

    ``headers`` are ``(lowercased name, value)`` pairs in order (values without
    surrounding whitespace, a ``transfer-encoding`` value lowercased: as h11 reports
    them). ``body_length`` is the Content-Length, 0 when there is no body, or
    :data:`CHUNKED`. ``keep_alive`` is False when the server says ``Connection: close``.
    """

    __slots__ = ("body_length", "headers", "keep_alive", "reason", "status")

    def __init__(
        self,
        status: int,
        reason: bytes,
        headers: list[tuple[bytes, bytes]],
        body_length: int,
        keep_alive: bool,
    ) -> None:
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body_length = body_length
        self.keep_alive = keep_alive


def _comma_tokens(value: bytes) -> list[bytes]:
    return [t for t in (part.strip() for part in value.lower().split(b",")) if t]


def parse_response_head(data: bytes, end: int, method: bytes) -> ParsedHead | None:
    """Parse the head in ``data[:end]`` (``end`` just after its blank line).

    ``method`` is the request's (a response to HEAD has no body). Returns ``None``
    when the head is not in the plain form this parser takes: the caller must then
    let h11 read it (which may accept it or raise).
    """
    if data[end - 4 : end] != b"\r\n\r\n" or method == b"CONNECT":
        return None
    head = data[: end - 4]
    lines = head.split(b"\r\n")
    match = _STATUS_LINE.fullmatch(lines[0])
    if match is None:
        return None
    # h11's rule for header lines (_grammar.FIELD_VALUE_READ), checked on the whole
    # head: a CR or LF only in the CRLFs between lines (no bare LF, no folding), no
    # NUL, VT or FF, no line starting with a colon; then every line split at its
    # first colon, and every name a token. Values lose the spaces and tabs around them.
    breaks = len(lines) - 1
    if (
        head.count(b"\n") != breaks
        or head.count(b"\r") != breaks
        or len(head.translate(None, _NOT_IN_HEADS)) != len(head)
        or head.find(b"\n:") >= 0  # (find, not `in`: see below)
    ):
        return None
    try:
        headers = [
            (name.lower(), value.strip(b" \t"))
            for name, value in [line.split(b":", 1) for line in lines[1:]]
        ]
    except ValueError:  # a line without a colon
        return None
    if b"".join([name for name, _ in headers]).translate(None, _TOKEN_CHARS):
        return None  # a name that is not a token
    status = int(match[1])
    reason = match[2] or b""
    # The framing, found in the lowercased head (each name at a line start).
    low = head.lower()
    length: int | None = None
    chunked = False
    keep_alive = True
    # (bytes.find, not `in`: `bytes in bytes` first tries the operand as an int and
    # raises and clears a TypeError before searching: ~1 µs each, four per response)
    if low.find(b"\ncontent-length:") >= 0:
        values = [value for name, value in headers if name == b"content-length"]
        if len(values) != 1 or _DIGITS.fullmatch(values[0]) is None:
            return None  # repeated, listed or malformed: h11 decides
        length = int(values[0])
    if low.find(b"\ntransfer-encoding:") >= 0:
        found = [i for i, (name, _) in enumerate(headers) if name == b"transfer-encoding"]
        if len(found) != 1:
            return None
        i = found[0]
        value = headers[i][1].lower()
        if value != b"chunked":
            return None
        headers[i] = (b"transfer-encoding", value)
        chunked = True
    if low.find(b"\nconnection:") >= 0:
        for name, value in headers:
            if name == b"connection" and b"close" in _comma_tokens(value):
                keep_alive = False
    if chunked and length is not None:
        return None  # both framings given: refused by the fallback (RFC 9112 6.3)
    if status in (204, 304) or method == b"HEAD":
        body_length = 0
    elif chunked:
        body_length = CHUNKED
    elif length is not None:
        body_length = length
    else:
        return None  # read until close (HTTP/1.0 style): h11 does that
    return ParsedHead(status, reason, headers, body_length, keep_alive)


class ChunkedBody:
    """Sans-IO decoder of a chunked body (RFC 9112 section 7.1): bytes in, data out.

    :meth:`feed` returns all the data of the pieces fed so far, joined across chunk
    boundaries, so a read holding 200 small chunks costs one call, not 200 events.
    The framing is checked with h11's rules (CRLF line ends, 1-20 hex digits, an
    extension only right after the size, trailers that are header lines or folded
    continuations, then skipped), and a little more strictly: trailer lines must end
    in CRLF. A violation raises :class:`RemoteProtocolError`.
    """

    __slots__ = ("_buffer", "_crlf", "_remaining", "_trailer", "_trailers", "done", "extra")

    def __init__(self) -> None:
        self._buffer = b""  # an incomplete size/trailer line, or a lone CR
        self._remaining = 0  # data bytes left in the current chunk
        self._crlf = False  # the CRLF after a chunk's data is due
        self._trailer = False  # in the trailer section (after the last chunk)
        self._trailers = 0  # trailer lines seen
        self.done = False
        self.extra = False  # bytes came after the end of the body

    def feed(self, data: bytes | bytearray) -> bytes:
        if self._buffer:
            data = self._buffer + data
            self._buffer = b""
        if self.done:
            self.extra = self.extra or bool(data)
            return b""
        out: list[bytes | bytearray] = []
        append = out.append
        pos = 0
        size = len(data)
        remaining = self._remaining
        crlf = self._crlf
        plain = _PLAIN_CHUNK
        while pos < size:
            if not (remaining or crlf or self._trailer):
                # Fast path: a whole chunk (hex size, data, CRLF) starting here.
                match = plain(data, pos)
                if match is not None:
                    start = match.end()
                    end = start + int(match[1], 16)
                    if end > start and data.startswith(b"\r\n", end):
                        append(data[start:end])
                        pos = end + 2
                        continue
            if remaining:
                end = pos + remaining
                if end > size:
                    append(data[pos:])
                    remaining = end - size
                    break
                append(data[pos:end])
                remaining = 0
                crlf = True
                pos = end
            if crlf:
                if size - pos < 2:
                    break
                if data[pos : pos + 2] != b"\r\n":
                    raise RemoteProtocolError(
                        "invalid chunked body: chunk data not followed by CRLF"
                    )
                crlf = False
                pos += 2
                continue
            end = data.find(b"\r\n", pos)
            if end < 0:
                break
            line = data[pos:end]
            pos = end + 2
            if self._trailer:
                if not line:
                    self.done = True
                    self.extra = pos < size
                    break
                # A trailer is a header line, or a folded continuation of the last one.
                if _HEADER_LINE.fullmatch(line) is None and (
                    not self._trailers or _CONTINUATION.fullmatch(line) is None
                ):
                    raise RemoteProtocolError(
                        f"invalid chunked body: bad trailer line {bytes(line[:40])!r}"
                    )
                self._trailers += 1
                continue
            # (A plain size line followed by its whole chunk took the fast path above.)
            match = _CHUNK_SIZE_LINE(line)
            if match is None:
                raise RemoteProtocolError(
                    f"invalid chunked body: bad chunk size line {bytes(line[:20])!r}"
                )
            chunk = int(match[1], 16)
            if not chunk:
                self._trailer = True
            else:
                remaining = chunk
        self._remaining = remaining
        self._crlf = crlf
        if pos < size and not self.done and not remaining:
            rest = data[pos:]
            if len(rest) > _MAX_CHUNK_LINE:
                raise RemoteProtocolError("invalid chunked body: a chunk-size line is too long")
            self._buffer = bytes(rest)
        if not out:
            return b""
        return bytes(out[0]) if len(out) == 1 else b"".join(out)
