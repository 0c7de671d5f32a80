"""``client.audio.speech``: ``POST /audio/speech``, the audio streamed to the caller."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...types.audio import SpeechCreateParams
from .._base import Resource, build_body, encode_body, split_options
from .._binary import BinaryResponse

__all__ = ["Speech"]


class Speech(Resource):
    """``POST /audio/speech``."""

    __slots__ = ()

    async def create(
        self,
        *,
        extra_body: Mapping[str, object] | None = None,
        **params: Any,
    ) -> BinaryResponse:
        """Synthesize speech; the audio is streamed to the caller.

        ``async with await client.audio.speech.create(...) as audio:
        await audio.write_to_file("out.mp3")``.
        """
        options = split_options(params)
        body = build_body(SpeechCreateParams, params, extra_body)
        response = await self._client._call_raw(
            "POST",
            "/audio/speech",
            json=encode_body(body, extra_body),
            accept="application/octet-stream",
            **options,
        )
        return BinaryResponse(response)
