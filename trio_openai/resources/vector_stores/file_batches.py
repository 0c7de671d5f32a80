"""``client.vector_stores.file_batches``: many files added to a vector store at once.

A batch adds up to 2000 uploaded files (``file_ids``, or ``files`` with their own
attributes) and is ``in_progress`` until every file is processed;
:meth:`FileBatches.create_and_poll` waits for that, and
:meth:`FileBatches.list_files` lists the batch's files by status. Signatures follow
the official SDK: the batch id first, the store as ``vector_store_id=``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..._types import NOT_GIVEN, NotGiven
from ...types.vector_stores import FileBatchCreateParams, VectorStoreFile, VectorStoreFileBatch
from .._base import Resource, build_body, encode_body, path_id
from .._params import given, poll
from ._beta import beta_options

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from typing_extensions import Unpack

    from ..._pagination import PageRequest
    from ...types._generated.shared import ListOrder, VectorStoreFileAttributes
    from ...types._generated.vector_stores import (
        ChunkingStrategyRequestParam,
        VectorStoreFileBatchFile,
        VectorStoreFileStatusFilter,
    )
    from .._base import CallOptions

__all__ = ["FileBatches"]


def _batches_path(vector_store_id: str) -> str:
    return f"/vector_stores/{path_id(vector_store_id, 'vector_store_id')}/file_batches"


def _batch_path(vector_store_id: str, batch_id: str) -> str:
    return f"{_batches_path(vector_store_id)}/{path_id(batch_id, 'batch_id')}"


class FileBatches(Resource):
    """``/vector_stores/{vector_store_id}/file_batches``."""

    __slots__ = ()

    async def create(
        self,
        vector_store_id: str,
        *,
        attributes: VectorStoreFileAttributes | NotGiven = NOT_GIVEN,
        chunking_strategy: ChunkingStrategyRequestParam | NotGiven = NOT_GIVEN,
        file_ids: Sequence[str] | NotGiven = NOT_GIVEN,
        files: Iterable[VectorStoreFileBatchFile] | NotGiven = NOT_GIVEN,
        extra_body: Mapping[str, object] | None = None,
        **options: Unpack[CallOptions],
    ) -> VectorStoreFileBatch:
        """Add files to the store in one batch (``file_ids`` or ``files``, not both).

        Raises:
            ValidationError: every problem with the arguments; nothing was sent.
        """
        if not isinstance(files, NotGiven) and not isinstance(files, (list, tuple)):
            files = list(files)
        params = given(
            attributes=attributes,
            chunking_strategy=chunking_strategy,
            file_ids=file_ids,
            files=files,
        )
        body = build_body(FileBatchCreateParams, params, extra_body)
        return await self._client._call(
            "POST",
            _batches_path(vector_store_id),
            json=encode_body(body, extra_body),
            cast_to=VectorStoreFileBatch,
            **beta_options(options),
        )

    async def retrieve(
        self, batch_id: str, *, vector_store_id: str, **options: Unpack[CallOptions]
    ) -> VectorStoreFileBatch:
        return await self._client._call(
            "GET",
            _batch_path(vector_store_id, batch_id),
            cast_to=VectorStoreFileBatch,
            **beta_options(options),
        )

    async def cancel(
        self, batch_id: str, *, vector_store_id: str, **options: Unpack[CallOptions]
    ) -> VectorStoreFileBatch:
        """Stop processing the batch's files that have not been processed yet."""
        return await self._client._call(
            "POST",
            f"{_batch_path(vector_store_id, batch_id)}/cancel",
            cast_to=VectorStoreFileBatch,
            **beta_options(options),
        )

    def list_files(
        self,
        batch_id: str,
        *,
        vector_store_id: str,
        after: str | None = None,
        before: str | None = None,
        filter: VectorStoreFileStatusFilter | None = None,
        limit: int | None = None,
        order: ListOrder | None = None,
        **options: Unpack[CallOptions],
    ) -> PageRequest[VectorStoreFile]:
        query = {"after": after, "before": before, "filter": filter, "limit": limit, "order": order}
        return self._client._list(
            f"{_batch_path(vector_store_id, batch_id)}/files",
            VectorStoreFile,
            query,
            beta_options(options),
        )

    async def poll(
        self,
        batch_id: str,
        *,
        vector_store_id: str,
        poll_interval_ms: int | NotGiven = NOT_GIVEN,
    ) -> VectorStoreFileBatch:
        """Wait until the batch is no longer ``in_progress``; return it (its
        ``file_counts.failed`` says whether some files failed)."""

        async def retrieve(headers: dict[str, str]) -> VectorStoreFileBatch:
            return await self.retrieve(
                batch_id, vector_store_id=vector_store_id, extra_headers=headers
            )

        return await poll(retrieve, poll_interval_ms)

    async def create_and_poll(
        self,
        vector_store_id: str,
        *,
        attributes: VectorStoreFileAttributes | NotGiven = NOT_GIVEN,
        chunking_strategy: ChunkingStrategyRequestParam | NotGiven = NOT_GIVEN,
        file_ids: Sequence[str] | NotGiven = NOT_GIVEN,
        files: Iterable[VectorStoreFileBatchFile] | NotGiven = NOT_GIVEN,
        poll_interval_ms: int | NotGiven = NOT_GIVEN,
    ) -> VectorStoreFileBatch:
        """:meth:`create`, then :meth:`poll` until every file is processed."""
        batch = await self.create(
            vector_store_id,
            attributes=attributes,
            chunking_strategy=chunking_strategy,
            file_ids=file_ids,
            files=files,
        )
        return await self.poll(
            batch.id, vector_store_id=vector_store_id, poll_interval_ms=poll_interval_ms
        )
