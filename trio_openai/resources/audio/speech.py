"""``client.audio.speech``: ``POST /audio/speech``, the audio streamed to the caller."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..._types import NOT_GIVEN, NotGiven
from ...types.audio import SpeechCreateParams
from .._base import Resource, build_body, encode_body
from .._binary import BinaryResponse

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ..._config import Timeouts
    from ...types._generated.audio import SpeechCreateKwargs

__all__ = ["Speech"]


class Speech(Resource):
    """``POST /audio/speech``."""

    __slots__ = ()

    async def create(
        self,
        *,
        timeout: float | Timeouts | NotGiven | None = NOT_GIVEN,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        **params: Unpack[SpeechCreateKwargs],
    ) -> BinaryResponse:
        """Synthesize speech; the audio is streamed to the caller.

        ``async with await client.audio.speech.create(...) as audio:
        await audio.write_to_file("out.mp3")``.
        """
        body = build_body(SpeechCreateParams, params, extra_body)
        response = await self._client._call_raw(
            "POST",
            "/audio/speech",
            json=encode_body(body, extra_body),
            accept="application/octet-stream",
            timeout=timeout,
            max_retries=max_retries,
            extra_headers=extra_headers,
            extra_query=extra_query,
        )
        return BinaryResponse(response)
