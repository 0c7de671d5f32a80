# msgspec and trio_openai._validate evaluate annotations at run time, so names
# used only in annotations must stay run-time imports.
# ruff: noqa: TC001
"""Conversations wire types (``/conversations`` and its ``items``).

Purpose
    The conversation object, its items (messages, tool calls, reasoning ...) and
    the params of create, update and item creation.

Theory of operation
    A conversation holds Responses API items, and their set of ``type`` s grows
    (the spec lists more than twenty), so an item is an
    :class:`~._base.OpenUnion` like a response's output: a ``message`` gets its
    own Struct (:class:`Message`, whose role may be ``user``, ``system`` or
    ``developer`` too, and whose content holds input parts as well as output
    parts), function calls, their outputs and reasoning reuse or mirror the
    Responses Structs, and any other type is kept whole as an
    :class:`UnknownConversationItem` dict.

Rules kept
    * Items sent (``items`` on create, ``items.create``) are the caller's dicts,
      checked with the Responses API's input-item shapes; at most 20 per call.
    * Responses: unknown fields ignored, every field the server may leave out
      has a default, unknown ``type`` s kept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import msgspec
from msgspec import UNSET, Meta, UnsetType, field

from ._base import (
    APIObject,
    DeletedObject,
    ListPage,
    OpenUnion,
    RequestParams,
    UnknownObject,
    ValidateAs,
    WireModel,
)
from .responses import (
    ResponseFunctionToolCall,
    ResponseOutputRefusal,
    ResponseOutputText,
    ResponseReasoningItem,
)
from .responses._params import ResponseInputItemParam  # the validator's (lenient) shape
from .shared import Metadata

__all__ = [
    "CONTENT",
    "ITEMS",
    "Conversation",
    "ConversationCreateParams",
    "ConversationDeletedResource",
    "ConversationItem",
    "ConversationItemList",
    "ConversationUpdateParams",
    "FunctionCallOutputItem",
    "InputFileContent",
    "InputImageContent",
    "InputTextContent",
    "ItemCreateParams",
    "Message",
    "TextContent",
    "UnknownConversationContent",
    "UnknownConversationItem",
]

_Items = Annotated[
    Annotated[list[dict[str, Any]], Meta(max_length=20)],
    ValidateAs(Annotated[list[ResponseInputItemParam], Meta(max_length=20)]),
]


class ConversationCreateParams(RequestParams, kw_only=True):
    """The body of ``POST /conversations``: up to 20 first items and metadata."""

    items: _Items | UnsetType | None = UNSET
    metadata: Metadata | UnsetType | None = UNSET


class ConversationUpdateParams(RequestParams, kw_only=True):
    """The body of ``POST /conversations/{conversation_id}``."""

    metadata: Metadata | None


class ItemCreateParams(RequestParams, kw_only=True):
    """The body of ``POST /conversations/{conversation_id}/items`` (``include`` is
    a query parameter, sent apart)."""

    items: _Items


# ==========================================================================
# Objects
# ==========================================================================


class Conversation(APIObject, kw_only=True):
    """``object: "conversation"``."""

    id: str
    object: str = "conversation"
    created_at: int = 0
    metadata: dict[str, str] | None = None


class ConversationDeletedResource(DeletedObject, kw_only=True):
    """Answer of ``DELETE /conversations/{conversation_id}``."""

    object: str = "conversation.deleted"


class InputTextContent(WireModel, kw_only=True):
    """``type: "input_text"``."""

    type: str = "input_text"
    text: str = ""


class InputImageContent(WireModel, kw_only=True):
    """``type: "input_image"``: a URL or an uploaded file."""

    type: str = "input_image"
    image_url: str | None = None
    file_id: str | None = None
    detail: str | None = None


class InputFileContent(WireModel, kw_only=True):
    """``type: "input_file"``."""

    type: str = "input_file"
    file_id: str | None = None
    file_url: str | None = None
    filename: str | None = None
    file_data: str | None = None


class TextContent(WireModel, kw_only=True):
    """``type: "text"``."""

    type: str = "text"
    text: str = ""


class UnknownConversationContent(UnknownObject):
    """A content part of a type this version does not know, kept whole."""

    __slots__ = ()


MessageContent = (
    InputTextContent
    | ResponseOutputText
    | TextContent
    | ResponseOutputRefusal
    | InputImageContent
    | InputFileContent
    | UnknownConversationContent
)

CONTENT: OpenUnion[MessageContent] = OpenUnion(
    "ConversationMessageContent",
    (
        InputTextContent,
        ResponseOutputText,
        TextContent,
        ResponseOutputRefusal,
        InputImageContent,
        InputFileContent,
    ),
    UnknownConversationContent,
    alias=MessageContent,
)

if TYPE_CHECKING:
    _ContentField = MessageContent
else:
    _ContentField = msgspec.Raw


class Message(WireModel, kw_only=True):
    """``type: "message"``: a message of any role, with input or output parts."""

    type: str = "message"
    id: str = ""
    role: str = ""
    status: str | None = None
    content: list[_ContentField] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.content = CONTENT.from_raw_list(self.content)


class FunctionCallOutputItem(WireModel, kw_only=True):
    """``type: "function_call_output"``: what a function call returned."""

    type: str = "function_call_output"
    id: str = ""
    call_id: str = ""
    output: str | list[Any] = ""
    status: str | None = None


class UnknownConversationItem(UnknownObject):
    """An item of a type this version does not know, kept whole."""

    __slots__ = ()

    @property
    def id(self) -> str | None:
        """The item's ``id``, if it has one."""
        value = self.get("id")
        return value if isinstance(value, str) else None


ConversationItem = (
    Message
    | ResponseFunctionToolCall
    | FunctionCallOutputItem
    | ResponseReasoningItem
    | UnknownConversationItem
)

ITEMS: OpenUnion[ConversationItem] = OpenUnion(
    "ConversationItem",
    (Message, ResponseFunctionToolCall, FunctionCallOutputItem, ResponseReasoningItem),
    UnknownConversationItem,
    alias=ConversationItem,
)

if TYPE_CHECKING:
    _ItemField = ConversationItem
else:
    _ItemField = msgspec.Raw


class ConversationItemList(ListPage[_ItemField], kw_only=True):
    """A page of items (``object: "list"``), each decoded into its Struct."""

    def __post_init__(self) -> None:
        self.data = ITEMS.from_raw_list(self.data)
