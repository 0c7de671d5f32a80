"""``client.audio.transcriptions``: ``POST /audio/transcriptions``, a multipart upload.

The audio goes as a streamed multipart body
(:class:`~trio_openai._multipart.MultipartBody`: a file path is read piece by piece,
never whole). The JSON formats decode into
:class:`~trio_openai.types.audio.Transcription` (``verbose_json``:
:class:`~trio_openai.types.audio.TranscriptionVerbose`); the text formats
(``text``, ``srt``, ``vtt``) come back as a ``str``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, overload

from ..._types import NotGiven
from ...errors import Problem, ValidationError
from ...types.audio import Transcription, TranscriptionVerbose
from .._base import Resource, multipart_body
from .._binary import BinaryResponse

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ..._multipart import FileInput
    from ...types._generated.audio import (
        AudioResponseFormat,
        TimestampGranularity,
        TranscriptionInclude,
        TranscriptionModel,
    )
    from .._base import CallOptions

__all__ = ["Transcriptions"]

_TEXT_FORMATS = frozenset({"text", "srt", "vtt"})
_FORMATS = frozenset({"json", "verbose_json", "diarized_json"}) | _TEXT_FORMATS


class Transcriptions(Resource):
    """``POST /audio/transcriptions``."""

    __slots__ = ()

    @overload
    async def create(
        self,
        *,
        file: FileInput,
        model: TranscriptionModel,
        language: str | NotGiven | None = ...,
        prompt: str | NotGiven | None = ...,
        response_format: Literal["json", "diarized_json"] | NotGiven | None = ...,
        temperature: float | NotGiven | None = ...,
        timestamp_granularities: Sequence[TimestampGranularity] | NotGiven | None = ...,
        include: Sequence[TranscriptionInclude] | NotGiven | None = ...,
        **options: Unpack[CallOptions],
    ) -> Transcription: ...
    @overload
    async def create(
        self,
        *,
        file: FileInput,
        model: TranscriptionModel,
        language: str | NotGiven | None = ...,
        prompt: str | NotGiven | None = ...,
        response_format: Literal["verbose_json"],
        temperature: float | NotGiven | None = ...,
        timestamp_granularities: Sequence[TimestampGranularity] | NotGiven | None = ...,
        include: Sequence[TranscriptionInclude] | NotGiven | None = ...,
        **options: Unpack[CallOptions],
    ) -> TranscriptionVerbose: ...
    @overload
    async def create(
        self,
        *,
        file: FileInput,
        model: TranscriptionModel,
        language: str | NotGiven | None = ...,
        prompt: str | NotGiven | None = ...,
        response_format: Literal["text", "srt", "vtt"],
        temperature: float | NotGiven | None = ...,
        timestamp_granularities: Sequence[TimestampGranularity] | NotGiven | None = ...,
        include: Sequence[TranscriptionInclude] | NotGiven | None = ...,
        **options: Unpack[CallOptions],
    ) -> str: ...
    @overload
    async def create(
        self,
        *,
        file: FileInput,
        model: TranscriptionModel,
        language: str | NotGiven | None = ...,
        prompt: str | NotGiven | None = ...,
        response_format: AudioResponseFormat | NotGiven | None = ...,
        temperature: float | NotGiven | None = ...,
        timestamp_granularities: Sequence[TimestampGranularity] | NotGiven | None = ...,
        include: Sequence[TranscriptionInclude] | NotGiven | None = ...,
        **options: Unpack[CallOptions],
    ) -> Transcription | TranscriptionVerbose | str: ...
    async def create(
        self,
        *,
        file: FileInput,
        model: TranscriptionModel,
        language: str | NotGiven | None = None,
        prompt: str | NotGiven | None = None,
        response_format: AudioResponseFormat | NotGiven | None = None,
        temperature: float | NotGiven | None = None,
        timestamp_granularities: Sequence[TimestampGranularity] | NotGiven | None = None,
        include: Sequence[TranscriptionInclude] | NotGiven | None = None,
        **options: Unpack[CallOptions],
    ) -> Transcription | TranscriptionVerbose | str:
        """Transcribe audio; ``text``/``srt``/``vtt`` formats return a ``str``."""
        # NOT_GIVEN is "not given" (the SDK's spelling of the default).
        language = None if isinstance(language, NotGiven) else language
        prompt = None if isinstance(prompt, NotGiven) else prompt
        response_format = None if isinstance(response_format, NotGiven) else response_format
        temperature = None if isinstance(temperature, NotGiven) else temperature
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
        body = multipart_body(fields, [("file", file)], problems)
        if problems or body is None:
            raise ValidationError(problems)
        rest: dict[str, Any] = dict(options)
        extra = dict(rest.pop("extra_headers", None) or {})
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
                **rest,
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
            **rest,
        )
