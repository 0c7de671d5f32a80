# msgspec evaluates annotations at run time, so names used only in annotations must
# stay run-time imports.
"""Realtime API objects carried inside server events: the session, conversation items
and their content, the response with its usage, rate limits, and the error.

Every field has a default and unknown fields are ignored, so a server that leaves a
field out or adds one never breaks decoding. Conversation items are one loose Struct
(the fields of messages, function calls and their outputs side by side) rather than a
union by ``type``: an item of a new kind still decodes, with its ``type`` kept.
"""

from __future__ import annotations

from typing import Any

import msgspec

from .._base import WireModel

__all__ = [
    "Conversation",
    "ConversationItem",
    "ConversationItemContent",
    "RateLimit",
    "RealtimeError",
    "RealtimeResponse",
    "RealtimeResponseStatusDetails",
    "RealtimeResponseUsage",
    "RealtimeResponseUsageInputTokenDetails",
    "RealtimeResponseUsageOutputTokenDetails",
    "RealtimeSession",
]


class RealtimeSession(WireModel, kw_only=True):
    """The session's effective configuration (``session.created`` / ``.updated``).

    The nested configuration (``audio``, ``tools``, ``tracing``...) is kept as the
    server sent it, as plain JSON values.
    """

    type: str = "realtime"
    id: str = ""
    object: str = ""
    model: str | None = None
    expires_at: int | None = None
    output_modalities: list[str] = msgspec.field(default_factory=list)
    instructions: str | None = None
    audio: dict[str, Any] | None = None
    include: list[str] | None = None
    tools: list[Any] = msgspec.field(default_factory=list)
    tool_choice: Any = None
    max_output_tokens: int | str | None = None
    tracing: Any = None
    truncation: Any = None
    prompt: Any = None


class Conversation(WireModel, kw_only=True):
    """``conversation.created``'s conversation."""

    id: str = ""
    object: str = "realtime.conversation"


class ConversationItemContent(WireModel, kw_only=True):
    """One content part of a message item (``input_text``, ``output_audio``...), or
    the ``part`` of ``response.content_part.*`` (``text``, ``audio``)."""

    type: str = ""
    text: str | None = None
    audio: str | None = None  # base64, when the server includes it
    transcript: str | None = None
    image_url: str | None = None
    detail: str | None = None
    id: str | None = None  # an item_reference part


class ConversationItem(WireModel, kw_only=True):
    """An item of the conversation: a message, a function call or its output, or any
    other ``type`` (MCP calls and lists...), whose own fields are ignored here.

    Attributes:
        type: ``message``, ``function_call``, ``function_call_output``... (kept as sent).
        role: ``user``, ``assistant`` or ``system`` for messages.
        content: the parts of a message.
        call_id, name, arguments: a function call; ``output`` its result.
    """

    id: str | None = None
    object: str | None = None
    type: str = ""
    status: str | None = None
    role: str | None = None
    content: list[ConversationItemContent] = msgspec.field(default_factory=list)
    call_id: str | None = None
    name: str | None = None
    arguments: str | None = None
    output: str | None = None


class RealtimeResponseUsageInputTokenDetails(WireModel, kw_only=True):
    cached_tokens: int = 0
    text_tokens: int = 0
    audio_tokens: int = 0
    image_tokens: int = 0


class RealtimeResponseUsageOutputTokenDetails(WireModel, kw_only=True):
    text_tokens: int = 0
    audio_tokens: int = 0


class RealtimeResponseUsage(WireModel, kw_only=True):
    """Tokens of one response (``response.done``)."""

    total_tokens: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    input_token_details: RealtimeResponseUsageInputTokenDetails | None = None
    output_token_details: RealtimeResponseUsageOutputTokenDetails | None = None


class RealtimeResponseStatusDetails(WireModel, kw_only=True):
    """Why a response ended as it did (``cancelled``, ``incomplete``, ``failed``)."""

    type: str | None = None
    reason: str | None = None
    error: dict[str, Any] | None = None


class RealtimeResponse(WireModel, kw_only=True):
    """A response (``response.created``, and whole with its usage in ``response.done``).

    Attributes:
        status: ``in_progress``, ``completed``, ``cancelled``, ``failed`` or
            ``incomplete`` (kept as sent).
        output: the items the response produced.
        usage: set in ``response.done``.
    """

    id: str = ""
    object: str = "realtime.response"
    status: str = ""
    status_details: RealtimeResponseStatusDetails | None = None
    output: list[ConversationItem] = msgspec.field(default_factory=list)
    metadata: dict[str, str] | None = None
    audio: dict[str, Any] | None = None
    usage: RealtimeResponseUsage | None = None
    conversation_id: str | None = None
    output_modalities: list[str] = msgspec.field(default_factory=list)
    max_output_tokens: int | str | None = None

    @property
    def output_text(self) -> str:
        """The text of every ``output_text`` part, or transcript of every
        ``output_audio`` part, of the output messages, joined."""
        pieces: list[str] = []
        for item in self.output:
            for part in item.content:
                if part.text is not None:
                    pieces.append(part.text)
                elif part.transcript is not None:
                    pieces.append(part.transcript)
        return "".join(pieces)


class RateLimit(WireModel, kw_only=True):
    """One limit of ``rate_limits.updated``: ``requests`` or ``tokens``."""

    name: str = ""
    limit: int = 0
    remaining: int = 0
    reset_seconds: float = 0.0


class RealtimeError(WireModel, kw_only=True):
    """The error of an ``error`` event.

    Attributes:
        type: e.g. ``invalid_request_error``.
        code, param: when the server gives them.
        event_id: the client event that caused it, if any.
    """

    type: str = ""
    code: str | None = None
    message: str = ""
    param: str | None = None
    event_id: str | None = None
