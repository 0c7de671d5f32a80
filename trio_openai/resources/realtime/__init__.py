"""``client.realtime``: Realtime sessions over a WebSocket (trio-websocket).

``realtime`` (the service and the ``async with`` manager), ``_connection`` (an open
session: receive, send, close), ``_helpers`` (``conn.session.update()`` and the other
send helpers), ``_target`` (URL, close codes and refusals, sans-IO). Imported on first
use of ``client.realtime``, with trio-websocket: ``import trio_openai`` loads neither.
"""

from __future__ import annotations

from ._connection import RealtimeConnection as RealtimeConnection
from ._helpers import RealtimeConversationItemResource as RealtimeConversationItemResource
from ._helpers import RealtimeConversationResource as RealtimeConversationResource
from ._helpers import RealtimeInputAudioBufferResource as RealtimeInputAudioBufferResource
from ._helpers import RealtimeOutputAudioBufferResource as RealtimeOutputAudioBufferResource
from ._helpers import RealtimeResponseResource as RealtimeResponseResource
from ._helpers import RealtimeSessionResource as RealtimeSessionResource
from .realtime import Realtime as Realtime
from .realtime import RealtimeConnectionManager as RealtimeConnectionManager

__all__ = [
    "Realtime",
    "RealtimeConnectionManager",
    "RealtimeConnection",
    "RealtimeSessionResource",
    "RealtimeResponseResource",
    "RealtimeInputAudioBufferResource",
    "RealtimeOutputAudioBufferResource",
    "RealtimeConversationResource",
    "RealtimeConversationItemResource",
]
