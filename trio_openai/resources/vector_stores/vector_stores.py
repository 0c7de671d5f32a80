"""``client.vector_stores``: create, retrieve, update, list, delete and search.

A vector store indexes files for ``file_search``: its files are added with
``client.vector_stores.files`` (one at a time) or ``file_batches`` (many), and
:meth:`VectorStores.search` queries it directly. ``search`` answers one page of
results, awaited or iterated like any list.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..._pagination import PageRequest
from ..._types import NOT_GIVEN, NotGiven
from ...types.vector_stores import (
    VectorStore,
    VectorStoreCreateParams,
    VectorStoreDeleted,
    VectorStoreSearchParams,
    VectorStoreSearchResponse,
    VectorStoreSearchResultsPage,
    VectorStoreUpdateParams,
)
from .._base import Resource, build_body, encode_body, path_id
from .._params import given
from ._beta import beta_options
from .file_batches import FileBatches
from .files import Files

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from typing_extensions import Unpack

    from ...types._generated.shared import ListOrder
    from ...types._generated.vector_stores import (
        ChunkingStrategyRequestParam,
        VectorStoreExpirationAfter,
        VectorStoreSearchFilters,
        VectorStoreSearchRankingOptions,
    )
    from .._base import CallOptions

__all__ = ["VectorStores"]


class VectorStores(Resource):
    """``/vector_stores``."""

    __slots__ = ()

    @property
    def files(self) -> Files:
        return Files(self._client)

    @property
    def file_batches(self) -> FileBatches:
        return FileBatches(self._client)

    async def create(
        self,
        *,
        chunking_strategy: ChunkingStrategyRequestParam | NotGiven = NOT_GIVEN,
        description: str | NotGiven = NOT_GIVEN,
        expires_after: VectorStoreExpirationAfter | NotGiven = NOT_GIVEN,
        file_ids: Sequence[str] | NotGiven = NOT_GIVEN,
        metadata: Mapping[str, str] | NotGiven | None = NOT_GIVEN,
        name: str | NotGiven = NOT_GIVEN,
        extra_body: Mapping[str, object] | None = None,
        **options: Unpack[CallOptions],
    ) -> VectorStore:
        """Create a vector store (with files already uploaded, if ``file_ids``).

        Raises:
            ValidationError: every problem with the arguments; nothing was sent.
        """
        params = given(
            chunking_strategy=chunking_strategy,
            description=description,
            expires_after=expires_after,
            file_ids=file_ids,
            metadata=metadata,
            name=name,
        )
        body = build_body(VectorStoreCreateParams, params, extra_body)
        return await self._client._call(
            "POST",
            "/vector_stores",
            json=encode_body(body, extra_body),
            cast_to=VectorStore,
            **beta_options(options),
        )

    async def retrieve(self, vector_store_id: str, **options: Unpack[CallOptions]) -> VectorStore:
        return await self._client._call(
            "GET",
            f"/vector_stores/{path_id(vector_store_id, 'vector_store_id')}",
            cast_to=VectorStore,
            **beta_options(options),
        )

    async def update(
        self,
        vector_store_id: str,
        *,
        expires_after: VectorStoreExpirationAfter | NotGiven | None = NOT_GIVEN,
        metadata: Mapping[str, str] | NotGiven | None = NOT_GIVEN,
        name: str | NotGiven | None = NOT_GIVEN,
        extra_body: Mapping[str, object] | None = None,
        **options: Unpack[CallOptions],
    ) -> VectorStore:
        """Rename a vector store, change its expiry or its metadata."""
        path = f"/vector_stores/{path_id(vector_store_id, 'vector_store_id')}"
        params = given(expires_after=expires_after, metadata=metadata, name=name)
        body = build_body(VectorStoreUpdateParams, params, extra_body)
        return await self._client._call(
            "POST",
            path,
            json=encode_body(body, extra_body),
            cast_to=VectorStore,
            **beta_options(options),
        )

    def list(
        self,
        *,
        after: str | None = None,
        before: str | None = None,
        limit: int | None = None,
        order: ListOrder | None = None,
        **options: Unpack[CallOptions],
    ) -> PageRequest[VectorStore]:
        query = {"after": after, "before": before, "limit": limit, "order": order}
        return self._client._list("/vector_stores", VectorStore, query, beta_options(options))

    async def delete(
        self, vector_store_id: str, **options: Unpack[CallOptions]
    ) -> VectorStoreDeleted:
        return await self._client._call(
            "DELETE",
            f"/vector_stores/{path_id(vector_store_id, 'vector_store_id')}",
            cast_to=VectorStoreDeleted,
            **beta_options(options),
        )

    def search(
        self,
        vector_store_id: str,
        *,
        query: str | Sequence[str],
        filters: VectorStoreSearchFilters | NotGiven = NOT_GIVEN,
        max_num_results: int | NotGiven = NOT_GIVEN,
        ranking_options: VectorStoreSearchRankingOptions | NotGiven = NOT_GIVEN,
        rewrite_query: bool | NotGiven = NOT_GIVEN,
        extra_body: Mapping[str, object] | None = None,
        **options: Unpack[CallOptions],
    ) -> PageRequest[VectorStoreSearchResponse]:
        """Search the store's chunks: ``await`` it for the page of results
        (``.data``: :class:`~trio_openai.types.vector_stores.VectorStoreSearchResponse`,
        best first), or ``async for`` over the results. Like the official SDK, it
        is one page: the results carry no cursor.

        Raises:
            ValidationError: every problem with the arguments, at once (before the
                page is awaited); nothing was sent.
        """
        path = f"/vector_stores/{path_id(vector_store_id, 'vector_store_id')}/search"
        params = given(
            query=query,
            filters=filters,
            max_num_results=max_num_results,
            ranking_options=ranking_options,
            rewrite_query=rewrite_query,
        )
        data = encode_body(build_body(VectorStoreSearchParams, params, extra_body), extra_body)
        client = self._client
        call_options = beta_options(options)

        async def fetch(cursor: Mapping[str, object]) -> VectorStoreSearchResultsPage:
            # One page: results carry no id to continue from, so no cursor is asked.
            return await client._call(
                "POST", path, json=data, cast_to=VectorStoreSearchResultsPage, **call_options
            )

        return PageRequest(fetch, {})
