"""``client.vector_stores.files``: the files of one vector store.

Adding a file (already uploaded with ``client.files.create``) starts its
processing (chunking, embedding): the file is ``in_progress`` until it is
``completed`` or ``failed``. :meth:`Files.create_and_poll` waits for that;
:meth:`Files.upload_and_poll` uploads a local file first. Signatures follow the
official SDK: the file id first, the store as ``vector_store_id=``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..._pagination import PageRequest
from ..._types import NOT_GIVEN, NotGiven
from ...types.vector_stores import (
    FileContentPage,
    FileContentResponse,
    FileCreateParams,
    FileUpdateParams,
    VectorStoreFile,
    VectorStoreFileDeleted,
)
from .._base import Resource, build_body, encode_body, path_id
from .._params import given, poll
from ..files import Files as FileUploads
from ._beta import beta_options

if TYPE_CHECKING:
    from collections.abc import Mapping

    from typing_extensions import Unpack

    from ..._multipart import FileInput
    from ...types._generated.shared import ListOrder, VectorStoreFileAttributes
    from ...types._generated.vector_stores import (
        ChunkingStrategyRequestParam,
        VectorStoreFileStatusFilter,
    )
    from .._base import CallOptions

__all__ = ["Files"]


def _store_path(vector_store_id: str) -> str:
    return f"/vector_stores/{path_id(vector_store_id, 'vector_store_id')}/files"


def _file_path(vector_store_id: str, file_id: str) -> str:
    return f"{_store_path(vector_store_id)}/{path_id(file_id, 'file_id')}"


class Files(Resource):
    """``/vector_stores/{vector_store_id}/files``."""

    __slots__ = ()

    async def create(
        self,
        vector_store_id: str,
        *,
        file_id: str,
        attributes: VectorStoreFileAttributes | NotGiven = NOT_GIVEN,
        chunking_strategy: ChunkingStrategyRequestParam | NotGiven = NOT_GIVEN,
        extra_body: Mapping[str, object] | None = None,
        **options: Unpack[CallOptions],
    ) -> VectorStoreFile:
        """Add the uploaded file ``file_id`` to the store (processing starts).

        Raises:
            ValidationError: every problem with the arguments; nothing was sent.
        """
        path = _store_path(vector_store_id)
        params = given(file_id=file_id, attributes=attributes, chunking_strategy=chunking_strategy)
        body = build_body(FileCreateParams, params, extra_body)
        return await self._client._call(
            "POST",
            path,
            json=encode_body(body, extra_body),
            cast_to=VectorStoreFile,
            **beta_options(options),
        )

    async def retrieve(
        self, file_id: str, *, vector_store_id: str, **options: Unpack[CallOptions]
    ) -> VectorStoreFile:
        return await self._client._call(
            "GET",
            _file_path(vector_store_id, file_id),
            cast_to=VectorStoreFile,
            **beta_options(options),
        )

    async def update(
        self,
        file_id: str,
        *,
        vector_store_id: str,
        attributes: Mapping[str, str | float | bool] | None,
        extra_body: Mapping[str, object] | None = None,
        **options: Unpack[CallOptions],
    ) -> VectorStoreFile:
        """Replace the file's attributes (``None`` clears them)."""
        path = _file_path(vector_store_id, file_id)
        body = build_body(FileUpdateParams, {"attributes": attributes}, extra_body)
        return await self._client._call(
            "POST",
            path,
            json=encode_body(body, extra_body),
            cast_to=VectorStoreFile,
            **beta_options(options),
        )

    def list(
        self,
        vector_store_id: str,
        *,
        after: str | None = None,
        before: str | None = None,
        filter: VectorStoreFileStatusFilter | None = None,
        limit: int | None = None,
        order: ListOrder | None = None,
        **options: Unpack[CallOptions],
    ) -> PageRequest[VectorStoreFile]:
        query = {"after": after, "before": before, "filter": filter, "limit": limit, "order": order}
        return self._client._list(
            _store_path(vector_store_id), VectorStoreFile, query, beta_options(options)
        )

    async def delete(
        self, file_id: str, *, vector_store_id: str, **options: Unpack[CallOptions]
    ) -> VectorStoreFileDeleted:
        """Remove the file from the store (the file itself stays in ``/files``)."""
        return await self._client._call(
            "DELETE",
            _file_path(vector_store_id, file_id),
            cast_to=VectorStoreFileDeleted,
            **beta_options(options),
        )

    def content(
        self, file_id: str, *, vector_store_id: str, **options: Unpack[CallOptions]
    ) -> PageRequest[FileContentResponse]:
        """The file's parsed text, as a page of ``{"type": "text", "text": ...}``."""
        path = f"{_file_path(vector_store_id, file_id)}/content"
        client = self._client
        call_options = beta_options(options)

        async def fetch(cursor: Mapping[str, object]) -> FileContentPage:
            return await client._call(
                "GET", path, cast_to=FileContentPage, query=cursor, **call_options
            )

        return PageRequest(fetch, {})

    async def poll(
        self,
        file_id: str,
        *,
        vector_store_id: str,
        poll_interval_ms: int | NotGiven = NOT_GIVEN,
    ) -> VectorStoreFile:
        """Wait until the file is no longer ``in_progress``; return it (check its
        ``status``: it may have ``failed``)."""

        async def retrieve(headers: dict[str, str]) -> VectorStoreFile:
            return await self.retrieve(
                file_id, vector_store_id=vector_store_id, extra_headers=headers
            )

        return await poll(retrieve, poll_interval_ms)

    async def create_and_poll(
        self,
        file_id: str,
        *,
        vector_store_id: str,
        attributes: VectorStoreFileAttributes | NotGiven = NOT_GIVEN,
        chunking_strategy: ChunkingStrategyRequestParam | NotGiven = NOT_GIVEN,
        poll_interval_ms: int | NotGiven = NOT_GIVEN,
    ) -> VectorStoreFile:
        """:meth:`create`, then :meth:`poll` until the file is processed."""
        created = await self.create(
            vector_store_id,
            file_id=file_id,
            attributes=attributes,
            chunking_strategy=chunking_strategy,
        )
        return await self.poll(
            created.id, vector_store_id=vector_store_id, poll_interval_ms=poll_interval_ms
        )

    async def upload(
        self,
        *,
        vector_store_id: str,
        file: FileInput,
        chunking_strategy: ChunkingStrategyRequestParam | NotGiven = NOT_GIVEN,
    ) -> VectorStoreFile:
        """Upload ``file`` (``purpose="assistants"``), then add it to the store."""
        uploaded = await FileUploads(self._client).create(file=file, purpose="assistants")
        return await self.create(
            vector_store_id, file_id=uploaded.id, chunking_strategy=chunking_strategy
        )

    async def upload_and_poll(
        self,
        *,
        vector_store_id: str,
        file: FileInput,
        attributes: VectorStoreFileAttributes | NotGiven = NOT_GIVEN,
        chunking_strategy: ChunkingStrategyRequestParam | NotGiven = NOT_GIVEN,
        poll_interval_ms: int | NotGiven = NOT_GIVEN,
    ) -> VectorStoreFile:
        """Upload ``file``, add it to the store and wait until it is processed."""
        uploaded = await FileUploads(self._client).create(file=file, purpose="assistants")
        return await self.create_and_poll(
            uploaded.id,
            vector_store_id=vector_store_id,
            attributes=attributes,
            chunking_strategy=chunking_strategy,
            poll_interval_ms=poll_interval_ms,
        )
