"""The events of ``chat.completions.stream()``, with the official SDK's names and fields.

Purpose
    ``async for event in stream`` inside ``chat.completions.stream(...)`` yields, per
    chunk, a :class:`ChunkEvent` and then what the chunk added: ``content.delta``,
    ``refusal.delta``, ``tool_calls.function.arguments.delta``, the logprobs deltas;
    and once a part is complete its ``.done`` event (``content.done`` with ``parsed``,
    the content decoded into ``response_format``).

Rules kept
    * ``event.type`` and every attribute are the SDK's (``delta``, ``snapshot``,
      ``parsed``, ``arguments``, ``parsed_arguments``, ``arguments_delta`` ...), so
      ``if event.type == "content.delta": print(event.delta)`` ports unchanged.
    * Snapshots are built when read, not per chunk: ``snapshot`` (the text so far)
      joins the pieces received up to that event, and ``parsed`` on a delta (the
      partial JSON so far) is decoded on first access. A stream of n pieces costs
      O(n), where building every snapshot eagerly would cost O(n^2) in text copied.
      A ``snapshot`` read later still shows the text as of its event.
    * ``ChunkEvent.snapshot`` is the completion accumulated so far, built when read
      (as in the SDK, it reflects the stream's current state).
    * Events are small classes with ``__slots__``, not Structs: their lazy fields
      are properties. ``model_dump()``, ``to_dict()``, ``model_dump_json()`` and
      ``to_json()`` give their fields (and ``type``) as builtins.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypeVar, Union

import msgspec

from .._dump import dump_json

if TYPE_CHECKING:
    from ._completion import ChatCompletionChunk, ChatCompletionTokenLogprob
    from ._parsed import ParsedChatCompletion

__all__ = [
    "ChatCompletionStreamEvent",
    "ChunkEvent",
    "ContentDeltaEvent",
    "ContentDoneEvent",
    "FunctionToolCallArgumentsDeltaEvent",
    "FunctionToolCallArgumentsDoneEvent",
    "LogprobsContentDeltaEvent",
    "LogprobsContentDoneEvent",
    "LogprobsRefusalDeltaEvent",
    "LogprobsRefusalDoneEvent",
    "RefusalDeltaEvent",
    "RefusalDoneEvent",
    "TextSoFar",
]

T = TypeVar("T")

PartialParser = Callable[[str], object]
"""Reads JSON that is still being written (``trio_openai._partial_json.parse_partial``)."""


def _builtins(value: object) -> object:
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump()
    return msgspec.to_builtins(value)


class TextSoFar:
    """The text of a stream part up to one event: the first ``count`` pieces."""

    __slots__ = ("_count", "_pieces", "_text")

    def __init__(self, pieces: list[str], count: int) -> None:
        self._pieces = pieces
        self._count = count
        self._text: str | None = None

    def __str__(self) -> str:
        text = self._text
        if text is None:
            pieces = self._pieces
            count = self._count
            text = self._text = "".join(pieces if count == len(pieces) else pieces[:count])
        return text


class _Event:
    """Shared behaviour: repr, equality and the SDK's dump methods over ``_fields``."""

    __slots__ = ()
    type: ClassVar[str]
    _fields: ClassVar[tuple[str, ...]]

    def model_dump(self, **_options: Any) -> dict[str, Any]:
        """The event as builtins: ``type`` and every field (options are accepted as
        the SDK's and ignored)."""
        return {"type": self.type, **{f: _builtins(getattr(self, f)) for f in self._fields}}

    def to_dict(self, **options: Any) -> dict[str, Any]:
        return self.model_dump(**options)

    def model_dump_json(self, *, indent: int | None = None, **_options: Any) -> str:
        return dump_json(self.model_dump(), indent=indent)

    def to_json(self, *, indent: int | None = 2, **_options: Any) -> str:
        return dump_json(self.model_dump(), indent=indent)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f) for f in self._fields)

    __hash__ = None  # type: ignore[assignment]  # mutable-looking values: unhashable

    def __repr__(self) -> str:
        shown = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._fields)
        return f"{type(self).__name__}(type={self.type!r}, {shown})"


class ChunkEvent(_Event):
    """``"chunk"``: every chunk as received, with the completion so far."""

    __slots__ = ("_snapshot", "chunk")
    type: ClassVar[Literal["chunk"]] = "chunk"
    _fields = ("chunk", "snapshot")

    def __init__(
        self, chunk: ChatCompletionChunk, snapshot: Callable[[], ParsedChatCompletion[Any]]
    ) -> None:
        self.chunk = chunk
        self._snapshot = snapshot

    @property
    def snapshot(self) -> ParsedChatCompletion[Any]:
        """The completion accumulated so far (built when read)."""
        return self._snapshot()


class ContentDeltaEvent(_Event):
    """``"content.delta"``: a piece of a choice's content, the content so far, and
    (with a ``response_format`` type) the partial JSON read so far as ``parsed``."""

    __slots__ = ("_parsed", "_partial", "_so_far", "delta")
    type: ClassVar[Literal["content.delta"]] = "content.delta"
    _fields = ("delta", "snapshot", "parsed")

    def __init__(self, delta: str, so_far: TextSoFar, partial: PartialParser | None) -> None:
        self.delta = delta
        self._so_far = so_far
        self._partial = partial
        self._parsed: object = _UNREAD

    @property
    def snapshot(self) -> str:
        return str(self._so_far)

    @property
    def parsed(self) -> object | None:
        """The JSON so far (dicts and lists), or ``None`` without a format type."""
        parsed = self._parsed
        if parsed is _UNREAD:
            parsed = None
            if self._partial is not None:
                text = self.snapshot
                if text.strip():
                    try:
                        parsed = self._partial(text)
                    except ValueError:
                        parsed = None
            self._parsed = parsed
        return parsed


_UNREAD: Any = object()


class ContentDoneEvent(_Event, Generic[T]):
    """``"content.done"``: a choice's whole content, and ``parsed``: the content decoded
    into the ``response_format`` type (``None`` without one)."""

    __slots__ = ("content", "parsed")
    type: ClassVar[Literal["content.done"]] = "content.done"
    _fields = ("content", "parsed")

    def __init__(self, content: str, parsed: T | None) -> None:
        self.content = content
        self.parsed = parsed


class RefusalDeltaEvent(_Event):
    """``"refusal.delta"``: a piece of a refusal, and the refusal so far."""

    __slots__ = ("_so_far", "delta")
    type: ClassVar[Literal["refusal.delta"]] = "refusal.delta"
    _fields = ("delta", "snapshot")

    def __init__(self, delta: str, so_far: TextSoFar) -> None:
        self.delta = delta
        self._so_far = so_far

    @property
    def snapshot(self) -> str:
        return str(self._so_far)


class RefusalDoneEvent(_Event):
    """``"refusal.done"``: the whole refusal."""

    __slots__ = ("refusal",)
    type: ClassVar[Literal["refusal.done"]] = "refusal.done"
    _fields = ("refusal",)

    def __init__(self, refusal: str) -> None:
        self.refusal = refusal


class FunctionToolCallArgumentsDeltaEvent(_Event):
    """``"tool_calls.function.arguments.delta"``: a piece of a function call's
    arguments (``arguments_delta``), the arguments so far (``arguments``) and, for a
    strict tool, the partial JSON read so far (``parsed_arguments``)."""

    __slots__ = ("_parsed", "_partial", "_so_far", "arguments_delta", "index", "name")
    type: ClassVar[Literal["tool_calls.function.arguments.delta"]] = (
        "tool_calls.function.arguments.delta"
    )
    _fields = ("name", "index", "arguments", "parsed_arguments", "arguments_delta")

    def __init__(
        self,
        name: str,
        index: int,
        so_far: TextSoFar,
        arguments_delta: str,
        partial: PartialParser | None,
    ) -> None:
        self.name = name
        self.index = index
        self._so_far = so_far
        self.arguments_delta = arguments_delta
        self._partial = partial
        self._parsed: object = _UNREAD

    @property
    def arguments(self) -> str:
        return str(self._so_far)

    @property
    def parsed_arguments(self) -> object:
        parsed = self._parsed
        if parsed is _UNREAD:
            parsed = None
            if self._partial is not None and self.arguments.strip():
                try:
                    parsed = self._partial(self.arguments)
                except ValueError:
                    parsed = None
            self._parsed = parsed
        return parsed


class FunctionToolCallArgumentsDoneEvent(_Event):
    """``"tool_calls.function.arguments.done"``: a function call's whole arguments,
    and ``parsed_arguments`` for a strict tool (its type, or a dict)."""

    __slots__ = ("arguments", "index", "name", "parsed_arguments")
    type: ClassVar[Literal["tool_calls.function.arguments.done"]] = (
        "tool_calls.function.arguments.done"
    )
    _fields = ("name", "index", "arguments", "parsed_arguments")

    def __init__(self, name: str, index: int, arguments: str, parsed_arguments: object) -> None:
        self.name = name
        self.index = index
        self.arguments = arguments
        self.parsed_arguments = parsed_arguments


class _LogprobsSoFar:
    __slots__ = ("_count", "_items")

    def __init__(self, items: list[ChatCompletionTokenLogprob], count: int) -> None:
        self._items = items
        self._count = count

    def get(self) -> list[ChatCompletionTokenLogprob]:
        return self._items[: self._count]


class LogprobsContentDeltaEvent(_Event):
    """``"logprobs.content.delta"``: the content logprobs of a chunk, and all so far."""

    __slots__ = ("_so_far", "content")
    type: ClassVar[Literal["logprobs.content.delta"]] = "logprobs.content.delta"
    _fields = ("content", "snapshot")

    def __init__(
        self, content: list[ChatCompletionTokenLogprob], items: list[ChatCompletionTokenLogprob]
    ) -> None:
        self.content = content
        self._so_far = _LogprobsSoFar(items, len(items))

    @property
    def snapshot(self) -> list[ChatCompletionTokenLogprob]:
        return self._so_far.get()


class LogprobsContentDoneEvent(_Event):
    """``"logprobs.content.done"``: every content logprob of a choice."""

    __slots__ = ("content",)
    type: ClassVar[Literal["logprobs.content.done"]] = "logprobs.content.done"
    _fields = ("content",)

    def __init__(self, content: list[ChatCompletionTokenLogprob]) -> None:
        self.content = content


class LogprobsRefusalDeltaEvent(_Event):
    """``"logprobs.refusal.delta"``: the refusal logprobs of a chunk, and all so far."""

    __slots__ = ("_so_far", "refusal")
    type: ClassVar[Literal["logprobs.refusal.delta"]] = "logprobs.refusal.delta"
    _fields = ("refusal", "snapshot")

    def __init__(
        self, refusal: list[ChatCompletionTokenLogprob], items: list[ChatCompletionTokenLogprob]
    ) -> None:
        self.refusal = refusal
        self._so_far = _LogprobsSoFar(items, len(items))

    @property
    def snapshot(self) -> list[ChatCompletionTokenLogprob]:
        return self._so_far.get()


class LogprobsRefusalDoneEvent(_Event):
    """``"logprobs.refusal.done"``: every refusal logprob of a choice."""

    __slots__ = ("refusal",)
    type: ClassVar[Literal["logprobs.refusal.done"]] = "logprobs.refusal.done"
    _fields = ("refusal",)

    def __init__(self, refusal: list[ChatCompletionTokenLogprob]) -> None:
        self.refusal = refusal


ChatCompletionStreamEvent = Union[  # noqa: UP007  (a runtime alias, as the SDK's)
    ChunkEvent,
    ContentDeltaEvent,
    ContentDoneEvent[T],
    RefusalDeltaEvent,
    RefusalDoneEvent,
    FunctionToolCallArgumentsDeltaEvent,
    FunctionToolCallArgumentsDoneEvent,
    LogprobsContentDeltaEvent,
    LogprobsContentDoneEvent,
    LogprobsRefusalDeltaEvent,
    LogprobsRefusalDoneEvent,
]
"""Any event of ``chat.completions.stream()`` (narrow on ``event.type``)."""
