"""``client.files``: multipart upload streamed from disk, list, retrieve, content, delete."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .._types import NotGiven
from ..errors import Problem, ValidationError
from ..types.files import FileDeleted, FileObject
from ._base import Resource, multipart_body, path_id
from ._binary import BinaryResponse

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .._multipart import FileInput, MultipartBody
    from .._pagination import PageRequest
    from ..types._generated.files import FileExpirationAfter, FilePurpose
    from ..types._generated.shared import ListOrder
    from ._base import CallOptions

__all__ = ["FILE_PURPOSES", "Files"]

FILE_PURPOSES = frozenset({"assistants", "batch", "fine-tune", "vision", "user_data", "evals"})


class Files(Resource):
    """``/files``."""

    __slots__ = ()

    async def create(
        self,
        *,
        file: FileInput,
        purpose: FilePurpose,
        expires_after: FileExpirationAfter | NotGiven | None = None,
        **options: Unpack[CallOptions],
    ) -> FileObject:
        """Upload ``file`` (a path, bytes, a binary file object, or
        ``(filename, content[, content_type])``). Files are streamed, not read whole.

        Raises:
            ValidationError: unknown purpose, a missing file, a bad ``expires_after``.
        """
        problems = []
        if purpose not in FILE_PURPOSES:
            problems.append(
                Problem(
                    "purpose", f"must be one of {', '.join(sorted(FILE_PURPOSES))}", repr(purpose)
                )
            )
        fields = [("purpose", str(purpose))]
        if expires_after is not None and not isinstance(expires_after, NotGiven):
            anchor: object = expires_after.get("anchor")  # typed, but checked at run time
            seconds: object = expires_after.get("seconds")
            if anchor != "created_at":
                problems.append(
                    Problem("expires_after.anchor", "must be 'created_at'", repr(anchor))
                )
            if not isinstance(seconds, int) or not 3600 <= seconds <= 2592000:
                problems.append(
                    Problem(
                        "expires_after.seconds",
                        "must be an int from 3600 to 2592000",
                        repr(seconds),
                    )
                )
            fields += [
                ("expires_after[anchor]", str(anchor)),
                ("expires_after[seconds]", str(seconds)),
            ]
        body = multipart_body(fields, [("file", file)], problems)
        if problems or body is None:
            raise ValidationError(problems)
        rest: dict[str, Any] = dict(options)
        return await self._client._call(
            "POST",
            "/files",
            cast_to=FileObject,
            content=body if body.replayable else _once(body),
            content_type=body.content_type,
            extra_headers=_length_header(body, rest.pop("extra_headers", None)),
            **rest,
        )

    def list(
        self,
        *,
        after: str | NotGiven | None = None,
        limit: int | NotGiven | None = None,
        order: ListOrder | NotGiven | None = None,
        purpose: str | NotGiven | None = None,
        **options: Unpack[CallOptions],
    ) -> PageRequest[FileObject]:
        query = {"after": after, "limit": limit, "order": order, "purpose": purpose}
        return self._client._list("/files", FileObject, query, options)

    async def retrieve(self, file_id: str, **options: Unpack[CallOptions]) -> FileObject:
        return await self._client._call(
            "GET", f"/files/{path_id(file_id, 'file_id')}", cast_to=FileObject, **options
        )

    async def delete(self, file_id: str, **options: Unpack[CallOptions]) -> FileDeleted:
        return await self._client._call(
            "DELETE", f"/files/{path_id(file_id, 'file_id')}", cast_to=FileDeleted, **options
        )

    async def content(self, file_id: str, **options: Unpack[CallOptions]) -> BinaryResponse:
        """The file's bytes, streamed: ``async with await client.files.content(id) as r:``."""
        response = await self._client._call_raw(
            "GET",
            f"/files/{path_id(file_id, 'file_id')}/content",
            accept="application/binary",
            **options,
        )
        return BinaryResponse(response)


def _length_header(
    body: MultipartBody, extra: Mapping[str, str] | None
) -> Mapping[str, str] | None:
    if body.content_length is None:
        return extra
    headers = {"Content-Length": str(body.content_length)}
    if extra:
        headers.update(extra)
    return headers


class _once:
    """Wrap a non-replayable body so the pool sees an iterator (sent once, not retried)."""

    __slots__ = ("_it",)

    def __init__(self, body: MultipartBody) -> None:
        self._it = body.__aiter__()

    def __aiter__(self) -> Any:
        return self._it

    async def __anext__(self) -> bytes:
        return await self._it.__anext__()
