"""``client.chat.completions``: ``/chat/completions`` and its stored completions.

Theory of operation
-------------------
``create`` validates the keyword arguments against
:class:`~trio_openai.types.chat.ChatCompletionCreateParams` (every problem at once,
nothing sent on error), then either decodes the JSON answer into a
:class:`~trio_openai.types.chat.ChatCompletion` or, with ``stream=True``, returns a
:class:`ChatCompletionStream` once the response head is in. The stream folds every
chunk it hands out into the final completion (:class:`~trio_openai._accumulate.ChatAccumulator`),
however it is read. ``stream()`` is the same call as an ``async with`` block;
``parse()`` sends a strict JSON schema built from a type and decodes each choice's
content into it (:class:`ParsedChatCompletion`).

The stored-completion endpoints (``store=True``: list, retrieve, update, delete) sit
on the same URL collection; the messages of one stored completion are the
sub-service :attr:`ChatCompletions.messages` (:mod:`.messages`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, overload

import msgspec

from ...._accumulate import ChatAccumulator
from ...._schema import response_format_for
from ...._streaming import Stream, TextDeltas
from ...._types import NOT_GIVEN, NotGiven
from ....errors import APIResponseValidationError, Problem, ValidationError
from ....types._base import DECODE_ERRORS, attach_response_info, decoder_for
from ....types.chat import (
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionCreateParams,
    ChatCompletionDeleted,
    ChatCompletionUpdateParams,
)
from ..._base import (
    Resource,
    StreamContext,
    build_body,
    encode_body,
    path_id,
    post_json_or_stream,
)
from .messages import Messages

if TYPE_CHECKING:
    from ...._config import Timeouts
    from ...._pagination import PageRequest

__all__ = ["ChatCompletionStream", "ChatCompletions", "ParsedChatCompletion"]

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


class ParsedChatCompletion(ChatCompletion, Generic[T], kw_only=True):
    """A chat completion whose message content was decoded into a type.

    ``parsed`` holds the decoded value of each choice (``None`` where the model
    refused; ``refusal`` on the message says why), in choice order.
    """

    parsed: list[T | None] = msgspec.field(default_factory=list)

    @property
    def output_parsed(self) -> T | None:
        """The parsed value of the first choice."""
        return self.parsed[0] if self.parsed else None


class ChatCompletions(Resource):
    """``POST /chat/completions`` and the stored-completion endpoints."""

    __slots__ = ()

    @overload
    async def create(
        self,
        *,
        stream: Literal[False] = False,
        timeout: float | Timeouts | NotGiven | None = ...,
        max_retries: int | None = ...,
        extra_headers: Mapping[str, str] | None = ...,
        extra_query: Mapping[str, object] | None = ...,
        extra_body: Mapping[str, object] | None = ...,
        **params: Any,
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
        **params: Any,
    ) -> ChatCompletionStream: ...

    async def create(
        self,
        *,
        stream: bool = False,
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

    def stream(self, **params: Any) -> StreamContext[ChatCompletionStream]:
        """``async with client.chat.completions.stream(...) as stream:``.

        Same arguments as :meth:`create` (``stream=True`` implied). Leaving the block
        closes the stream; a stream read to its end returned its connection already.
        """
        if "stream" in params:
            raise ValidationError(
                [Problem("stream", "is implied by .stream(); leave it out", None)]
            )

        async def open_stream() -> ChatCompletionStream:
            return await self.create(stream=True, **params)

        return StreamContext(open_stream)

    async def parse(
        self,
        *,
        response_format: type[T],
        timeout: float | Timeouts | NotGiven | None = NOT_GIVEN,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        **params: Any,
    ) -> ParsedChatCompletion[T]:
        """Structured output: the content of each choice decoded into ``response_format``.

        ``response_format`` is a msgspec Struct (or dataclass / TypedDict); its strict
        JSON schema is sent, and the reply is decoded into it. A refusal leaves
        ``parsed`` ``None`` for that choice, with ``message.refusal`` set.

        Raises:
            APIResponseValidationError: the content did not match the schema.
        """
        if not isinstance(response_format, type):
            raise ValidationError(
                [Problem("response_format", "must be a Struct, dataclass or TypedDict type", None)]
            )
        try:
            params["response_format"] = response_format_for(response_format)
        except TypeError as exc:
            raise ValidationError([Problem("response_format", str(exc), None)]) from None
        body = build_body(ChatCompletionCreateParams, params, extra_body)
        client = self._client
        completion = await client._call(
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
        decoder = decoder_for(response_format)
        parsed: list[Any] = []
        for choice in completion.choices:
            content = choice.message.content
            if choice.message.refusal or content is None:
                parsed.append(None)
                continue
            try:
                parsed.append(decoder.decode(content))
            except DECODE_ERRORS as exc:
                raise APIResponseValidationError(
                    f"choice {choice.index} content does not match "
                    f"{response_format.__name__}: {exc}",
                    status_code=200,
                    headers=completion.response_headers,
                    body=content[:4096],
                ) from exc
        completion.parsed = parsed
        return completion

    # -- stored completions (store=True) ------------------------------------------------

    async def retrieve(self, completion_id: str, **options: Any) -> ChatCompletion:
        return await self._client._call(
            "GET",
            f"/chat/completions/{path_id(completion_id, 'completion_id')}",
            cast_to=ChatCompletion,
            **options,
        )

    async def update(
        self, completion_id: str, *, metadata: Mapping[str, str] | None, **options: Any
    ) -> ChatCompletion:
        body = build_body(ChatCompletionUpdateParams, {"metadata": metadata})
        return await self._client._call(
            "POST",
            f"/chat/completions/{path_id(completion_id, 'completion_id')}",
            json=encode_body(body),
            cast_to=ChatCompletion,
            **options,
        )

    async def delete(self, completion_id: str, **options: Any) -> ChatCompletionDeleted:
        return await self._client._call(
            "DELETE",
            f"/chat/completions/{path_id(completion_id, 'completion_id')}",
            cast_to=ChatCompletionDeleted,
            **options,
        )

    def list(
        self,
        *,
        after: str | None = None,
        limit: int | None = None,
        order: Literal["asc", "desc"] | None = None,
        model: str | None = None,
        metadata: Mapping[str, str] | None = None,
        **options: Any,
    ) -> PageRequest[ChatCompletion]:
        query = {"after": after, "limit": limit, "order": order, "model": model}
        if metadata:
            query["metadata"] = dict(metadata)  # type: ignore[assignment]
        return self._client._list("/chat/completions", ChatCompletion, query, options)

    @property
    def messages(self) -> Messages:
        """``/chat/completions/{completion_id}/messages``: a stored completion's messages."""
        return Messages(self._client)
