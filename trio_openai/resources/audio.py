"""``client.audio``: transcriptions (multipart upload) and speech (binary, streamed)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._multipart import FileInput, MultipartBody
from ..errors import Problem, ValidationError
from ..types._base import encode
from ..types.audio import SpeechCreateParams, Transcription, TranscriptionVerbose
from ._base import Resource, build_body
from ._binary import BinaryResponse

__all__ = ["Audio", "Speech", "Transcriptions"]

_TEXT_FORMATS = frozenset({"text", "srt", "vtt"})
_FORMATS = frozenset({"json", "verbose_json", "diarized_json"}) | _TEXT_FORMATS


class Transcriptions(Resource):
    """``POST /audio/transcriptions``."""

    __slots__ = ()

    async def create(
        self,
        *,
        file: FileInput,
        model: str,
        language: str | None = None,
        prompt: str | None = None,
        response_format: str | None = None,
        temperature: float | None = None,
        timestamp_granularities: Sequence[str] | None = None,
        include: Sequence[str] | None = None,
        **options: Any,
    ) -> Transcription | TranscriptionVerbose | str:
        """Transcribe audio; ``text``/``srt``/``vtt`` formats return a ``str``."""
        problems: list[Problem] = []
        if not isinstance(model, str) or not model:
            problems.append(Problem("model", "is required (a non-empty str)", repr(model)))
        if response_format is not None and response_format not in _FORMATS:
            problems.append(
                Problem(
                    "response_format",
                    f"must be one of {', '.join(sorted(_FORMATS))}",
                    repr(response_format),
                )
            )
        if temperature is not None and not (
            isinstance(temperature, (int, float)) and 0 <= temperature <= 1
        ):
            problems.append(
                Problem("temperature", "must be a number from 0 to 1", repr(temperature))
            )
        fields: list[tuple[str, str]] = [("model", str(model))]
        for name, value in (
            ("language", language),
            ("prompt", prompt),
            ("response_format", response_format),
        ):
            if value is not None:
                fields.append((name, str(value)))
        if temperature is not None:
            fields.append(("temperature", str(temperature)))
        for granularity in timestamp_granularities or ():
            if granularity not in ("word", "segment"):
                problems.append(
                    Problem(
                        "timestamp_granularities",
                        "items must be 'word' or 'segment'",
                        repr(granularity),
                    )
                )
            fields.append(("timestamp_granularities[]", granularity))
        fields.extend(("include[]", item) for item in include or ())
        body: MultipartBody | None = None
        try:
            body = MultipartBody(fields, [("file", file)])
        except (FileNotFoundError, TypeError) as exc:
            problems.append(Problem("file", str(exc).removeprefix("file: "), None))
        if problems or body is None:
            raise ValidationError(problems)
        extra = dict(options.pop("extra_headers", None) or {})
        if body.content_length is not None:
            extra.setdefault("Content-Length", str(body.content_length))
        client = self._client
        if response_format in _TEXT_FORMATS:
            response = await client._call_raw(
                "POST",
                "/audio/transcriptions",
                content=body,
                content_type=body.content_type,
                extra_headers=extra,
                **options,
            )
            async with BinaryResponse(response) as binary:
                return (await binary.read()).decode("utf-8", errors="replace")
        cast: type[Transcription] | type[TranscriptionVerbose] = (
            TranscriptionVerbose if response_format == "verbose_json" else Transcription
        )
        return await client._call(
            "POST",
            "/audio/transcriptions",
            cast_to=cast,
            content=body,
            content_type=body.content_type,
            extra_headers=extra,
            **options,
        )


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
        options = {
            k: params.pop(k)
            for k in ("timeout", "max_retries", "extra_headers", "extra_query")
            if k in params
        }
        body = build_body(SpeechCreateParams, params, extra_body)
        response = await self._client._call_raw(
            "POST",
            "/audio/speech",
            json=encode(body),
            accept="application/octet-stream",
            **options,
        )
        return BinaryResponse(response)


class Audio(Resource):
    """``client.audio``."""

    __slots__ = ()

    @property
    def transcriptions(self) -> Transcriptions:
        return Transcriptions(self._client)

    @property
    def speech(self) -> Speech:
        return Speech(self._client)
