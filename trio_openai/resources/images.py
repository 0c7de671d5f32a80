"""``client.images``: ``POST /images/generations`` (JSON), ``/images/edits`` and
``/images/variations`` (multipart, in ``_image_forms``); no image streaming."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from .._types import NOT_GIVEN, NotGiven
from ..errors import Problem, ValidationError
from ..types.images import ImageGenerateParams, ImagesResponse
from . import _image_forms
from ._base import Resource, build_body, encode_body

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .._config import Timeouts
    from .._multipart import FileInput
    from ..types._generated.images import (
        ImageCreateVariationKwargs,
        ImageEditKwargs,
        ImageGenerateKwargs,
    )
    from ._base import CallOptions

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

    async def edit(
        self,
        *,
        image: FileInput | list[FileInput],
        prompt: str,
        mask: FileInput | None = None,
        timeout: float | Timeouts | NotGiven | None = NOT_GIVEN,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        **params: Unpack[ImageEditKwargs],
    ) -> ImagesResponse:
        """``POST /images/edits`` (multipart): ``image`` (a file, or a list of up to
        16 for gpt-image models) edited as ``prompt`` says, within ``mask``; the
        other keyword arguments are the API's (``model``, ``n``, ``size`` ...)."""
        options = _options(timeout, max_retries, extra_headers, extra_query)
        fields: dict[str, object] = {**params, "prompt": prompt}
        return await _image_forms.edit(self._client, image, mask, fields, extra_body, options)

    async def create_variation(
        self,
        *,
        image: FileInput,
        timeout: float | Timeouts | NotGiven | None = NOT_GIVEN,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        **params: Unpack[ImageCreateVariationKwargs],
    ) -> ImagesResponse:
        """``POST /images/variations`` (multipart): variations of ``image``; the other
        keyword arguments are the API's (``model``, ``n``, ``size`` ...)."""
        options = _options(timeout, max_retries, extra_headers, extra_query)
        return await _image_forms.create_variation(self._client, image, params, extra_body, options)


def _options(
    timeout: float | Timeouts | NotGiven | None,
    max_retries: int | None,
    extra_headers: Mapping[str, str] | None,
    extra_query: Mapping[str, object] | None,
) -> CallOptions:
    return {
        "timeout": timeout,
        "max_retries": max_retries,
        "extra_headers": extra_headers,
        "extra_query": extra_query,
    }
