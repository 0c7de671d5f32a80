r"""``multipart/form-data`` bodies that stream files instead of reading them whole.

A :class:`MultipartBody` knows its total length up front (part headers plus file
sizes from ``os.fstat``), so uploads go out with ``Content-Length`` rather than
chunked encoding, and it is *replayable*: every ``__aiter__`` starts again from the
beginning (re-opening a path, or seeking a file object back), so the pool and the
retry loop may send it again. A file object that cannot seek makes the body
non-replayable, and such an upload is not retried.

Files are read in 256 KiB pieces with a checkpoint after each; local reads of that
size are short, so they run on the trio thread rather than in a worker thread.

Part headers are built from what the caller gives (a filename, a content type), so
nothing may break out of them: a content type must be an HTTP field value as we
send any header (``_http._grammar.FIELD_VALUE_SENT_STR``: visible characters, inner
spaces or tabs, no CR, LF, NUL or other control character), and a filename may hold
no control character at all; both are a :class:`~trio_openai.errors.ValidationError`
naming the field (``file.content_type``, ``file.filename``) before anything is sent.
Within those rules a filename is sent as an RFC 9110 quoted-string (``"`` and ``\``
backslash-escaped, other characters as UTF-8, as RFC 7578 allows), never altered.
Options rejected: dropping CR/LF from a name silently (the server would store a
name the caller never gave) and percent-encoding quotes (servers read quoted-string
escapes, not URL escapes, in ``Content-Disposition``).
"""

from __future__ import annotations

import io
import mimetypes
import os
import re
import secrets
from collections.abc import AsyncIterator, Iterable
from typing import IO, TypeAlias, Union

import trio

from ._http._grammar import FIELD_VALUE_SENT_STR
from .errors import Problem, ValidationError

__all__ = ["FileInput", "FileRange", "MultipartBody", "file_part"]

CHUNK = 256 * 1024


class FileRange:
    """``length`` bytes of the file at ``path`` from ``offset`` on: one part of a
    large file, read from disk as it is sent (never whole), as often as the body is
    replayed."""

    __slots__ = ("length", "offset", "path")

    def __init__(self, path: str | os.PathLike[str], offset: int, length: int) -> None:
        self.path = os.fspath(path)
        self.offset = offset
        self.length = length

    def __repr__(self) -> str:
        return f"FileRange({self.path!r}, offset={self.offset}, length={self.length})"


FileContent: TypeAlias = Union[bytes, "os.PathLike[str]", str, IO[bytes], FileRange]
FileInput: TypeAlias = FileContent | tuple[str, FileContent] | tuple[str, FileContent, str]
"""A path, bytes, a binary file object, or ``(filename, content[, content_type])``."""


class _Part:
    __slots__ = ("content", "head", "size", "start")

    def __init__(
        self, head: bytes, content: bytes | str | IO[bytes], size: int, start: int = 0
    ) -> None:
        self.head = head
        self.content = content  # bytes, a path (str), or a file object
        self.size = size
        self.start = start


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _quote(value: str) -> str:
    """``value`` as the inside of a quoted-string (checked by :func:`_checked_name`)."""
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _checked_name(field: str, value: str) -> str:
    """A part's ``name`` or ``filename``: any text but control characters."""
    if _CONTROL.search(value):
        raise ValidationError(
            [Problem(field, "must not contain control characters (CR, LF, NUL, ...)", repr(value))]
        )
    return value


def _checked_content_type(field: str, value: str) -> str:
    """A part's ``Content-Type``: an HTTP field value as we send one."""
    if not FIELD_VALUE_SENT_STR.fullmatch(value):
        raise ValidationError(
            [
                Problem(
                    field,
                    "must be a header value: visible characters with inner spaces, "
                    "no CR, LF or other control character",
                    repr(value),
                )
            ]
        )
    return value


def file_part(field: str, value: FileInput) -> tuple[str, bytes | str | IO[bytes], int, int, str]:
    """Normalize an upload: ``(filename, content, size, start, content_type)``.

    Raises:
        FileNotFoundError: a path that does not exist (named).
        TypeError: a value that is none of the accepted kinds (named).
        ValidationError: a filename or content type that cannot go into a part header
            (``<field>.filename``, ``<field>.content_type``).
    """
    name, content, size, start, ctype = _file_part(field, value)
    _checked_name(f"{field}.filename", name)
    _checked_content_type(f"{field}.content_type", ctype)
    return name, content, size, start, ctype


def _file_part(field: str, value: FileInput) -> tuple[str, bytes | str | IO[bytes], int, int, str]:
    filename: str | None = None
    content_type: str | None = None
    content: object = value
    if isinstance(value, tuple):
        if len(value) not in (2, 3) or not isinstance(value[0], str):
            raise TypeError(f"{field}: expected (filename, content[, content_type])")
        filename, content = value[0], value[1]
        if len(value) == 3:
            content_type = value[2]
            if not isinstance(content_type, str):
                raise TypeError(f"{field}: the content type must be a str")
    if isinstance(content, FileRange):
        if not os.path.isfile(content.path):
            raise FileNotFoundError(f"{field}: file {content.path!r} does not exist")
        name = filename or os.path.basename(content.path)
        ctype = content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
        return name, content.path, content.length, content.offset, ctype
    if isinstance(content, os.PathLike):
        content = os.fspath(content)
    if isinstance(content, str):
        if not os.path.isfile(content):
            raise FileNotFoundError(f"{field}: file {content!r} does not exist")
        size = os.path.getsize(content)
        name = filename or os.path.basename(content)
        ctype = content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
        return name, content, size, 0, ctype
    if isinstance(content, (bytes, bytearray, memoryview)):
        data = bytes(content)
        name = filename or "upload"
        ctype = content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
        return name, data, len(data), 0, ctype
    if isinstance(content, io.IOBase) or hasattr(content, "read"):
        fobj: IO[bytes] = content  # type: ignore[assignment]
        raw_name = getattr(fobj, "name", None)
        name = filename or (os.path.basename(raw_name) if isinstance(raw_name, str) else "upload")
        ctype = content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
        try:
            start = fobj.tell()
            if isinstance(fobj, io.BytesIO):
                size = fobj.getbuffer().nbytes - start
            else:
                size = os.fstat(fobj.fileno()).st_size - start
        except (OSError, AttributeError, ValueError, io.UnsupportedOperation):
            start, size = -1, -1
        return name, fobj, size, start, ctype
    raise TypeError(
        f"{field}: expected a path, bytes, a binary file object or (filename, content), "
        f"got {type(content).__name__}"
    )


class MultipartBody:
    """A streaming ``multipart/form-data`` body (replayable when its files can seek)."""

    __slots__ = ("_parts", "_tail", "boundary", "content_length", "fields", "replayable")

    def __init__(
        self,
        fields: Iterable[tuple[str, str]],
        files: Iterable[tuple[str, FileInput]],
    ) -> None:
        fields = tuple(fields)
        self.fields = fields  # the text fields, as given (a URL may depend on them)
        self.boundary = secrets.token_hex(16)
        b = self.boundary.encode("ascii")
        parts: list[_Part] = []
        for name, value in fields:
            head = (
                b"--" + b + b"\r\n"
                b'Content-Disposition: form-data; name="'
                + _quote(_checked_name(name, name)).encode()
                + b'"\r\n\r\n'
            )
            data = value.encode("utf-8")
            parts.append(_Part(head, data, len(data)))
        replayable = True
        for field, spec in files:
            filename, content, size, start, ctype = file_part(field, spec)
            head = (
                b"--" + b + b"\r\n"
                b'Content-Disposition: form-data; name="'
                + _quote(_checked_name(field, field)).encode()
                + b'"; filename="'
                + _quote(filename).encode()
                + b'"\r\nContent-Type: '
                + ctype.encode("latin-1")
                + b"\r\n\r\n"
            )
            if size < 0:
                replayable = False
            parts.append(_Part(head, content, size, start))
        self._parts = parts
        self._tail = b"--" + b + b"--\r\n"
        self.replayable = replayable
        if all(p.size >= 0 for p in parts):
            self.content_length: int | None = sum(len(p.head) + p.size + 2 for p in parts) + len(
                self._tail
            )
        else:
            self.content_length = None

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def __aiter__(self) -> AsyncIterator[bytes]:
        return _MultipartIterator(self._parts, self._tail)


class _MultipartIterator:
    """Yields the body piece by piece. A path-backed part is opened for each piece and
    closed before the piece is handed out, so nothing stays open across the await that
    sends it: whoever stops iterating (a cancelled or failed send) leaves no file open.
    A caller's file object is read from where the part starts and never closed here."""

    __slots__ = ("_file", "_left", "_offset", "_part", "_parts", "_tail")

    def __init__(self, parts: list[_Part], tail: bytes) -> None:
        self._parts = iter(parts)
        self._tail: bytes | None = tail
        self._part: _Part | None = None
        self._file: IO[bytes] | None = None  # the caller's file object (never closed here)
        self._offset = 0  # where the next piece of a path-backed part starts
        self._left = -1  # bytes still to read of the part (-1: to EOF)

    def __aiter__(self) -> _MultipartIterator:
        return self

    async def __anext__(self) -> bytes:
        await trio.lowlevel.checkpoint()
        while True:
            part = self._part
            if part is None:
                nxt = next(self._parts, None)
                if nxt is None:
                    tail, self._tail = self._tail, None
                    if tail is None:
                        raise StopAsyncIteration
                    return tail
                self._part = nxt
                self._offset = max(nxt.start, 0)
                self._left = nxt.size if isinstance(nxt.content, str) else -1
                return nxt.head
            content = part.content
            if isinstance(content, bytes):
                self._part = None
                return content + b"\r\n"
            left = self._left
            size = CHUNK if left < 0 else min(CHUNK, left)
            if isinstance(content, str):
                with open(content, "rb") as f:  # noqa: ASYNC230 - see module doc
                    f.seek(self._offset)
                    data = f.read(size)
                self._offset += len(data)
            else:
                if self._file is None:
                    self._file = content
                    if part.start >= 0:
                        content.seek(part.start)
                data = self._file.read(size)
            if data:
                if left >= 0:
                    self._left = left - len(data)
                return data
            self._file = None
            self._part = None
            return b"\r\n"
