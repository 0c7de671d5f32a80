"""``client.conversations``: one module per URL path (``/conversations`` and its
``items``); their public classes are re-exported here."""

from .conversations import Conversations as Conversations
from .items import Items as Items

__all__ = ["Conversations", "Items"]
