"""``client.chat.completions``: ``/chat/completions`` and its stored completions.

Theory of operation
-------------------
``create`` validates the keyword arguments against
:class:`~trio_openai.types.chat.ChatCompletionCreateParams` (every problem at once,
nothing sent on error), then either decodes the JSON answer into a
:class:`~trio_openai.types.chat.ChatCompletion` or, with ``stream=True``, returns a
:class:`ChatCompletionStream` once the response head is in. The stream folds every
chunk it hands out into the final completion (:class:`~trio_openai._accumulate.ChatAccumulator`),
however it is read. ``stream()`` is the same call as an ``async with`` block yielding
the official SDK's events (:class:`~._event_stream.ChatCompletionEventStream`:
``content.delta``, ``content.done`` ...). ``parse()`` sends a strict JSON schema built
from a type (a msgspec Struct, dataclass, TypedDict or pydantic model) and decodes each
choice's content into it (``choices[i].message.parsed`` of a
:class:`~trio_openai.types.chat.ParsedChatCompletion`); ``stream(response_format=T)``
parses while streaming.

The stored-completion endpoints (``store=True``: list, retrieve, update, delete) sit
on the same URL collection; the messages of one stored completion are the
sub-service :attr:`ChatCompletions.messages` (:mod:`.messages`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

from ...._accumulate import ChatAccumulator
from ...._parsing import fill_parsed, tools_of
from ...._streaming import Stream, TextDeltas
from ...._structured import OutputFormat, output_format
from ...._types import NOT_GIVEN, NotGiven
from ....errors import Problem, ValidationError
from ....types._base import attach_response_info, decoder_for
from ....types.chat import (
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionCreateParams,
    ChatCompletionDeleted,
    ChatCompletionUpdateParams,
    ParsedChatCompletion,
)
from ..._base import (
    Resource,
    StreamContext,
    build_body,
    encode_body,
    path_id,
    post_json_or_stream,
    takes_sentinels,
)
from ._event_stream import ChatCompletionEventStream
from .messages import Messages

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ...._config import Timeouts
    from ...._pagination import PageRequest
    from ....types._generated.chat import (
        ChatCompletionCreateKwargs,
        ChatCompletionParseKwargs,
        ResponseFormatJsonSchema,
    )
    from ....types._generated.shared import (
        ListOrder,
        Metadata,
        ResponseFormatJsonObject,
        ResponseFormatText,
    )
    from ..._base import CallOptions

__all__ = [
    "ChatCompletionEventStream",
    "ChatCompletionStream",
    "ChatCompletions",
    "ParsedChatCompletion",
]

T = TypeVar("T")

_chunk_decoder = decoder_for(ChatCompletionChunk)


class ChatCompletionStream(Stream[ChatCompletionChunk]):
    """A chat completion stream that also builds the final completion.

    ``async for chunk in stream`` yields :class:`ChatCompletionChunk` s (the usage
    chunk of ``stream_options={"include_usage": True}`` too, with empty ``choices``);
    :meth:`text_deltas` yields just the text of one choice; :meth:`get_final_completion`
    reads what is left and returns the assembled :class:`ChatCompletion`. Every chunk
    handed out is folded into the final completion, whichever way it was read.
    """

    __slots__ = ("_acc",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        acc = ChatAccumulator()
        super().__init__(*args, accumulate=acc.add, **kwargs)
        self._acc = acc

    def _whole_without_marker(self) -> bool:
        # A body that ended cleanly without [DONE] is whole once every choice finished.
        return self._acc.finished()

    async def get_final_completion(self) -> ChatCompletion:
        """Read the rest of the stream; return the completion it adds up to.

        Text and refusal per choice, tool calls assembled from their fragments (by
        index), logprobs, finish reasons and usage (when the usage chunk came).

        Raises:
            RuntimeError: the stream was closed before its end, or failed earlier.
            APIError and subclasses: as iterating the stream.
        """
        await self.until_done()
        completion = self._acc.build()
        attach_response_info(completion, request_id=self.request_id, headers=self.response_headers)
        return completion

    def text_deltas(self, index: int = 0) -> AsyncIterator[str]:
        """The text pieces of choice ``index`` as they arrive.

        Chunks without text for that choice (role, tool calls, other choices, usage)
        are skipped, but still accumulated for :meth:`get_final_completion`.
        """

        def extract(chunk: ChatCompletionChunk) -> str | None:
            for choice in chunk.choices:
                if choice.index == index:
                    return choice.delta.content
            return None

        return TextDeltas(self, extract)

    @property
    def current_text(self) -> str:
        """The text of choice 0 received so far."""
        return self._acc.text(0)


def _format(response_format: object) -> OutputFormat[Any]:
    """The output format of a ``response_format`` type, or a ValidationError."""
    try:
        return output_format(response_format)
    except (TypeError, ValueError) as exc:
        raise ValidationError([Problem("response_format", str(exc), None)]) from None


class ChatCompletions(Resource):
    """``POST /chat/completions`` and the stored-completion endpoints."""

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
        **params: Unpack[ChatCompletionCreateKwargs],
    ) -> ChatCompletion: ...

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
        **params: Unpack[ChatCompletionCreateKwargs],
    ) -> ChatCompletionStream: ...

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
        **params: Unpack[ChatCompletionCreateKwargs],
    ) -> ChatCompletion | ChatCompletionStream: ...

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
    ) -> ChatCompletion | ChatCompletionStream:
        """Create a chat completion (``stream=True``: a :class:`ChatCompletionStream`).

        Keyword arguments are the API's (``model``, ``messages``, ``tools``,
        ``response_format``, ``temperature`` ...), checked before anything is sent.

        Raises:
            ValidationError: every problem with the arguments; nothing was sent.
            APIStatusError, APIConnectionError, ...: see :mod:`trio_openai.errors`.
        """
        return await post_json_or_stream(
            self._client,
            "/chat/completions",
            ChatCompletionCreateParams,
            params,
            stream=stream,
            cast_to=ChatCompletion,
            stream_class=ChatCompletionStream,
            decode=_chunk_decoder.decode,
            extra_body=extra_body,
            options={
                "timeout": timeout,
                "max_retries": max_retries,
                "extra_headers": extra_headers,
                "extra_query": extra_query,
            },
        )

    def stream(
        self,
        *,
        response_format: type[Any]
        | ResponseFormatText
        | ResponseFormatJsonSchema
        | ResponseFormatJsonObject
        | NotGiven = NOT_GIVEN,
        timeout: float | Timeouts | NotGiven | None = NOT_GIVEN,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        **params: Unpack[ChatCompletionParseKwargs],
    ) -> StreamContext[ChatCompletionEventStream[Any]]:
        """``async with client.chat.completions.stream(...) as stream:``, yielding the
        official SDK's events (:class:`ChatCompletionEventStream`).

        Same arguments as :meth:`create` (``stream=True`` implied); a
        ``response_format`` type (Struct, dataclass, TypedDict, pydantic model) is
        sent as its strict schema and parsed while streaming (``content.done`` has
        ``parsed``; ``get_final_completion()`` returns ``message.parsed``). Leaving the
        block closes the stream; a stream read to its end returned its connection.

        Raises:
            ValidationError: ``stream`` was given, or the format type is not supported.
        """
        values: dict[str, Any] = dict(params)  # (a format type is replaced below)
        if "stream" in values:
            raise ValidationError(
                [Problem("stream", "is implied by .stream(); leave it out", None)]
            )
        fmt = None
        if isinstance(response_format, type):
            fmt = _format(response_format)
            values["response_format"] = fmt.response_format()
        elif not isinstance(response_format, NotGiven):
            values["response_format"] = response_format
        tools = tools_of(values.get("tools"))

        async def open_stream() -> ChatCompletionEventStream[Any]:
            chunks = await self.create(
                stream=True,
                timeout=timeout,
                max_retries=max_retries,
                extra_headers=extra_headers,
                extra_query=extra_query,
                extra_body=extra_body,
                **values,
            )
            return ChatCompletionEventStream(chunks, fmt, tools)

        return StreamContext(open_stream)

    @overload
    async def parse(
        self,
        *,
        response_format: type[T],
        timeout: float | Timeouts | NotGiven | None = ...,
        max_retries: int | None = ...,
        extra_headers: Mapping[str, str] | None = ...,
        extra_query: Mapping[str, object] | None = ...,
        extra_body: Mapping[str, object] | None = ...,
        **params: Unpack[ChatCompletionParseKwargs],
    ) -> ParsedChatCompletion[T]: ...

    @overload
    async def parse(
        self,
        *,
        response_format: Mapping[str, object] | NotGiven = ...,
        timeout: float | Timeouts | NotGiven | None = ...,
        max_retries: int | None = ...,
        extra_headers: Mapping[str, str] | None = ...,
        extra_query: Mapping[str, object] | None = ...,
        extra_body: Mapping[str, object] | None = ...,
        **params: Unpack[ChatCompletionParseKwargs],
    ) -> ParsedChatCompletion[None]: ...

    async def parse(
        self,
        *,
        response_format: type[T] | Mapping[str, object] | NotGiven = NOT_GIVEN,
        timeout: float | Timeouts | NotGiven | None = NOT_GIVEN,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        **params: Unpack[ChatCompletionParseKwargs],
    ) -> ParsedChatCompletion[T] | ParsedChatCompletion[None]:
        """Structured output: each choice's content decoded into ``response_format``.

        ``response_format`` is a msgspec Struct, dataclass, TypedDict or (with
        pydantic installed) a pydantic model; its strict JSON schema is sent, and
        each message's content is decoded into it (``choices[i].message.parsed``;
        ``None`` where the model refused, with ``message.refusal`` set). Strict
        function tools get ``function.parsed_arguments``. A ``response_format`` dict
        is sent as is and nothing is decoded.

        Raises:
            ValidationError: bad arguments (an unsupported type, named); nothing sent.
            LengthFinishReasonError: a choice stopped at the token limit.
            ContentFilterFinishReasonError: a choice was stopped by the content filter.
            APIResponseValidationError: the content did not match the type.
        """
        values: dict[str, Any] = dict(params)
        fmt = None
        if isinstance(response_format, Mapping):
            values["response_format"] = response_format
        elif not isinstance(response_format, NotGiven):
            fmt = _format(response_format)
            values["response_format"] = fmt.response_format()
        if "stream" in values:
            raise ValidationError(
                [Problem("stream", "is not supported by parse(); use stream()", None)]
            )
        body = build_body(ChatCompletionCreateParams, values, extra_body)
        client = self._client
        completion: ParsedChatCompletion[T] = await client._call(
            "POST",
            "/chat/completions",
            json=encode_body(body, extra_body),
            cast_to=ParsedChatCompletion,
            timeout=timeout,
            max_retries=max_retries,
            extra_headers=extra_headers,
            extra_query=extra_query,
            estimated_tokens=client._estimate_tokens(body),
        )
        return fill_parsed(completion, fmt, tools_of(values.get("tools")))

    # -- stored completions (store=True) ------------------------------------------------

    async def retrieve(self, completion_id: str, **options: Unpack[CallOptions]) -> ChatCompletion:
        return await self._client._call(
            "GET",
            f"/chat/completions/{path_id(completion_id, 'completion_id')}",
            cast_to=ChatCompletion,
            **options,
        )

    async def update(
        self, completion_id: str, *, metadata: Metadata, **options: Unpack[CallOptions]
    ) -> ChatCompletion:
        body = build_body(ChatCompletionUpdateParams, {"metadata": metadata})
        return await self._client._call(
            "POST",
            f"/chat/completions/{path_id(completion_id, 'completion_id')}",
            json=encode_body(body),
            cast_to=ChatCompletion,
            **options,
        )

    async def delete(
        self, completion_id: str, **options: Unpack[CallOptions]
    ) -> ChatCompletionDeleted:
        return await self._client._call(
            "DELETE",
            f"/chat/completions/{path_id(completion_id, 'completion_id')}",
            cast_to=ChatCompletionDeleted,
            **options,
        )

    def list(
        self,
        *,
        after: str | NotGiven | None = None,
        limit: int | NotGiven | None = None,
        order: ListOrder | NotGiven | None = None,
        model: str | NotGiven | None = None,
        metadata: Metadata | NotGiven = None,
        **options: Unpack[CallOptions],
    ) -> PageRequest[ChatCompletion]:
        query = {"after": after, "limit": limit, "order": order, "model": model}
        if metadata:
            query["metadata"] = dict(metadata)  # type: ignore[assignment]
        return self._client._list("/chat/completions", ChatCompletion, query, options)

    @property
    def messages(self) -> Messages:
        """``/chat/completions/{completion_id}/messages``: a stored completion's messages."""
        return Messages(self._client)
