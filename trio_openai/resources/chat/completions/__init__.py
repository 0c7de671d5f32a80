"""``/chat/completions``: the service (:mod:`.completions`) and the messages of a
stored completion (:mod:`.messages`)."""

from .completions import ChatCompletionEventStream as ChatCompletionEventStream
from .completions import ChatCompletions as ChatCompletions
from .completions import ChatCompletionStream as ChatCompletionStream
from .completions import ParsedChatCompletion as ParsedChatCompletion
from .messages import Messages as Messages

__all__ = [
    "ChatCompletionEventStream",
    "ChatCompletionStream",
    "ChatCompletions",
    "Messages",
    "ParsedChatCompletion",
]
