"""``client.moderations``: ``POST /moderations``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from .._types import NOT_GIVEN, NotGiven
from ..types.moderations import ModerationCreateParams, ModerationCreateResponse
from ._base import Resource, build_body, encode_body

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .._config import Timeouts
    from ..types._generated.moderations import ModerationCreateKwargs

__all__ = ["Moderations"]


class Moderations(Resource):
    """``POST /moderations``."""

    __slots__ = ()

    async def create(
        self,
        *,
        timeout: float | Timeouts | NotGiven | None = NOT_GIVEN,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        **params: Unpack[ModerationCreateKwargs],
    ) -> ModerationCreateResponse:
        body = build_body(ModerationCreateParams, params, extra_body)
        return await self._client._call(
            "POST",
            "/moderations",
            json=encode_body(body, extra_body),
            cast_to=ModerationCreateResponse,
            timeout=timeout,
            max_retries=max_retries,
            extra_headers=extra_headers,
            extra_query=extra_query,
        )
