"""Building final objects from streamed chunks (sans-IO).

:class:`ChatAccumulator` folds ``chat.completion.chunk`` objects into the
``chat.completion`` the same request would have returned without streaming: text
and refusal per choice (by ``index``), tool calls assembled from their argument
fragments (keyed by the fragment's ``index``, not its ``id``, which only the first
fragment carries), logprobs, finish reasons, and the usage chunk that
``stream_options={"include_usage": True}`` adds at the end (with no choices).

:class:`CompletionAccumulator` does the same for legacy ``text_completion`` chunks.

Rules kept: sans-IO (no trio, no clock); a chunk is folded in as it is handed to the
consumer, so the final object is ready whichever way the stream was read; fragments
are kept in lists and joined once (never ``+=`` on a growing string or list); the
common chunk (a text delta) touches only its content.

Options rejected: the SDK's generic recursive merge of deltas as dicts (numbers
added, lists merged by ``index``): typed fields with one explicit rule each are
faster and cannot invent fields; building the final object on every chunk.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .types.chat import ChatCompletion, ChatCompletionChunk, ChoiceDelta
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
    """Feed every chunk to :meth:`add`; :meth:`build` the completion at the end.

    Keyed by ``choice.index`` and, within a choice, by ``tool_call.index``; pieces are
    kept in lists and joined once in :meth:`build` (no quadratic string building).
    """

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
        """Fold one chunk in (called for every chunk handed to the consumer).

        Hot path: a text-only delta costs one dict lookup and one list append; every
        other field is looked at only when present.
        """
        if not self.id:
            self._first(chunk)
        usage = chunk.usage
        if usage is not None:
            self.usage = usage
        choices = self.choices
        for c in chunk.choices:
            acc = choices.get(c.index)
            if acc is None:
                acc = choices[c.index] = _Choice()
            d = c.delta
            content = d.content
            if content:
                acc.content.append(content)
            if d.role or d.refusal or d.tool_calls or d.function_call is not None:
                self._add_rare(acc, d)
            logprobs = c.logprobs
            if logprobs is not None:
                if logprobs.content:
                    if acc.logprobs_content is None:
                        acc.logprobs_content = []
                    acc.logprobs_content.extend(logprobs.content)
                if logprobs.refusal:
                    if acc.logprobs_refusal is None:
                        acc.logprobs_refusal = []
                    acc.logprobs_refusal.extend(logprobs.refusal)
            if c.finish_reason is not None:
                acc.finish_reason = c.finish_reason

    def _first(self, chunk: ChatCompletionChunk) -> None:
        # id, model, created, fingerprint and tier repeat on every chunk: take them
        # from the first chunk that has an id (and later ones fill what it lacked).
        self.id = chunk.id
        if chunk.model:
            self.model = chunk.model
        if chunk.created:
            self.created = chunk.created
        if chunk.system_fingerprint is not None:
            self.system_fingerprint = chunk.system_fingerprint
        if chunk.service_tier is not None:
            self.service_tier = chunk.service_tier

    @staticmethod
    def _add_rare(acc: _Choice, d: ChoiceDelta) -> None:
        if d.role:
            acc.role = d.role
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

    def finished(self) -> bool:
        """Whether a choice has arrived and every one has its ``finish_reason``."""
        return bool(self.choices) and all(
            c.finish_reason is not None for c in self.choices.values()
        )

    def text(self, index: int = 0) -> str:
        """The text of choice ``index`` so far."""
        acc = self.choices.get(index)
        return "".join(acc.content) if acc is not None else ""

    def build(self, *, parsed: bool = False) -> ChatCompletion:
        """The completion the chunks so far add up to (a new object each call).

        With ``parsed``, it is built from the parsed types
        (:class:`~trio_openai.types.chat.ParsedChatCompletion` and its parts), ready for
        ``message.parsed`` and ``function.parsed_arguments`` to be filled in.
        """
        from .types import chat

        # The plain or the parsed family of types (the parsed ones add fields).
        kinds: tuple[Any, ...] = (
            (
                chat.ParsedChatCompletion,
                chat.ParsedChatCompletionMessage,
                chat.ParsedChoice,
                chat.ParsedFunction,
                chat.ParsedFunctionToolCall,
            )
            if parsed
            else (
                chat.ChatCompletion,
                chat.ChatCompletionMessage,
                chat.Choice,
                chat.Function,
                chat.ChatCompletionMessageToolCall,
            )
        )
        completion_type, message_type, choice_type, function_type, call_type = kinds
        choices = []
        for index in sorted(self.choices):
            acc = self.choices[index]
            tool_calls = None
            if acc.tool_calls:
                tool_calls = [
                    call_type(
                        id=call.id,
                        type=call.type,
                        function=function_type(name=call.name, arguments="".join(call.arguments)),
                    )
                    for _, call in sorted(acc.tool_calls.items())
                ]
            function_call = None
            if acc.function_name is not None:
                function_call = chat.FunctionCall(
                    name=acc.function_name, arguments="".join(acc.function_args)
                )
            logprobs = None
            if acc.logprobs_content is not None or acc.logprobs_refusal is not None:
                logprobs = chat.ChoiceLogprobs(
                    content=acc.logprobs_content, refusal=acc.logprobs_refusal
                )
            message = message_type(
                role=acc.role,
                content="".join(acc.content) if acc.content else None,
                refusal="".join(acc.refusal) if acc.refusal else None,
                tool_calls=tool_calls,
                function_call=function_call,
            )
            choices.append(
                choice_type(
                    index=index,
                    message=message,
                    finish_reason=acc.finish_reason,
                    logprobs=logprobs,
                )
            )
        result: ChatCompletion = completion_type(
            id=self.id,
            created=self.created,
            model=self.model,
            choices=choices,
            usage=self.usage,
            service_tier=self.service_tier,
            system_fingerprint=self.system_fingerprint,
        )
        return result


class CompletionAccumulator:
    """The legacy ``text_completion`` counterpart of :class:`ChatAccumulator`.

    Text per choice, finish reasons, usage, and logprobs (each list of the legacy
    ``logprobs`` object concatenated over the chunks).
    """

    __slots__ = (
        "created",
        "finish",
        "id",
        "logprobs",
        "model",
        "system_fingerprint",
        "texts",
        "usage",
    )

    def __init__(self) -> None:
        self.id = ""
        self.model = ""
        self.created = 0
        self.system_fingerprint: str | None = None
        self.usage: CompletionUsage | None = None
        self.texts: dict[int, list[str]] = {}
        self.finish: dict[int, str | None] = {}
        self.logprobs: dict[int, dict[str, list[Any]]] = {}

    def add(self, chunk: Completion) -> None:
        """Fold one chunk in."""
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
            index = c.index
            texts = self.texts.get(index)
            if texts is None:
                texts = self.texts[index] = []
                self.finish[index] = None
            texts.append(c.text)
            if c.finish_reason is not None:
                self.finish[index] = c.finish_reason
            lp = c.logprobs
            if lp is not None:
                lists = self.logprobs.setdefault(index, {})
                for name in ("text_offset", "token_logprobs", "tokens", "top_logprobs"):
                    part = getattr(lp, name)
                    if part:
                        lists.setdefault(name, []).extend(part)

    def finished(self) -> bool:
        """Whether a choice has arrived and every one has its ``finish_reason``."""
        return bool(self.finish) and all(f is not None for f in self.finish.values())

    def build(self) -> Completion:
        """The completion the chunks so far add up to."""
        from .types.completions import Completion, CompletionChoice, Logprobs

        choices = []
        for i in sorted(self.texts):
            lists = self.logprobs.get(i)
            choices.append(
                CompletionChoice(
                    index=i,
                    text="".join(self.texts[i]),
                    finish_reason=self.finish.get(i),
                    logprobs=Logprobs(**lists) if lists is not None else None,
                )
            )
        return Completion(
            id=self.id,
            created=self.created,
            model=self.model,
            choices=choices,
            usage=self.usage,
            system_fingerprint=self.system_fingerprint,
        )
