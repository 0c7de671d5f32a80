"""``client.uploads``: a large file sent in parts (``/uploads``).

An upload is created with the file's name, size, MIME type and purpose; parts of
up to 64 MB each are added (``client.uploads.parts.create``, or
:meth:`Uploads.add_part`); completing it with the part ids in order makes one
:class:`~trio_openai.types.FileObject` (``upload.file``). An upload takes at most
8 GB and expires an hour after it was created.

:meth:`Uploads.upload_file_chunked` does all three steps for a file on disk (or in
memory), as the official SDK's helper of that name does. Each part goes as a
:class:`~trio_openai._multipart.FileRange` of the file, read from disk piece by
piece as it is sent: memory holds one read buffer, not a part, and a part that is
retried is read again from the file.
"""

from __future__ import annotations

import builtins
import os
from typing import TYPE_CHECKING, Final

from ..._multipart import FileRange
from ..._types import NOT_GIVEN, NotGiven
from ...errors import Problem, ValidationError
from ...types.files import Upload, UploadPart
from ...types.uploads import UploadCompleteParams, UploadCreateParams
from .._base import Resource, build_body, encode_body, path_id
from .._params import given
from .parts import Parts

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from typing_extensions import Unpack

    from ..._multipart import FileInput
    from ...types._generated.files import FileExpirationAfter
    from ...types._generated.uploads import UploadPurpose
    from .._base import CallOptions

__all__ = ["DEFAULT_PART_SIZE", "Uploads"]

DEFAULT_PART_SIZE: Final = 64 * 1024 * 1024
"""The size of each part :meth:`Uploads.upload_file_chunked` sends (the API's limit)."""


class Uploads(Resource):
    """``/uploads``."""

    __slots__ = ()

    @property
    def parts(self) -> Parts:
        return Parts(self._client)

    async def create(
        self,
        *,
        bytes: int,
        filename: str,
        mime_type: str,
        purpose: UploadPurpose,
        expires_after: FileExpirationAfter | NotGiven = NOT_GIVEN,
        extra_body: Mapping[str, object] | None = None,
        **options: Unpack[CallOptions],
    ) -> Upload:
        """Start an upload of ``bytes`` bytes; add parts, then :meth:`complete` it.

        Raises:
            ValidationError: every problem with the arguments; nothing was sent.
        """
        params = given(
            bytes=bytes,
            filename=filename,
            mime_type=mime_type,
            purpose=purpose,
            expires_after=expires_after,
        )
        body = build_body(UploadCreateParams, params, extra_body)
        return await self._client._call(
            "POST", "/uploads", json=encode_body(body, extra_body), cast_to=Upload, **options
        )

    async def add_part(
        self, upload_id: str, *, data: FileInput, **options: Unpack[CallOptions]
    ) -> UploadPart:
        """The same as ``client.uploads.parts.create(upload_id, data=...)``."""
        return await self.parts.create(upload_id, data=data, **options)

    async def complete(
        self,
        upload_id: str,
        *,
        part_ids: list[str],
        md5: str | NotGiven = NOT_GIVEN,
        extra_body: Mapping[str, object] | None = None,
        **options: Unpack[CallOptions],
    ) -> Upload:
        """Finish the upload: its parts, in ``part_ids`` order, become one file
        (``upload.file``); ``md5`` (hex) is checked against the bytes received."""
        path = f"/uploads/{path_id(upload_id, 'upload_id')}/complete"
        body = build_body(UploadCompleteParams, given(part_ids=part_ids, md5=md5), extra_body)
        return await self._client._call(
            "POST", path, json=encode_body(body, extra_body), cast_to=Upload, **options
        )

    async def cancel(self, upload_id: str, **options: Unpack[CallOptions]) -> Upload:
        """Cancel the upload; no part may be added afterwards."""
        path = f"/uploads/{path_id(upload_id, 'upload_id')}/cancel"
        return await self._client._call("POST", path, cast_to=Upload, **options)

    async def upload_file_chunked(
        self,
        *,
        file: str | os.PathLike[str] | builtins.bytes,
        mime_type: str,
        purpose: UploadPurpose,
        filename: str | None = None,
        bytes: int | None = None,
        part_size: int | None = None,
        md5: str | NotGiven = NOT_GIVEN,
    ) -> Upload:
        """Upload ``file`` (a path, or the bytes themselves) in parts, then complete it.

        Parts are sent one after another, each read from disk as it is sent.

        Args:
            file: a path, or the file's bytes (then ``filename`` is required).
            mime_type, purpose: as for :meth:`create`.
            filename: the name to store (default: the path's base name).
            bytes: the size to announce (default: the file's size; a path must
                still hold that many bytes).
            part_size: bytes per part (default 64 MiB, the API's largest).
            md5: the hex MD5 of the whole file, checked by the server.

        Returns:
            The completed :class:`~trio_openai.types.Upload` (``upload.file`` is
            the new file).

        Raises:
            ValidationError: a bad argument (a missing file or filename, a part size
                below 1, more bytes announced than the file holds); nothing was sent.
        """
        source = _Source(file, filename, bytes, part_size)
        upload = await self.create(
            bytes=source.size, filename=source.filename, mime_type=mime_type, purpose=purpose
        )
        part_ids: list[str] = []
        for piece in source.pieces():
            part = await self.parts.create(upload.id, data=piece)
            part_ids.append(part.id)
        return await self.complete(upload.id, part_ids=part_ids, md5=md5)


class _Source:
    """What :meth:`Uploads.upload_file_chunked` sends: the file (a path or bytes),
    its name and announced size, cut into parts.

    Raises:
        ValidationError: every problem with the arguments.
    """

    __slots__ = ("_data", "_path", "_step", "filename", "size")

    def __init__(
        self,
        file: str | os.PathLike[str] | builtins.bytes,
        filename: str | None,
        size: int | None,
        part_size: int | None,
    ) -> None:
        step = part_size if part_size is not None else DEFAULT_PART_SIZE
        problems: list[Problem] = []
        if isinstance(step, builtins.bool) or not isinstance(step, int) or step < 1:
            problems.append(Problem("part_size", "must be an int >= 1", repr(part_size)))
        self._data: builtins.bytes | None = None
        self._path: str | None = None
        if isinstance(file, (builtins.bytes, bytearray, memoryview)):
            self._data = builtins.bytes(file)
            total = len(self._data)
            if filename is None:
                problems.append(Problem("filename", "is required when file is bytes", None))
        else:
            self._path = os.fspath(file)
            if not os.path.isfile(self._path):
                raise ValidationError([Problem("file", "is not a file", repr(self._path))])
            total = os.path.getsize(self._path)
            if filename is None:
                filename = os.path.basename(self._path)
        announced = total if size is None else size
        if isinstance(announced, builtins.bool) or not isinstance(announced, int):
            problems.append(Problem("bytes", "must be an int", repr(size)))
        elif not 0 <= announced <= total:
            problems.append(
                Problem("bytes", f"must be from 0 to the file's size ({total})", repr(size))
            )
        if problems:
            raise ValidationError(problems)
        assert filename is not None
        self.filename = filename
        self.size = announced
        self._step = step

    def pieces(self) -> Iterator[FileInput]:
        """The parts in order: slices of the bytes, or ranges of the file on disk.

        Each goes as a file named ``upload`` (what the official SDK sends for a
        part; the server ignores the name and keeps the upload's ``filename``).
        """
        for offset in range(0, self.size, self._step):
            length = min(self._step, self.size - offset)
            if self._data is not None:
                yield ("upload", self._data[offset : offset + length])
            else:
                assert self._path is not None
                yield ("upload", FileRange(self._path, offset, length))
