"""``multipart/form-data`` bodies that stream files instead of reading them whole.

A :class:`MultipartBody` knows its total length up front (part headers plus file
sizes from ``os.fstat``), so uploads go out with ``Content-Length`` rather than
chunked encoding, and it is *replayable*: every ``__aiter__`` starts again from the
beginning (re-opening a path, or seeking a file object back), so the pool and the
retry loop may send it again. A file object that cannot seek makes the body
non-replayable, and such an upload is not retried.

Files are read in 256 KiB pieces with a checkpoint after each; local reads of that
size are short, so they run on the trio thread rather than in a worker thread. A file
given by path is opened for each piece and closed before the piece is sent: an upload
abandoned midway (cancelled, failed) leaves no file open, although whoever iterates
the body never tells the iterator it stopped.
"""

from __future__ import annotations

import io
import mimetypes
import os
import secrets
from collections.abc import AsyncIterator, Iterable
from typing import IO, TypeAlias, Union

import trio

__all__ = ["FileInput", "MultipartBody", "file_part"]

CHUNK = 256 * 1024

FileContent: TypeAlias = Union[bytes, "os.PathLike[str]", str, IO[bytes]]
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


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "").replace("\n", "")


def file_part(field: str, value: FileInput) -> tuple[str, bytes | str | IO[bytes], int, int, str]:
    """Normalize an upload: ``(filename, content, size, start, content_type)``.

    Raises:
        FileNotFoundError: a path that does not exist (named).
        TypeError: a value that is none of the accepted kinds (named).
    """
    filename: str | None = None
    content_type: str | None = None
    content: object = value
    if isinstance(value, tuple):
        if len(value) not in (2, 3) or not isinstance(value[0], str):
            raise TypeError(f"{field}: expected (filename, content[, content_type])")
        filename, content = value[0], value[1]
        if len(value) == 3:
            content_type = value[2]
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

    __slots__ = ("_parts", "_tail", "boundary", "content_length", "replayable")

    def __init__(
        self,
        fields: Iterable[tuple[str, str]],
        files: Iterable[tuple[str, FileInput]],
    ) -> None:
        self.boundary = secrets.token_hex(16)
        b = self.boundary.encode("ascii")
        parts: list[_Part] = []
        for name, value in fields:
            head = (
                b"--" + b + b"\r\n"
                b'Content-Disposition: form-data; name="' + _quote(name).encode() + b'"\r\n\r\n'
            )
            data = value.encode("utf-8")
            parts.append(_Part(head, data, len(data)))
        replayable = True
        for field, spec in files:
            filename, content, size, start, ctype = file_part(field, spec)
            head = (
                b"--" + b + b"\r\n"
                b'Content-Disposition: form-data; name="'
                + _quote(field).encode()
                + b'"; filename="'
                + _quote(filename).encode()
                + b'"\r\nContent-Type: '
                + ctype.encode("latin-1", "replace")
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
    """Yields the body piece by piece; opens and closes path-backed files itself."""

    __slots__ = ("_file", "_offset", "_part", "_parts", "_tail")

    def __init__(self, parts: list[_Part], tail: bytes) -> None:
        self._parts = iter(parts)
        self._tail: bytes | None = tail
        self._part: _Part | None = None
        self._file: IO[bytes] | None = None  # the caller's file object (never closed here)
        self._offset = 0  # where the next piece of a path-backed file starts

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
                self._offset = 0
                return nxt.head
            content = part.content
            if isinstance(content, bytes):
                self._part = None
                return content + b"\r\n"
            if isinstance(content, str):
                # Opened per piece (see the module doc): nothing stays open across the
                # await that sends the piece.
                with open(content, "rb") as f:  # noqa: ASYNC230 - see module doc
                    f.seek(self._offset)
                    data = f.read(CHUNK)
                self._offset += len(data)
            else:
                if self._file is None:
                    self._file = content
                    if part.start >= 0:
                        content.seek(part.start)
                data = self._file.read(CHUNK)
            if data:
                return data
            self._file = None
            self._part = None
            return b"\r\n"
