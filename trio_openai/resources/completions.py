"""``client.completions``: the legacy ``POST /completions``, JSON or streamed.

A streamed call returns a :class:`CompletionStream`, which folds its chunks into the
final :class:`~trio_openai.types.completions.Completion` (text per choice, finish
reasons, usage) with :class:`~trio_openai._accumulate.CompletionAccumulator`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any, Literal, overload

from .._accumulate import CompletionAccumulator
from .._streaming import Stream, TextDeltas
from .._types import NOT_GIVEN, NotGiven
from ..types._base import attach_response_info, decoder_for
from ..types.completions import Completion, CompletionCreateParams
from ._base import Resource, post_json_or_stream, takes_sentinels

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .._config import Timeouts
    from ..types._generated.completions import CompletionCreateKwargs

__all__ = ["CompletionStream", "Completions"]

_completion_decoder = decoder_for(Completion)


class CompletionStream(Stream[Completion]):
    """A legacy completion stream that also builds the final completion.

    ``async for chunk in stream`` yields :class:`Completion` chunks;
    :meth:`text_deltas` yields the text of one choice; :meth:`get_final_completion`
    reads what is left and returns the assembled :class:`Completion`.
    """

    __slots__ = ("_acc",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        acc = CompletionAccumulator()
        super().__init__(*args, accumulate=acc.add, **kwargs)
        self._acc = acc

    def _whole_without_marker(self) -> bool:
        # A body that ended cleanly without [DONE] is whole once every choice finished.
        return self._acc.finished()

    async def get_final_completion(self) -> Completion:
        """Read the rest of the stream; return the completion it adds up to.

        Raises:
            RuntimeError: the stream was closed before its end, or failed earlier.
            APIError and subclasses: as iterating the stream.
        """
        await self.until_done()
        completion = self._acc.build()
        attach_response_info(completion, request_id=self.request_id, headers=self.response_headers)
        return completion

    def text_deltas(self, index: int = 0) -> AsyncIterator[str]:
        """The text pieces of choice ``index`` as they arrive (others accumulate)."""

        def extract(chunk: Completion) -> str | None:
            for choice in chunk.choices:
                if choice.index == index:
                    return choice.text
            return None

        return TextDeltas(self, extract)


class Completions(Resource):
    """``POST /completions`` (legacy)."""

    __slots__ = ()

    @overload
    async def create(
        self,
        *,
        stream: Literal[False] | NotGiven = ...,
        timeout: float | Timeouts | NotGiven | None = ...,
        max_retries: int | None = ...,
        extra_headers: Mapping[str, str] | None = ...,
        extra_query: Mapping[str, object] | None = ...,
        extra_body: Mapping[str, object] | None = ...,
        **params: Unpack[CompletionCreateKwargs],
    ) -> Completion: ...
    @overload
    async def create(
        self,
        *,
        stream: Literal[True],
        timeout: float | Timeouts | NotGiven | None = ...,
        max_retries: int | None = ...,
        extra_headers: Mapping[str, str] | None = ...,
        extra_query: Mapping[str, object] | None = ...,
        extra_body: Mapping[str, object] | None = ...,
        **params: Unpack[CompletionCreateKwargs],
    ) -> CompletionStream: ...
    @overload
    async def create(
        self,
        *,
        stream: bool,
        timeout: float | Timeouts | NotGiven | None = ...,
        max_retries: int | None = ...,
        extra_headers: Mapping[str, str] | None = ...,
        extra_query: Mapping[str, object] | None = ...,
        extra_body: Mapping[str, object] | None = ...,
        **params: Unpack[CompletionCreateKwargs],
    ) -> Completion | CompletionStream: ...

    @takes_sentinels
    async def create(
        self,
        *,
        stream: bool | NotGiven = False,
        timeout: float | Timeouts | NotGiven | None = NOT_GIVEN,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        **params: Any,
    ) -> Completion | CompletionStream:
        return await post_json_or_stream(
            self._client,
            "/completions",
            CompletionCreateParams,
            params,
            stream=stream,
            cast_to=Completion,
            stream_class=CompletionStream,
            decode=_completion_decoder.decode,
            extra_body=extra_body,
            options={
                "timeout": timeout,
                "max_retries": max_retries,
                "extra_headers": extra_headers,
                "extra_query": extra_query,
            },
        )
