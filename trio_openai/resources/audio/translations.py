"""``client.audio.translations``: ``POST /audio/translations``, audio into English text.

Like a transcription, the audio goes as a streamed multipart body (a path is read
piece by piece, never whole); the other fields are checked by the request
validator against :class:`~trio_openai.types.audio.TranslationCreateParams` first,
so every problem is reported at once and nothing is sent. ``json`` decodes into
:class:`~trio_openai.types.audio.Translation`, ``verbose_json`` into
:class:`~trio_openai.types.audio.TranslationVerbose`; the text formats (``text``,
``srt``, ``vtt``) come back as a ``str``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, overload

from ..._qs import flatten_query
from ..._types import NOT_GIVEN, NotGiven
from ...errors import Problem, ValidationError
from ...types.audio import Translation, TranslationCreateParams, TranslationVerbose
from .._base import Resource, build_body, multipart_body
from .._binary import BinaryResponse
from .._params import form_kwargs, given, post_form

if TYPE_CHECKING:
    from collections.abc import Mapping

    from typing_extensions import Unpack

    from ..._multipart import FileInput
    from ...types._generated.audio import TranslationResponseFormat
    from .._base import CallOptions

__all__ = ["Translations"]

_TEXT_FORMATS = frozenset({"text", "srt", "vtt"})


class Translations(Resource):
    """``POST /audio/translations``."""

    __slots__ = ()

    @overload
    async def create(
        self,
        *,
        file: FileInput,
        model: str,
        prompt: str | NotGiven = ...,
        response_format: Literal["json"] | NotGiven = ...,
        temperature: float | NotGiven = ...,
        extra_body: Mapping[str, object] | None = ...,
        **options: Unpack[CallOptions],
    ) -> Translation: ...
    @overload
    async def create(
        self,
        *,
        file: FileInput,
        model: str,
        prompt: str | NotGiven = ...,
        response_format: Literal["verbose_json"],
        temperature: float | NotGiven = ...,
        extra_body: Mapping[str, object] | None = ...,
        **options: Unpack[CallOptions],
    ) -> TranslationVerbose: ...
    @overload
    async def create(
        self,
        *,
        file: FileInput,
        model: str,
        prompt: str | NotGiven = ...,
        response_format: Literal["text", "srt", "vtt"],
        temperature: float | NotGiven = ...,
        extra_body: Mapping[str, object] | None = ...,
        **options: Unpack[CallOptions],
    ) -> str: ...
    @overload
    async def create(
        self,
        *,
        file: FileInput,
        model: str,
        prompt: str | NotGiven = ...,
        response_format: TranslationResponseFormat | NotGiven = ...,
        temperature: float | NotGiven = ...,
        extra_body: Mapping[str, object] | None = ...,
        **options: Unpack[CallOptions],
    ) -> Translation | TranslationVerbose | str: ...
    async def create(
        self,
        *,
        file: FileInput,
        model: str,
        prompt: str | NotGiven = NOT_GIVEN,
        response_format: TranslationResponseFormat | NotGiven = NOT_GIVEN,
        temperature: float | NotGiven = NOT_GIVEN,
        extra_body: Mapping[str, object] | None = None,
        **options: Unpack[CallOptions],
    ) -> Translation | TranslationVerbose | str:
        """Translate audio into English; ``text``/``srt``/``vtt`` return a ``str``.

        Raises:
            ValidationError: every problem with the arguments (the file included);
                nothing was sent.
        """
        params = given(
            model=model, prompt=prompt, response_format=response_format, temperature=temperature
        )
        problems: list[Problem] = []
        try:
            fields = flatten_query(build_body(TranslationCreateParams, params, extra_body).items())
        except ValidationError as exc:
            problems.extend(exc.problems)
            fields = []
        body = multipart_body(fields, [("file", file)], problems)
        if problems or body is None:
            raise ValidationError(problems)
        if response_format in _TEXT_FORMATS:
            response = await self._client._call_raw(
                "POST", "/audio/translations", **form_kwargs(body, options)
            )
            async with BinaryResponse(response) as binary:
                return (await binary.read()).decode("utf-8", errors="replace")
        cast: type[Translation] | type[TranslationVerbose] = (
            TranslationVerbose if response_format == "verbose_json" else Translation
        )
        return await post_form(self._client, "/audio/translations", body, cast, options)
