# msgspec and trio_openai._validate evaluate annotations at run time, so names
# used only in annotations must stay run-time imports.
# ruff: noqa: TC001
"""Vector stores wire types (``/vector_stores``, its ``files`` and ``file_batches``).

Purpose
    The vector store, vector store file and file batch objects, search results
    and file content pages, and the params of every call that has a JSON body.

Rules kept
    * Names follow the official SDK: ``VectorStore``, ``VectorStoreDeleted``,
      ``VectorStoreSearchResponse`` (one search result), ``VectorStoreFile``,
      ``VectorStoreFileBatch``, ``VectorStoreFileDeleted``,
      ``FileContentResponse`` (one piece of a file's text).
    * Ranges and enums from the spec: ``file_ids`` at most 500 on create and 1 to
      2000 on a batch (``file_ids`` and ``files`` are mutually exclusive, one is
      required), ``expires_after.days`` 1..365, static chunks of 100..4096
      tokens, ``max_num_results`` 1..50. Attributes: up to 16 keys of at most 64
      characters, values strings (at most 512), numbers or booleans.
    * Filters are the caller's dicts, checked by their ``type``: a comparison
      (``eq`` ... ``nin``) or a compound (``and``/``or``) whose nested filters
      pass through (their depth is the server's business).
    * Responses: statuses are plain strings; every field may be absent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal, TypedDict

from msgspec import UNSET, Meta, UnsetType, field

from ._base import (
    APIObject,
    CrossFieldRule,
    DeletedObject,
    ListPage,
    Problem,
    RequestParams,
    ValidateAs,
    WireModel,
)
from .shared import Metadata

__all__ = [
    "FileBatchCreateParams",
    "FileContentResponse",
    "FileCreateParams",
    "FileUpdateParams",
    "VectorStore",
    "VectorStoreCreateParams",
    "VectorStoreDeleted",
    "VectorStoreFile",
    "VectorStoreFileBatch",
    "VectorStoreFileDeleted",
    "VectorStoreSearchParams",
    "VectorStoreSearchResponse",
    "VectorStoreSearchResultsPage",
    "VectorStoreUpdateParams",
]

# ==========================================================================
# Request shapes
# ==========================================================================


class ExpiresAfter(TypedDict):
    """A vector store expires ``days`` after it was last active."""

    anchor: Literal["last_active_at"]
    days: Annotated[int, Meta(ge=1, le=365)]


class AutoChunkingStrategyParam(TypedDict):
    """``{"type": "auto"}``: 800-token chunks overlapping by 400."""

    type: Literal["auto"]


class StaticChunking(TypedDict):
    """Chunk size and overlap in tokens (the overlap at most half the size)."""

    max_chunk_size_tokens: Annotated[int, Meta(ge=100, le=4096)]
    chunk_overlap_tokens: Annotated[int, Meta(ge=0)]


class StaticChunkingStrategyParam(TypedDict):
    """``{"type": "static", "static": {...}}``."""

    type: Literal["static"]
    static: StaticChunking


FileChunkingStrategyParam = AutoChunkingStrategyParam | StaticChunkingStrategyParam

#: File attributes: up to 16 keys (at most 64 characters); values strings (at most
#: 512 characters), numbers or booleans.
Attributes = Annotated[
    dict[
        Annotated[str, Meta(max_length=64)],
        Annotated[str, Meta(max_length=512)] | float | bool,
    ],
    Meta(max_length=16),
]


class ComparisonFilter(TypedDict):
    """Compare the attribute ``key`` with ``value``."""

    type: Literal["eq", "ne", "gt", "gte", "lt", "lte", "in", "nin"]
    key: str
    value: str | float | bool | list[str | float]


class CompoundFilter(TypedDict):
    """Combine filters with ``and`` / ``or`` (nested filters are passed through)."""

    type: Literal["and", "or"]
    filters: list[dict[str, Any]]


class RankingOptions(TypedDict, total=False):
    """How search results are ranked and which are dropped."""

    ranker: Literal["none", "auto", "default-2024-11-15"]
    score_threshold: Annotated[float, Meta(ge=0, le=1)] | Annotated[int, Meta(ge=0, le=1)]


class _FileRequired(TypedDict):
    file_id: str


class FileParam(_FileRequired, total=False):
    """One file of a batch, with its own attributes and chunking."""

    attributes: Attributes | None
    chunking_strategy: FileChunkingStrategyParam


_Chunking = Annotated[dict[str, Any], ValidateAs(FileChunkingStrategyParam)]
_ExpiresAfter = Annotated[dict[str, Any], ValidateAs(ExpiresAfter)]
_Filters = Annotated[dict[str, Any], ValidateAs(ComparisonFilter | CompoundFilter)]


class VectorStoreCreateParams(RequestParams, kw_only=True):
    """The body of ``POST /vector_stores`` (SDK field order)."""

    chunking_strategy: _Chunking | UnsetType = UNSET
    description: str | UnsetType = UNSET
    expires_after: _ExpiresAfter | UnsetType = UNSET
    file_ids: Annotated[list[str], Meta(max_length=500)] | UnsetType = UNSET
    metadata: Metadata | UnsetType | None = UNSET
    name: str | UnsetType = UNSET


class VectorStoreUpdateParams(RequestParams, kw_only=True):
    """The body of ``POST /vector_stores/{vector_store_id}``."""

    expires_after: _ExpiresAfter | UnsetType | None = UNSET
    metadata: Metadata | UnsetType | None = UNSET
    name: str | UnsetType | None = UNSET


class VectorStoreSearchParams(RequestParams, kw_only=True):
    """The body of ``POST /vector_stores/{vector_store_id}/search``."""

    query: str | list[str]
    filters: _Filters | UnsetType = UNSET
    max_num_results: Annotated[int, Meta(ge=1, le=50)] | UnsetType = UNSET
    ranking_options: Annotated[dict[str, Any], ValidateAs(RankingOptions)] | UnsetType = UNSET
    rewrite_query: bool | UnsetType = UNSET


class FileCreateParams(RequestParams, kw_only=True):
    """The body of ``POST /vector_stores/{vector_store_id}/files``."""

    file_id: str
    attributes: Attributes | UnsetType | None = UNSET
    chunking_strategy: _Chunking | UnsetType = UNSET


class FileUpdateParams(RequestParams, kw_only=True):
    """The body of ``POST /vector_stores/{vector_store_id}/files/{file_id}``."""

    attributes: Attributes | None


def _one_file_list(given: Mapping[str, Any]) -> list[Problem]:
    has_ids, has_files = "file_ids" in given, "files" in given
    if has_ids and has_files:
        return [("files", "cannot be given together with file_ids", None)]
    if not has_ids and not has_files:
        return [("file_ids", "is required (or give files)", None)]
    return []


class FileBatchCreateParams(RequestParams, kw_only=True):
    """The body of ``POST /vector_stores/{vector_store_id}/file_batches``."""

    attributes: Attributes | UnsetType | None = UNSET
    chunking_strategy: _Chunking | UnsetType = UNSET
    file_ids: Annotated[list[str], Meta(min_length=1, max_length=2000)] | UnsetType = UNSET
    files: (
        Annotated[
            list[Annotated[dict[str, Any], ValidateAs(FileParam)]],
            Meta(min_length=1, max_length=2000),
        ]
        | UnsetType
    ) = UNSET

    _cross_field_rules: ClassVar[tuple[CrossFieldRule, ...]] = (_one_file_list,)


# ==========================================================================
# Objects
# ==========================================================================


class FileCounts(WireModel, kw_only=True):
    """Files of a vector store (or batch) by processing status."""

    in_progress: int = 0
    completed: int = 0
    failed: int = 0
    cancelled: int = 0
    total: int = 0


class VectorStoreExpiresAfter(WireModel, kw_only=True):
    """The expiration policy echoed back."""

    anchor: str = "last_active_at"
    days: int = 0


class VectorStore(APIObject, kw_only=True):
    """``object: "vector_store"``; ``status`` is expired, in_progress or completed."""

    id: str
    object: str = "vector_store"
    created_at: int = 0
    name: str = ""
    usage_bytes: int = 0
    file_counts: FileCounts = field(default_factory=FileCounts)
    status: str = ""
    expires_after: VectorStoreExpiresAfter | None = None
    expires_at: int | None = None
    last_active_at: int | None = None
    metadata: dict[str, str] | None = None


class VectorStoreDeleted(DeletedObject, kw_only=True):
    """Answer of ``DELETE /vector_stores/{vector_store_id}``."""

    object: str = "vector_store.deleted"


class LastError(WireModel, kw_only=True):
    """Why a file failed (``server_error``, ``unsupported_file``, ``invalid_file``)."""

    code: str = ""
    message: str = ""


class StaticChunkingConfig(WireModel, kw_only=True):
    """The static chunk settings used."""

    max_chunk_size_tokens: int = 0
    chunk_overlap_tokens: int = 0


class ChunkingStrategy(WireModel, kw_only=True):
    """How a file was chunked: ``static`` (with its settings) or ``other``."""

    type: str = ""
    static: StaticChunkingConfig | None = None


class VectorStoreFile(APIObject, kw_only=True):
    """``object: "vector_store.file"``."""

    id: str
    object: str = "vector_store.file"
    usage_bytes: int = 0
    created_at: int = 0
    vector_store_id: str = ""
    status: str = ""
    last_error: LastError | None = None
    chunking_strategy: ChunkingStrategy | None = None
    attributes: dict[str, str | float | bool] | None = None


class VectorStoreFileDeleted(DeletedObject, kw_only=True):
    """Answer of ``DELETE /vector_stores/{vector_store_id}/files/{file_id}``."""

    object: str = "vector_store.file.deleted"


class VectorStoreFileBatch(APIObject, kw_only=True):
    """``object: "vector_store.files_batch"``."""

    id: str
    object: str = "vector_store.files_batch"
    created_at: int = 0
    vector_store_id: str = ""
    status: str = ""
    file_counts: FileCounts = field(default_factory=FileCounts)


class FileContentResponse(WireModel, kw_only=True):
    """One piece of a vector store file's parsed text."""

    type: str = "text"
    text: str = ""


class SearchResultContent(WireModel, kw_only=True):
    """One matching chunk of a search result."""

    type: str = "text"
    text: str = ""


class VectorStoreSearchResponse(WireModel, kw_only=True):
    """One search result: the file, its score and its matching chunks."""

    file_id: str = ""
    filename: str = ""
    score: float = 0.0
    attributes: dict[str, str | float | bool] | None = None
    content: list[SearchResultContent] = field(default_factory=list)


class VectorStoreSearchResultsPage(ListPage[VectorStoreSearchResponse], kw_only=True):
    """``object: "vector_store.search_results.page"``: the results of one search."""

    search_query: list[str] = field(default_factory=list)
    next_page: str | None = None


class FileContentPage(ListPage[FileContentResponse], kw_only=True):
    """``object: "vector_store.file_content.page"``: a file's parsed text."""

    next_page: str | None = None
