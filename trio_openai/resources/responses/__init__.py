"""``client.responses``: one module per URL path (``/responses``,
``/responses/{id}/input_items``); their public classes are re-exported here."""

from .input_items import InputItems as InputItems
from .responses import Responses as Responses
from .responses import ResponseStream as ResponseStream

__all__ = ["InputItems", "ResponseStream", "Responses"]
