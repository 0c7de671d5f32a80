"""``client.images``: ``POST /images/generations`` (JSON only; no image streaming)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from .._types import NOT_GIVEN, NotGiven
from ..errors import Problem, ValidationError
from ..types.images import ImageGenerateParams, ImagesResponse
from ._base import Resource, build_body, encode_body

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .._config import Timeouts
    from ..types._generated.images import ImageGenerateKwargs

__all__ = ["Images"]


class Images(Resource):
    """``POST /images/generations``."""

    __slots__ = ()

    async def generate(
        self,
        *,
        timeout: float | Timeouts | NotGiven | None = NOT_GIVEN,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        **params: Unpack[ImageGenerateKwargs],
    ) -> ImagesResponse:
        given: Mapping[str, object] = params  # ``stream`` is not a typed keyword
        if given.get("stream"):
            raise ValidationError(
                [Problem("stream", "image streaming is not supported by this client", None)]
            )
        body = build_body(ImageGenerateParams, params, extra_body)
        return await self._client._call(
            "POST",
            "/images/generations",
            json=encode_body(body, extra_body),
            cast_to=ImagesResponse,
            timeout=timeout,
            max_retries=max_retries,
            extra_headers=extra_headers,
            extra_query=extra_query,
        )
