"""Moderations wire types (``POST /moderations``).

Purpose
    Request params and the moderation result.

Rules kept
    * Category names contain ``/`` and ``-`` on the wire; the Struct fields
      use the SDK's Python names (``self_harm_intent``) renamed with
      ``msgspec.field(name=...)``. Categories newer than this library are
      ignored by these Structs; ``Moderation.categories`` keeps the known ones.
    * Everything has a default, ``illicit`` flags may be null.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypedDict

from msgspec import UNSET, UnsetType, field

from ._base import APIObject, RequestParams, ValidateAs, WireModel

__all__ = [
    "Categories",
    "CategoryAppliedInputTypes",
    "CategoryScores",
    "Moderation",
    "ModerationCreateParams",
    "ModerationCreateResponse",
    "ModerationImageURLInputParam",
    "ModerationTextInputParam",
]


class _ImageURL(TypedDict):
    url: str


class ModerationImageURLInputParam(TypedDict):
    """``{"type": "image_url", "image_url": {"url": ...}}``."""

    type: Literal["image_url"]
    image_url: _ImageURL


class ModerationTextInputParam(TypedDict):
    """``{"type": "text", "text": ...}``."""

    type: Literal["text"]
    text: str


ModerationInput = str | list[str] | list[ModerationImageURLInputParam | ModerationTextInputParam]


class ModerationCreateParams(RequestParams, kw_only=True):
    """The body of ``POST /moderations`` (SDK field order)."""

    model: str | UnsetType = UNSET
    input: Annotated[str | list[Any], ValidateAs(ModerationInput)]


class Categories(WireModel, kw_only=True):
    """Whether each category was flagged."""

    harassment: bool = False
    harassment_threatening: bool = field(default=False, name="harassment/threatening")
    hate: bool = False
    hate_threatening: bool = field(default=False, name="hate/threatening")
    illicit: bool | None = None
    illicit_violent: bool | None = field(default=None, name="illicit/violent")
    self_harm: bool = field(default=False, name="self-harm")
    self_harm_instructions: bool = field(default=False, name="self-harm/instructions")
    self_harm_intent: bool = field(default=False, name="self-harm/intent")
    sexual: bool = False
    sexual_minors: bool = field(default=False, name="sexual/minors")
    violence: bool = False
    violence_graphic: bool = field(default=False, name="violence/graphic")


class CategoryScores(WireModel, kw_only=True):
    """The score of each category."""

    harassment: float = 0.0
    harassment_threatening: float = field(default=0.0, name="harassment/threatening")
    hate: float = 0.0
    hate_threatening: float = field(default=0.0, name="hate/threatening")
    illicit: float = 0.0
    illicit_violent: float = field(default=0.0, name="illicit/violent")
    self_harm: float = field(default=0.0, name="self-harm")
    self_harm_instructions: float = field(default=0.0, name="self-harm/instructions")
    self_harm_intent: float = field(default=0.0, name="self-harm/intent")
    sexual: float = 0.0
    sexual_minors: float = field(default=0.0, name="sexual/minors")
    violence: float = 0.0
    violence_graphic: float = field(default=0.0, name="violence/graphic")


class CategoryAppliedInputTypes(WireModel, kw_only=True):
    """Which input types (``text``, ``image``) each category was applied to."""

    harassment: list[str] = field(default_factory=list)
    harassment_threatening: list[str] = field(default_factory=list, name="harassment/threatening")
    hate: list[str] = field(default_factory=list)
    hate_threatening: list[str] = field(default_factory=list, name="hate/threatening")
    illicit: list[str] = field(default_factory=list)
    illicit_violent: list[str] = field(default_factory=list, name="illicit/violent")
    self_harm: list[str] = field(default_factory=list, name="self-harm")
    self_harm_instructions: list[str] = field(default_factory=list, name="self-harm/instructions")
    self_harm_intent: list[str] = field(default_factory=list, name="self-harm/intent")
    sexual: list[str] = field(default_factory=list)
    sexual_minors: list[str] = field(default_factory=list, name="sexual/minors")
    violence: list[str] = field(default_factory=list)
    violence_graphic: list[str] = field(default_factory=list, name="violence/graphic")


class Moderation(WireModel, kw_only=True):
    """The result for one input."""

    flagged: bool = False
    categories: Categories = field(default_factory=Categories)
    category_scores: CategoryScores = field(default_factory=CategoryScores)
    category_applied_input_types: CategoryAppliedInputTypes | None = None


class ModerationCreateResponse(APIObject, kw_only=True):
    """``{"id", "model", "results": [...]}``."""

    id: str = ""
    model: str = ""
    results: list[Moderation] = field(default_factory=list)
