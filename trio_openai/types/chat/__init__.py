"""Chat Completions wire types: request params, completion, chunk, stored objects.

Purpose
    ``POST /chat/completions`` (JSON and SSE), the stored-completion endpoints
    (list, retrieve, update, delete, messages).

Layout
    ``_params`` (the create and update params, and the messages, content
    parts, tools and options they take), ``_completion`` (the completion, the
    streamed chunk, the stored-completion objects), ``_parsed`` (structured
    output: ``message.parsed``), ``_events`` (the events of
    ``chat.completions.stream()``); every public name is
    re-exported here, so ``trio_openai.types.chat.X`` is the path to use.

Rules kept
    * Messages, content parts, tools and the other nested request objects are
      the caller's own dicts, typed for checkers by the TypedDicts below (the
      official SDK's names) and checked by ``trio_openai._validate`` against
      them. They are sent as given: key order, and keys newer than this
      library, survive exactly as in the SDK. A tagged union of Structs was
      rejected: it reorders keys, drops unknown ones, and costs a conversion
      per message on every call.
    * A ``ChatCompletionMessage`` from a previous response may be appended to
      ``messages`` as is: the validator turns it into its request form with
      ``to_param()``.
    * Responses: unknown fields ignored, enum-like fields are ``str``, and any
      field that may be absent has a default. Tool calls are one Struct with
      ``type`` plus optional ``function`` / ``custom`` payloads, so a new tool
      call type still decodes.
"""

from __future__ import annotations

from ._completion import Annotation as Annotation
from ._completion import AnnotationURLCitation as AnnotationURLCitation
from ._completion import ChatCompletion as ChatCompletion
from ._completion import ChatCompletionAudio as ChatCompletionAudio
from ._completion import ChatCompletionChunk as ChatCompletionChunk
from ._completion import ChatCompletionDeleted as ChatCompletionDeleted
from ._completion import ChatCompletionMessage as ChatCompletionMessage
from ._completion import ChatCompletionMessageToolCall as ChatCompletionMessageToolCall
from ._completion import ChatCompletionStoreMessage as ChatCompletionStoreMessage
from ._completion import ChatCompletionTokenLogprob as ChatCompletionTokenLogprob
from ._completion import Choice as Choice
from ._completion import ChoiceDelta as ChoiceDelta
from ._completion import ChoiceDeltaFunctionCall as ChoiceDeltaFunctionCall
from ._completion import ChoiceDeltaToolCall as ChoiceDeltaToolCall
from ._completion import ChoiceDeltaToolCallFunction as ChoiceDeltaToolCallFunction
from ._completion import ChoiceLogprobs as ChoiceLogprobs
from ._completion import ChunkChoice as ChunkChoice
from ._completion import Custom as Custom
from ._completion import Function as Function
from ._completion import FunctionCall as FunctionCall
from ._completion import TopLogprob as TopLogprob
from ._events import ChatCompletionStreamEvent as ChatCompletionStreamEvent
from ._events import ChunkEvent as ChunkEvent
from ._events import ContentDeltaEvent as ContentDeltaEvent
from ._events import ContentDoneEvent as ContentDoneEvent
from ._events import FunctionToolCallArgumentsDeltaEvent as FunctionToolCallArgumentsDeltaEvent
from ._events import FunctionToolCallArgumentsDoneEvent as FunctionToolCallArgumentsDoneEvent
from ._events import LogprobsContentDeltaEvent as LogprobsContentDeltaEvent
from ._events import LogprobsContentDoneEvent as LogprobsContentDoneEvent
from ._events import LogprobsRefusalDeltaEvent as LogprobsRefusalDeltaEvent
from ._events import LogprobsRefusalDoneEvent as LogprobsRefusalDoneEvent
from ._events import RefusalDeltaEvent as RefusalDeltaEvent
from ._events import RefusalDoneEvent as RefusalDoneEvent
from ._params import ChatCompletionAllowedToolChoiceParam as ChatCompletionAllowedToolChoiceParam
from ._params import ChatCompletionAssistantMessageParam as ChatCompletionAssistantMessageParam
from ._params import ChatCompletionAudioParam as ChatCompletionAudioParam
from ._params import ChatCompletionContentPartFileParam as ChatCompletionContentPartFileParam
from ._params import ChatCompletionContentPartImageParam as ChatCompletionContentPartImageParam
from ._params import (
    ChatCompletionContentPartInputAudioParam as ChatCompletionContentPartInputAudioParam,
)
from ._params import ChatCompletionContentPartParam as ChatCompletionContentPartParam
from ._params import ChatCompletionContentPartRefusalParam as ChatCompletionContentPartRefusalParam
from ._params import ChatCompletionContentPartTextParam as ChatCompletionContentPartTextParam
from ._params import ChatCompletionCreateParams as ChatCompletionCreateParams
from ._params import ChatCompletionCustomToolParam as ChatCompletionCustomToolParam
from ._params import ChatCompletionDeveloperMessageParam as ChatCompletionDeveloperMessageParam
from ._params import ChatCompletionFunctionMessageParam as ChatCompletionFunctionMessageParam
from ._params import ChatCompletionFunctionToolParam as ChatCompletionFunctionToolParam
from ._params import ChatCompletionMessageParam as ChatCompletionMessageParam
from ._params import ChatCompletionMessageToolCallParam as ChatCompletionMessageToolCallParam
from ._params import (
    ChatCompletionNamedToolChoiceCustomParam as ChatCompletionNamedToolChoiceCustomParam,
)
from ._params import ChatCompletionNamedToolChoiceParam as ChatCompletionNamedToolChoiceParam
from ._params import ChatCompletionPredictionContentParam as ChatCompletionPredictionContentParam
from ._params import ChatCompletionStreamOptionsParam as ChatCompletionStreamOptionsParam
from ._params import ChatCompletionSystemMessageParam as ChatCompletionSystemMessageParam
from ._params import ChatCompletionToolChoiceOptionParam as ChatCompletionToolChoiceOptionParam
from ._params import ChatCompletionToolMessageParam as ChatCompletionToolMessageParam
from ._params import ChatCompletionToolUnionParam as ChatCompletionToolUnionParam
from ._params import ChatCompletionUpdateParams as ChatCompletionUpdateParams
from ._params import ChatCompletionUserMessageParam as ChatCompletionUserMessageParam
from ._params import CustomToolDefinition as CustomToolDefinition
from ._params import FileFile as FileFile
from ._params import FunctionCallParam as FunctionCallParam
from ._params import ImageURL as ImageURL
from ._params import InputAudio as InputAudio
from ._params import ResponseFormat as ResponseFormat
from ._params import WebSearchOptions as WebSearchOptions
from ._parsed import ParsedChatCompletion as ParsedChatCompletion
from ._parsed import ParsedChatCompletionMessage as ParsedChatCompletionMessage
from ._parsed import ParsedChoice as ParsedChoice
from ._parsed import ParsedFunction as ParsedFunction
from ._parsed import ParsedFunctionToolCall as ParsedFunctionToolCall

__all__ = [
    # request: content parts
    "ChatCompletionContentPartTextParam",
    "ChatCompletionContentPartImageParam",
    "ChatCompletionContentPartInputAudioParam",
    "ChatCompletionContentPartFileParam",
    "ChatCompletionContentPartRefusalParam",
    "ChatCompletionContentPartParam",
    # request: messages
    "ChatCompletionSystemMessageParam",
    "ChatCompletionDeveloperMessageParam",
    "ChatCompletionUserMessageParam",
    "ChatCompletionAssistantMessageParam",
    "ChatCompletionToolMessageParam",
    "ChatCompletionFunctionMessageParam",
    "ChatCompletionMessageParam",
    "ChatCompletionMessageToolCallParam",
    # request: tools and options
    "ChatCompletionFunctionToolParam",
    "ChatCompletionCustomToolParam",
    "ChatCompletionToolUnionParam",
    "ChatCompletionToolChoiceOptionParam",
    "ChatCompletionNamedToolChoiceParam",
    "ChatCompletionAudioParam",
    "ChatCompletionStreamOptionsParam",
    "ChatCompletionPredictionContentParam",
    "WebSearchOptions",
    "ResponseFormat",
    "ChatCompletionCreateParams",
    "ChatCompletionUpdateParams",
    # response
    "ChatCompletion",
    "Choice",
    "ChoiceLogprobs",
    "ChatCompletionMessage",
    "ChatCompletionMessageToolCall",
    "Function",
    "Custom",
    "FunctionCall",
    "Annotation",
    "AnnotationURLCitation",
    "ChatCompletionAudio",
    "ChatCompletionTokenLogprob",
    "TopLogprob",
    "ChatCompletionChunk",
    "ChunkChoice",
    "ChoiceDelta",
    "ChoiceDeltaToolCall",
    "ChoiceDeltaToolCallFunction",
    "ChoiceDeltaFunctionCall",
    "ChatCompletionDeleted",
    "ChatCompletionStoreMessage",
    # parsed (structured output)
    "ParsedChatCompletion",
    "ParsedChoice",
    "ParsedChatCompletionMessage",
    "ParsedFunctionToolCall",
    "ParsedFunction",
    # the events of chat.completions.stream()
    "ChatCompletionStreamEvent",
    "ChunkEvent",
    "ContentDeltaEvent",
    "ContentDoneEvent",
    "RefusalDeltaEvent",
    "RefusalDoneEvent",
    "FunctionToolCallArgumentsDeltaEvent",
    "FunctionToolCallArgumentsDoneEvent",
    "LogprobsContentDeltaEvent",
    "LogprobsContentDoneEvent",
    "LogprobsRefusalDeltaEvent",
    "LogprobsRefusalDoneEvent",
]
