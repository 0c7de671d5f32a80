"""Building final objects from streamed chunks (sans-IO).

:class:`ChatAccumulator` folds ``chat.completion.chunk`` objects into the
``chat.completion`` the same request would have returned without streaming: text
and refusal per choice (by ``index``), tool calls assembled from their argument
fragments (keyed by the fragment's ``index``, not its ``id``, which only the first
fragment carries), logprobs, finish reasons, and the usage chunk that
``stream_options={"include_usage": True}`` adds at the end (with no choices).

:class:`CompletionAccumulator` does the same for legacy ``text_completion`` chunks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .types.chat import ChatCompletion, ChatCompletionChunk
    from .types.completions import Completion
    from .types.shared import CompletionUsage

__all__ = ["ChatAccumulator", "CompletionAccumulator"]


class _ToolCall:
    __slots__ = ("arguments", "id", "name", "type")

    def __init__(self) -> None:
        self.id = ""
        self.type = "function"
        self.name = ""
        self.arguments: list[str] = []


class _Choice:
    __slots__ = (
        "content",
        "finish_reason",
        "function_args",
        "function_name",
        "logprobs_content",
        "logprobs_refusal",
        "refusal",
        "role",
        "tool_calls",
    )

    def __init__(self) -> None:
        self.role = "assistant"
        self.content: list[str] = []
        self.refusal: list[str] = []
        self.tool_calls: dict[int, _ToolCall] = {}
        self.function_name: str | None = None
        self.function_args: list[str] = []
        self.finish_reason: str | None = None
        self.logprobs_content: list[Any] | None = None
        self.logprobs_refusal: list[Any] | None = None


class ChatAccumulator:
    """Feed every chunk to :meth:`add`; :meth:`build` the completion at the end."""

    __slots__ = (
        "choices",
        "created",
        "id",
        "model",
        "service_tier",
        "system_fingerprint",
        "usage",
    )

    def __init__(self) -> None:
        self.id = ""
        self.model = ""
        self.created = 0
        self.system_fingerprint: str | None = None
        self.service_tier: str | None = None
        self.usage: CompletionUsage | None = None
        self.choices: dict[int, _Choice] = {}

    def add(self, chunk: ChatCompletionChunk) -> None:
        if chunk.id:
            self.id = chunk.id
        if chunk.model:
            self.model = chunk.model
        if chunk.created:
            self.created = chunk.created
        if chunk.system_fingerprint is not None:
            self.system_fingerprint = chunk.system_fingerprint
        if chunk.service_tier is not None:
            self.service_tier = chunk.service_tier
        if chunk.usage is not None:
            self.usage = chunk.usage
        for c in chunk.choices:
            acc = self.choices.get(c.index)
            if acc is None:
                acc = self.choices[c.index] = _Choice()
            d = c.delta
            if d.role:
                acc.role = d.role
            if d.content:
                acc.content.append(d.content)
            if d.refusal:
                acc.refusal.append(d.refusal)
            if d.tool_calls:
                for frag in d.tool_calls:
                    call = acc.tool_calls.get(frag.index)
                    if call is None:
                        call = acc.tool_calls[frag.index] = _ToolCall()
                    if frag.id:
                        call.id = frag.id
                    if frag.type:
                        call.type = frag.type
                    fn = frag.function
                    if fn is not None:
                        if fn.name:
                            call.name += fn.name
                        if fn.arguments:
                            call.arguments.append(fn.arguments)
            if d.function_call is not None:
                if d.function_call.name:
                    acc.function_name = (acc.function_name or "") + d.function_call.name
                if d.function_call.arguments:
                    acc.function_args.append(d.function_call.arguments)
            if c.logprobs is not None:
                if c.logprobs.content:
                    acc.logprobs_content = (acc.logprobs_content or []) + c.logprobs.content
                if c.logprobs.refusal:
                    acc.logprobs_refusal = (acc.logprobs_refusal or []) + c.logprobs.refusal
            if c.finish_reason is not None:
                acc.finish_reason = c.finish_reason

    def text(self, index: int = 0) -> str:
        """The text of choice ``index`` so far."""
        acc = self.choices.get(index)
        return "".join(acc.content) if acc is not None else ""

    def build(self) -> ChatCompletion:
        from .types.chat import (
            ChatCompletion,
            ChatCompletionMessage,
            ChatCompletionMessageToolCall,
            Choice,
            ChoiceLogprobs,
            Function,
            FunctionCall,
        )

        choices = []
        for index in sorted(self.choices):
            acc = self.choices[index]
            tool_calls = None
            if acc.tool_calls:
                tool_calls = [
                    ChatCompletionMessageToolCall(
                        id=call.id,
                        type=call.type,
                        function=Function(name=call.name, arguments="".join(call.arguments)),
                    )
                    for _, call in sorted(acc.tool_calls.items())
                ]
            function_call = None
            if acc.function_name is not None:
                function_call = FunctionCall(
                    name=acc.function_name, arguments="".join(acc.function_args)
                )
            logprobs = None
            if acc.logprobs_content is not None or acc.logprobs_refusal is not None:
                logprobs = ChoiceLogprobs(
                    content=acc.logprobs_content, refusal=acc.logprobs_refusal
                )
            message = ChatCompletionMessage(
                role=acc.role,
                content="".join(acc.content) if acc.content else None,
                refusal="".join(acc.refusal) if acc.refusal else None,
                tool_calls=tool_calls,
                function_call=function_call,
            )
            choices.append(
                Choice(
                    index=index,
                    message=message,
                    finish_reason=acc.finish_reason,
                    logprobs=logprobs,
                )
            )
        return ChatCompletion(
            id=self.id,
            created=self.created,
            model=self.model,
            choices=choices,
            usage=self.usage,
            service_tier=self.service_tier,
            system_fingerprint=self.system_fingerprint,
        )


class CompletionAccumulator:
    """The legacy ``text_completion`` counterpart of :class:`ChatAccumulator`."""

    __slots__ = ("created", "finish", "id", "model", "system_fingerprint", "texts", "usage")

    def __init__(self) -> None:
        self.id = ""
        self.model = ""
        self.created = 0
        self.system_fingerprint: str | None = None
        self.usage: CompletionUsage | None = None
        self.texts: dict[int, list[str]] = {}
        self.finish: dict[int, str | None] = {}

    def add(self, chunk: Completion) -> None:
        if chunk.id:
            self.id = chunk.id
        if chunk.model:
            self.model = chunk.model
        if chunk.created:
            self.created = chunk.created
        if chunk.system_fingerprint is not None:
            self.system_fingerprint = chunk.system_fingerprint
        if chunk.usage is not None:
            self.usage = chunk.usage
        for c in chunk.choices:
            self.texts.setdefault(c.index, []).append(c.text)
            if c.finish_reason is not None:
                self.finish[c.index] = c.finish_reason
            else:
                self.finish.setdefault(c.index, None)

    def build(self) -> Completion:
        from .types.completions import Completion, CompletionChoice

        return Completion(
            id=self.id,
            created=self.created,
            model=self.model,
            choices=[
                CompletionChoice(
                    index=i, text="".join(self.texts[i]), finish_reason=self.finish.get(i)
                )
                for i in sorted(self.texts)
            ],
            usage=self.usage,
            system_fingerprint=self.system_fingerprint,
        )
