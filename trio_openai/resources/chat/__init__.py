"""``client.chat``: the chat services, one module per URL path (``/chat/completions``,
``/chat/completions/{id}/messages``); their public classes are re-exported here."""

from .chat import Chat as Chat
from .completions import ChatCompletionEventStream as ChatCompletionEventStream
from .completions import ChatCompletions as ChatCompletions
from .completions import ChatCompletionStream as ChatCompletionStream
from .completions import Messages as Messages
from .completions import ParsedChatCompletion as ParsedChatCompletion

__all__ = [
    "Chat",
    "ChatCompletionEventStream",
    "ChatCompletionStream",
    "ChatCompletions",
    "Messages",
    "ParsedChatCompletion",
]
