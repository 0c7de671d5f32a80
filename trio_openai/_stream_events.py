"""The official SDK's chat stream events, built from chunks as they arrive (sans-IO).

Theory of operation
-------------------
``chat.completions.stream(...)`` yields, for each chunk, the events the official SDK
yields (``chunk``, ``content.delta``, ``content.done`` ...; the types are in
:mod:`trio_openai.types.chat`). :class:`ChatEventBuilder` makes them. It reads the
:class:`~trio_openai._accumulate.ChatAccumulator` that the chunk stream already feeds
with every chunk (so nothing is accumulated twice) and keeps, per choice, only what
the ``.done`` events need: which parts are finished, and the tool call in progress.

The order of events follows the SDK's: the ``chunk`` event; then per choice of the
chunk its deltas (content, refusal, tool call arguments, logprobs); then the
``.done`` events of what the chunk finished: content, refusal and logprobs when the
choice has a finish reason or a tool call starts, a tool call when the next one
starts or the choice finishes.

Structured output while streaming: with a ``response_format`` type, ``content.delta``
carries ``parsed`` (the partial JSON so far, :mod:`._partial_json`) and
``content.done`` the content decoded into the type; a strict function tool's
argument deltas carry the partial JSON and its ``.done`` event the decoded
arguments. A choice that finishes at the token limit or the content filter while
something is to be parsed raises :class:`LengthFinishReasonError` /
:class:`ContentFilterFinishReasonError` at that chunk, as the SDK does.

Rules kept: sans-IO (chunks in, events out); text snapshots are built only when an
event's ``snapshot`` is read (see :mod:`trio_openai.types.chat._events`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ._parsing import fill_parsed, find_tool, has_parseable_input, parse_tool_arguments
from ._partial_json import parse_partial
from .errors import ContentFilterFinishReasonError, LengthFinishReasonError
from .types.chat import (
    ChunkEvent,
    ContentDeltaEvent,
    ContentDoneEvent,
    FunctionToolCallArgumentsDeltaEvent,
    FunctionToolCallArgumentsDoneEvent,
    LogprobsContentDeltaEvent,
    LogprobsContentDoneEvent,
    LogprobsRefusalDeltaEvent,
    LogprobsRefusalDoneEvent,
    ParsedChatCompletion,
    RefusalDeltaEvent,
    RefusalDoneEvent,
)
from .types.chat._events import TextSoFar

if TYPE_CHECKING:
    from ._accumulate import ChatAccumulator
    from ._structured import OutputFormat
    from .types.chat import ChatCompletionChunk, ChatCompletionStreamEvent, ChunkChoice

__all__ = ["ChatEventBuilder"]


class _ChoiceState:
    """What the ``.done`` events of one choice need remembered."""

    __slots__ = (
        "content_done",
        "current_tool",
        "done_tools",
        "logprobs_content_done",
        "logprobs_refusal_done",
        "parsed",
        "refusal_done",
    )

    def __init__(self) -> None:
        self.content_done = False
        self.refusal_done = False
        self.logprobs_content_done = False
        self.logprobs_refusal_done = False
        self.done_tools: set[int] = set()
        self.current_tool: int | None = None
        self.parsed: object = None  # the content decoded, once content.done was made


class ChatEventBuilder:
    """Turns each chunk (already added to ``acc``) into the SDK's events.

    Args:
        acc: the accumulator the chunk stream feeds.
        fmt: the ``response_format`` type's format, or ``None``.
        tools: the function tools of the request (for ``parsed_arguments``).
    """

    __slots__ = ("_acc", "_fmt", "_parseable", "_states", "_tools")

    def __init__(
        self,
        acc: ChatAccumulator,
        fmt: OutputFormat[Any] | None,
        tools: list[Mapping[str, Any]],
    ) -> None:
        self._acc = acc
        self._fmt = fmt
        self._tools = tools
        self._parseable = has_parseable_input(fmt, tools)
        self._states: dict[int, _ChoiceState] = {}

    def snapshot(self) -> ParsedChatCompletion[Any]:
        """The completion so far, with ``parsed`` as far as it goes: the decoded
        content once complete, the partial JSON before."""
        completion = self._acc.build(parsed=True)
        assert isinstance(completion, ParsedChatCompletion)
        for choice in completion.choices:
            state = self._states.get(choice.index)
            message = choice.message
            if state is not None and state.content_done:
                message.parsed = state.parsed
            elif self._fmt is not None and message.content and not message.refusal:
                try:
                    message.parsed = parse_partial(message.content)
                except ValueError:
                    message.parsed = None
        return completion

    def final(self) -> ParsedChatCompletion[Any]:
        """The final completion, parsed (see :func:`._parsing.fill_parsed`).

        Raises:
            LengthFinishReasonError, ContentFilterFinishReasonError,
            APIResponseValidationError: as ``parse()``.
        """
        completion = self._acc.build(parsed=True)
        assert isinstance(completion, ParsedChatCompletion)
        return fill_parsed(completion, self._fmt, self._tools)

    def events(self, chunk: ChatCompletionChunk) -> list[ChatCompletionStreamEvent[Any]]:
        """The events of ``chunk``, in the SDK's order.

        Raises:
            LengthFinishReasonError, ContentFilterFinishReasonError: a choice finished
                at the token limit or the content filter while output is parsed.
            APIResponseValidationError: finished content or arguments do not match
                their type.
        """
        out: list[ChatCompletionStreamEvent[Any]] = [ChunkEvent(chunk, self.snapshot)]
        for c in chunk.choices:
            if self._parseable and c.finish_reason in ("length", "content_filter"):
                snapshot = self.snapshot()
                if c.finish_reason == "length":
                    raise LengthFinishReasonError(completion=snapshot)
                raise ContentFilterFinishReasonError(completion=snapshot)
            self._choice_events(c, out)
        return out

    def _choice_events(self, c: ChunkChoice, out: list[Any]) -> None:
        acc = self._acc.choices[c.index]
        state = self._states.get(c.index)
        if state is None:
            state = self._states[c.index] = _ChoiceState()
        delta = c.delta
        if delta.content is not None:
            partial = parse_partial if self._fmt is not None and not acc.refusal else None
            out.append(
                ContentDeltaEvent(delta.content, TextSoFar(acc.content, len(acc.content)), partial)
            )
        if delta.refusal is not None:
            out.append(RefusalDeltaEvent(delta.refusal, TextSoFar(acc.refusal, len(acc.refusal))))
        for fragment in delta.tool_calls or ():
            call = acc.tool_calls[fragment.index]
            if call.type != "function":
                continue
            strict = find_tool(self._tools, call.name) is not None
            out.append(
                FunctionToolCallArgumentsDeltaEvent(
                    call.name,
                    fragment.index,
                    TextSoFar(call.arguments, len(call.arguments)),
                    (fragment.function.arguments or "") if fragment.function else "",
                    parse_partial if strict else None,
                )
            )
        logprobs = c.logprobs
        if logprobs is not None:
            if logprobs.content and acc.logprobs_content:
                out.append(LogprobsContentDeltaEvent(logprobs.content, acc.logprobs_content))
            if logprobs.refusal and acc.logprobs_refusal:
                out.append(LogprobsRefusalDeltaEvent(logprobs.refusal, acc.logprobs_refusal))
        # The .done events of what this chunk finished.
        if acc.finish_reason:
            self._content_done(c.index, state, out)
            if state.current_tool is not None and state.current_tool not in state.done_tools:
                self._tool_done(c.index, state, state.current_tool, out)
        for fragment in delta.tool_calls or ():
            if state.current_tool != fragment.index:
                self._content_done(c.index, state, out)
                if state.current_tool is not None:
                    self._tool_done(c.index, state, state.current_tool, out)
            state.current_tool = fragment.index

    def _content_done(self, index: int, state: _ChoiceState, out: list[Any]) -> None:
        acc = self._acc.choices[index]
        content = "".join(acc.content)
        if content and not state.content_done:
            state.content_done = True
            parsed = None
            if self._fmt is not None and not acc.refusal:
                parsed = self._fmt.decode(content, what=f"choice {index} content")
            state.parsed = parsed
            out.append(ContentDoneEvent(content, parsed))
        if acc.refusal and not state.refusal_done:
            state.refusal_done = True
            out.append(RefusalDoneEvent("".join(acc.refusal)))
        if acc.logprobs_content is not None and not state.logprobs_content_done:
            state.logprobs_content_done = True
            out.append(LogprobsContentDoneEvent(list(acc.logprobs_content)))
        if acc.logprobs_refusal is not None and not state.logprobs_refusal_done:
            state.logprobs_refusal_done = True
            out.append(LogprobsRefusalDoneEvent(list(acc.logprobs_refusal)))

    def _tool_done(self, index: int, state: _ChoiceState, tool: int, out: list[Any]) -> None:
        if tool in state.done_tools:
            return
        state.done_tools.add(tool)
        call = self._acc.choices[index].tool_calls[tool]
        if call.type != "function":
            return
        arguments = "".join(call.arguments)
        parsed = parse_tool_arguments(self._tools, call.name, arguments)
        out.append(FunctionToolCallArgumentsDoneEvent(call.name, tool, arguments, parsed))
