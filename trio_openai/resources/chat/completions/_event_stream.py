"""What ``chat.completions.stream(...)`` gives: the SDK's events over a chunk stream.

Theory of operation
-------------------
:class:`ChatCompletionEventStream` owns a :class:`ChatCompletionStream` (the chunks of
``create(stream=True)``, which folds every chunk into its accumulator) and turns each
chunk it pulls into the official SDK's events with a sans-IO
:class:`~trio_openai._stream_events.ChatEventBuilder`. Events of one chunk are handed
out one by one before the next chunk is read, so back-pressure is still the socket's.
``get_final_completion()`` reads the rest and returns the
:class:`~trio_openai.types.chat.ParsedChatCompletion` (``message.parsed`` filled for a
``response_format`` type, ``parsed_arguments`` for strict tools).

The chunk stream's own helpers stay available: ``text_deltas()`` and ``current_text``
read the text without events (chunks read that way produce no events, but are still
accumulated for ``get_final_completion()``), and ``state``, ``completed``,
``request_id``, ``response_headers`` describe the stream. Closing closes the chunk
stream (an unread body closes its connection).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ...._stream_events import ChatEventBuilder
from ....types._base import attach_response_info

if TYPE_CHECKING:
    from types import TracebackType

    from typing_extensions import Self

    from ...._http import Headers
    from ...._streaming import Closed, StreamState
    from ...._structured import OutputFormat
    from ....types.chat import ChatCompletionStreamEvent, ParsedChatCompletion
    from .completions import ChatCompletionStream

__all__ = ["ChatCompletionEventStream"]

T = TypeVar("T")


class ChatCompletionEventStream(Generic[T]):
    """The SDK's ``AsyncChatCompletionStream``: ``async for event in stream`` gives
    ``chunk``, ``content.delta``, ``content.done``, ``refusal.delta`` ...,
    ``tool_calls.function.arguments.delta`` / ``.done`` and the logprobs events
    (:mod:`trio_openai.types.chat`), with the SDK's attribute names.

    Raises (while iterating): what the chunk stream raises, and
    ``LengthFinishReasonError`` / ``ContentFilterFinishReasonError`` when output is
    parsed and a choice stops at the token limit or the content filter.
    """

    __slots__ = ("_builder", "_index", "_pending", "_stream")

    def __init__(
        self,
        stream: ChatCompletionStream,
        fmt: OutputFormat[Any] | None = None,
        tools: list[Mapping[str, Any]] | None = None,
    ) -> None:
        self._stream = stream
        self._builder = ChatEventBuilder(stream._acc, fmt, tools or [])
        self._pending: list[ChatCompletionStreamEvent[T]] = []
        self._index = 0

    def __repr__(self) -> str:
        return f"<ChatCompletionEventStream over {self._stream!r}>"

    # -- events ------------------------------------------------------------------------

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> ChatCompletionStreamEvent[T]:
        """The next event (a chunk is read only when the last one's events are out)."""
        while self._index >= len(self._pending):
            chunk = await self._stream.__anext__()
            self._pending = self._builder.events(chunk)
            self._index = 0
        event = self._pending[self._index]
        self._index += 1
        return event

    async def until_done(self) -> Self:
        """Read the stream to its end (events are made but not returned).

        Raises:
            RuntimeError: the stream was closed before it completed.
        """
        async for _ in self:
            pass
        await self._stream.until_done()
        return self

    async def get_final_completion(self) -> ParsedChatCompletion[T]:
        """Read the rest of the stream; return the completion, parsed.

        Raises:
            RuntimeError: the stream was closed before its end, or failed earlier.
            LengthFinishReasonError, ContentFilterFinishReasonError: as ``parse()``.
            APIError and subclasses: as iterating the stream.
        """
        await self.until_done()
        completion: ParsedChatCompletion[T] = self._builder.final()
        stream = self._stream
        attach_response_info(
            completion, request_id=stream.request_id, headers=stream.response_headers
        )
        return completion

    @property
    def current_completion_snapshot(self) -> ParsedChatCompletion[T]:
        """The completion accumulated so far (built when read)."""
        snapshot: ParsedChatCompletion[T] = self._builder.snapshot()
        return snapshot

    # -- the chunk stream's own helpers ---------------------------------------------------

    def text_deltas(self, index: int = 0) -> AsyncIterator[str]:
        """The text pieces of choice ``index``, without events (see the module doc)."""
        return self._stream.text_deltas(index)

    @property
    def current_text(self) -> str:
        """The text of choice 0 received so far."""
        return self._stream.current_text

    @property
    def state(self) -> StreamState:
        return self._stream.state

    @property
    def completed(self) -> bool:
        """Whether the stream reached its end marker (it was not cut short)."""
        return self._stream.completed

    @property
    def request_id(self) -> str | None:
        return self._stream.request_id

    @property
    def response_headers(self) -> Headers:
        return self._stream.response_headers

    # -- closing -----------------------------------------------------------------------

    def close(self) -> Closed:
        """Close now: synchronous and idempotent (see :meth:`Stream.close`); the value
        may be awaited, as the SDK's ``await stream.close()``."""
        return self._stream.close()

    async def aclose(self) -> None:
        """Close now, then checkpoint. Idempotent."""
        await self._stream.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stream.close()
