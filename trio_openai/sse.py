"""Server-Sent Events: the sans-IO decoder used by streaming responses.

Public home of :class:`SSEDecoder`, :class:`ServerSentEvent` and :class:`SSEError`;
the implementation (and the exact WHATWG rules it keeps) lives in
``trio_openai._sse``. Useful on its own, for example to decode a recorded
``text/event-stream`` body in a test.
"""

from __future__ import annotations

from trio_openai._sse import ServerSentEvent as ServerSentEvent
from trio_openai._sse import SSEDecoder as SSEDecoder
from trio_openai._sse import SSEError as SSEError

__all__ = ["SSEDecoder", "SSEError", "ServerSentEvent"]
