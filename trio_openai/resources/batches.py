"""``client.batches``: the Batch API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from .._types import NOT_GIVEN, NotGiven
from ..types.batches import Batch, BatchCreateParams
from ._base import Resource, build_body, encode_body, path_id

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .._config import Timeouts
    from .._pagination import PageRequest
    from ..types._generated.batches import BatchCreateKwargs
    from ._base import CallOptions

__all__ = ["Batches"]


class Batches(Resource):
    """``/batches``."""

    __slots__ = ()

    async def create(
        self,
        *,
        timeout: float | Timeouts | NotGiven | None = NOT_GIVEN,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        **params: Unpack[BatchCreateKwargs],
    ) -> Batch:
        """Create a batch from an uploaded JSONL file (``input_file_id``, ``endpoint``,
        ``completion_window="24h"``, optional ``metadata``)."""
        body = build_body(BatchCreateParams, params, extra_body)
        return await self._client._call(
            "POST",
            "/batches",
            json=encode_body(body, extra_body),
            cast_to=Batch,
            timeout=timeout,
            max_retries=max_retries,
            extra_headers=extra_headers,
            extra_query=extra_query,
        )

    async def retrieve(self, batch_id: str, **options: Unpack[CallOptions]) -> Batch:
        return await self._client._call(
            "GET", f"/batches/{path_id(batch_id, 'batch_id')}", cast_to=Batch, **options
        )

    async def cancel(self, batch_id: str, **options: Unpack[CallOptions]) -> Batch:
        return await self._client._call(
            "POST", f"/batches/{path_id(batch_id, 'batch_id')}/cancel", cast_to=Batch, **options
        )

    def list(
        self,
        *,
        after: str | NotGiven | None = None,
        limit: int | NotGiven | None = None,
        **options: Unpack[CallOptions],
    ) -> PageRequest[Batch]:
        return self._client._list("/batches", Batch, {"after": after, "limit": limit}, options)
