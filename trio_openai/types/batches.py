# msgspec and trio_openai._validate evaluate annotations at run time, so names
# used only in annotations must stay run-time imports.
# ruff: noqa: TC001
"""Batch API wire types (``/batches``) and the batch JSONL line formats.

Purpose
    Create params, the batch object (with request counts, validation errors
    and usage), and the input / output JSONL lines that the Batch API reads
    and writes (also used by ``trio_openai.jobs``' local runner).

Rules kept
    * ``endpoint`` and ``completion_window`` are closed enums in the spec and
      validated; on the batch *object* they are plain strings.
    * The JSONL formats come from an earlier spec revision (they have
      vanished from the current one). An output line's ``response.body`` is
      kept as ``msgspec.Raw`` (the body bytes, not decoded): decode it with
      :meth:`BatchOutputResponse.decode_body` into the endpoint's type, or
      write it back out unchanged, without a round trip through ``dict``.
      These line types are plain ``WireModel`` s, not ``APIObject`` s, since
      ``request_id`` is one of their fields.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal, TypedDict, TypeVar, get_args

import msgspec
from msgspec import UNSET, Meta, UnsetType, field

from ._base import APIObject, RequestParams, ValidateAs, WireModel, decoder_for
from .shared import Metadata

__all__ = [
    "BATCH_ENDPOINTS",
    "Batch",
    "BatchCreateParams",
    "BatchError",
    "BatchErrors",
    "BatchInputLine",
    "BatchOutputError",
    "BatchOutputLine",
    "BatchOutputResponse",
    "BatchRequestCounts",
    "BatchUsage",
]

T = TypeVar("T")

BatchEndpoint = Literal[
    "/v1/responses",
    "/v1/chat/completions",
    "/v1/embeddings",
    "/v1/completions",
    "/v1/moderations",
    "/v1/images/generations",
    "/v1/images/edits",
    "/v1/videos",
]

BATCH_ENDPOINTS: Final[tuple[str, ...]] = get_args(BatchEndpoint)
"""The URLs a batch may target (``endpoint``), in the spec's order: the one list."""


class OutputExpiresAfter(TypedDict):
    """Expiry of the output/error files: ``seconds`` after ``created_at``."""

    anchor: Literal["created_at"]
    seconds: Annotated[int, Meta(ge=3600, le=2592000)]


class BatchCreateParams(RequestParams, kw_only=True):
    """The body of ``POST /batches`` (SDK field order)."""

    completion_window: Literal["24h"]
    endpoint: BatchEndpoint
    input_file_id: str
    metadata: Metadata | UnsetType | None = UNSET
    output_expires_after: Annotated[dict[str, Any], ValidateAs(OutputExpiresAfter)] | UnsetType = (
        UNSET
    )


class BatchError(WireModel, kw_only=True):
    """A validation error of the input file (``line`` is 1-based)."""

    code: str | None = None
    message: str | None = None
    param: str | None = None
    line: int | None = None


class BatchErrors(WireModel, kw_only=True):
    """``{"object": "list", "data": [error...]}``."""

    object: str = "list"
    data: list[BatchError] = field(default_factory=list)


class BatchRequestCounts(WireModel, kw_only=True):
    """How many requests there are, and how many completed or failed."""

    total: int = 0
    completed: int = 0
    failed: int = 0


class BatchInputTokensDetails(WireModel, kw_only=True):
    """Cached input tokens."""

    cached_tokens: int = 0


class BatchOutputTokensDetails(WireModel, kw_only=True):
    """Reasoning output tokens."""

    reasoning_tokens: int = 0


class BatchUsage(WireModel, kw_only=True):
    """Token usage (only for batches created after 2025-09-07)."""

    input_tokens: int = 0
    input_tokens_details: BatchInputTokensDetails = field(default_factory=BatchInputTokensDetails)
    output_tokens: int = 0
    output_tokens_details: BatchOutputTokensDetails = field(
        default_factory=BatchOutputTokensDetails
    )
    total_tokens: int = 0


class Batch(APIObject, kw_only=True):
    """``object: "batch"``; ``status`` moves validating → in_progress →
    finalizing → completed (or failed / expired / cancelling → cancelled)."""

    id: str
    object: str = "batch"
    endpoint: str = ""
    model: str | None = None
    errors: BatchErrors | None = None
    input_file_id: str = ""
    completion_window: str = ""
    status: str = ""
    output_file_id: str | None = None
    error_file_id: str | None = None
    created_at: int = 0
    in_progress_at: int | None = None
    expires_at: int | None = None
    finalizing_at: int | None = None
    completed_at: int | None = None
    failed_at: int | None = None
    expired_at: int | None = None
    cancelling_at: int | None = None
    cancelled_at: int | None = None
    request_counts: BatchRequestCounts | None = None
    usage: BatchUsage | None = None
    metadata: dict[str, str] | None = None


class BatchInputLine(WireModel, kw_only=True):
    """One line of a batch input file."""

    custom_id: str
    method: str = "POST"
    url: str
    body: dict[str, Any] = field(default_factory=dict)


class BatchOutputResponse(WireModel, kw_only=True):
    """The HTTP answer to one batch request; ``body`` is the raw JSON."""

    status_code: int = 0
    request_id: str = ""
    body: msgspec.Raw = msgspec.Raw(b"null")

    def decode_body(self, tp: type[T]) -> T:
        """Decode ``body`` into ``tp`` (e.g. ``ChatCompletion``).

        Raises:
            msgspec.DecodeError: the body is not JSON.
            msgspec.ValidationError: the body does not match ``tp``.
        """
        return decoder_for(tp).decode(self.body)


class BatchOutputError(WireModel, kw_only=True):
    """A failure that produced no HTTP response."""

    code: str | None = None
    message: str | None = None


class BatchOutputLine(WireModel, kw_only=True):
    """One line of a batch output or error file; join to inputs by ``custom_id``."""

    id: str = ""
    custom_id: str = ""
    response: BatchOutputResponse | None = None
    error: BatchOutputError | None = None
