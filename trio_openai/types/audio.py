"""Audio wire types: speech params and transcription results.

Purpose
    ``POST /audio/speech`` params (the answer is audio bytes, not JSON) and the
    ``json`` / ``verbose_json`` bodies of transcriptions and translations.
    (Transcription *requests* are multipart, built by ``_multipart``.)

Rules kept
    * ``input`` and ``instructions`` at most 4096 characters, ``speed``
      0.25..4, ``voice`` a built-in name (open string) or ``{"id": ...}``.
    * Transcription usage is either token based or duration based: one Struct
      with ``type`` and the fields of both, so either decodes.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypedDict

from msgspec import UNSET, Meta, UnsetType, field

from ._base import APIObject, RequestParams, ValidateAs, WireModel

__all__ = [
    "SpeechCreateParams",
    "Transcription",
    "TranscriptionSegment",
    "TranscriptionUsage",
    "TranscriptionVerbose",
    "TranscriptionWord",
    "Translation",
    "TranslationCreateParams",
    "TranslationVerbose",
]

_Text4096 = Annotated[str, Meta(max_length=4096)]
#: ``speed``: 0.25..4 (an int keeps its spelling, so ints are 1..4).
Speed = Annotated[int, Meta(ge=1, le=4)] | Annotated[float, Meta(ge=0.25, le=4)]


class _VoiceId(TypedDict):
    id: str


class SpeechCreateParams(RequestParams, kw_only=True):
    """The body of ``POST /audio/speech`` (SDK field order)."""

    model: str
    input: _Text4096
    voice: Annotated[str | dict[str, Any], ValidateAs(str | _VoiceId)]
    instructions: _Text4096 | UnsetType = UNSET
    response_format: Literal["mp3", "opus", "aac", "flac", "wav", "pcm"] | UnsetType = UNSET
    speed: Speed | UnsetType = UNSET
    stream_format: Literal["sse", "audio"] | UnsetType = UNSET


class TranscriptionInputTokenDetails(WireModel, kw_only=True):
    """Text and audio input tokens."""

    text_tokens: int = 0
    audio_tokens: int = 0


class TranscriptionUsage(WireModel, kw_only=True):
    """``type: "tokens"`` (token counts) or ``type: "duration"`` (``seconds``)."""

    type: str = "tokens"
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    input_token_details: TranscriptionInputTokenDetails | None = None
    seconds: float | None = None


class TranscriptionLogprob(WireModel, kw_only=True):
    """Log probability of one transcribed token."""

    token: str = ""
    logprob: float = 0.0
    bytes: list[float] | None = None


class Transcription(APIObject, kw_only=True):
    """``response_format="json"``."""

    text: str = ""
    logprobs: list[TranscriptionLogprob] | None = None
    usage: TranscriptionUsage | None = None


class TranscriptionWord(WireModel, kw_only=True):
    """One word with its start and end time in seconds."""

    word: str = ""
    start: float = 0.0
    end: float = 0.0


class TranscriptionSegment(WireModel, kw_only=True):
    """One segment of a verbose transcription."""

    id: int = 0
    seek: int = 0
    start: float = 0.0
    end: float = 0.0
    text: str = ""
    tokens: list[int] = field(default_factory=list)
    temperature: float = 0.0
    avg_logprob: float = 0.0
    compression_ratio: float = 0.0
    no_speech_prob: float = 0.0


class TranscriptionVerbose(APIObject, kw_only=True):
    """``response_format="verbose_json"``."""

    text: str = ""
    language: str = ""
    duration: float = 0.0
    words: list[TranscriptionWord] | None = None
    segments: list[TranscriptionSegment] | None = None
    usage: TranscriptionUsage | None = None


class Translation(APIObject, kw_only=True):
    """A translation (``json``)."""

    text: str = ""


class TranslationVerbose(APIObject, kw_only=True):
    """A translation (``verbose_json``): the English text, its language and segments."""

    text: str = ""
    language: str = ""
    duration: float = 0.0
    segments: list[TranscriptionSegment] | None = None


class TranslationCreateParams(RequestParams, kw_only=True):
    """The fields of ``POST /audio/translations`` besides ``file`` (SDK field order)."""

    model: str
    prompt: str | UnsetType = UNSET
    response_format: Literal["json", "text", "srt", "verbose_json", "vtt"] | UnsetType = UNSET
    temperature: (
        Annotated[float, Meta(ge=0, le=1)] | Annotated[int, Meta(ge=0, le=1)] | UnsetType
    ) = UNSET
