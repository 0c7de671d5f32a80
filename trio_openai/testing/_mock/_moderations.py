"""``/v1/moderations``: the Moderations endpoint of the mock server.

Theory of operation: :func:`create` flags an input when it contains one of a few
trigger words (``kill``, ``hate``, ``bomb`` ...; see ``_FLAG_WORDS``), so tests can
ask for a flagged or a clean result on purpose. Every category of the
``omni-moderation`` model is present in ``categories``, ``category_scores`` (about
0.9 when flagged, a tiny deterministic number otherwise) and
``category_applied_input_types`` (``image`` too for the categories that apply to
images, when an image part was sent).
"""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING, Any, Final

from ._fakers import text_of
from ._validate import bad_type, get_str, missing
from ._wire import Call, Reply

if TYPE_CHECKING:
    from ._state import MockState

__all__ = ["create"]

_CATEGORIES: Final = (
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/intent",
    "self-harm/instructions",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)
_IMAGE_CATEGORIES: Final = frozenset(
    {
        "self-harm",
        "self-harm/intent",
        "self-harm/instructions",
        "sexual",
        "violence",
        "violence/graphic",
    }
)
# Words that make the moderation endpoint flag its input (deterministic, for tests).
_FLAG_WORDS: Final = {
    "kill": ("violence",),
    "murder": ("violence",),
    "attack": ("violence",),
    "gore": ("violence", "violence/graphic"),
    "hate": ("hate", "harassment"),
    "idiot": ("harassment",),
    "threaten": ("harassment", "harassment/threatening"),
    "suicide": ("self-harm", "self-harm/intent"),
    "bomb": ("illicit", "illicit/violent", "violence"),
    "steal": ("illicit",),
}


def create(state: MockState, call: Call) -> Reply:
    """``POST /v1/moderations``: one result per input (text, or text and images)."""
    body = call.body
    if "input" not in body or body["input"] is None:
        raise missing("input")
    raw = body["input"]
    model = get_str(body, "model") or "omni-moderation-latest"
    inputs: list[tuple[str, bool]]  # (text, has an image)
    if isinstance(raw, str):
        inputs = [(raw, False)]
    elif isinstance(raw, list) and raw and all(isinstance(x, str) for x in raw):
        inputs = [(x, False) for x in raw]
    elif isinstance(raw, list) and raw and all(isinstance(x, dict) for x in raw):
        has_image = any(x.get("type") == "image_url" for x in raw)
        inputs = [(text_of(raw), has_image)]
    else:
        raise bad_type("input", "a string, an array of strings or content parts", raw)
    results = [_result(state, text, image) for text, image in inputs]
    return Reply({"id": state.new_id("modr-", 12), "model": model, "results": results})


def _result(state: MockState, text: str, image: bool) -> dict[str, Any]:
    lowered = text.lower()
    hit: set[str] = set()
    for word, cats in _FLAG_WORDS.items():
        if word in lowered:
            hit.update(cats)
    categories: dict[str, Any] = {}
    scores: dict[str, float] = {}
    applied: dict[str, list[str]] = {}
    for cat in _CATEGORIES:
        flagged = cat in hit
        categories[cat] = flagged
        base = (zlib.crc32(f"{state.seed}\x00{cat}\x00{text}".encode()) % 1000) / 1e6
        scores[cat] = round(0.9 + base, 6) if flagged else round(base, 8)
        kinds = ["text"]
        if image and cat in _IMAGE_CATEGORIES:
            kinds.append("image")
        applied[cat] = kinds
    return {
        "flagged": bool(hit),
        "categories": categories,
        "category_scores": scores,
        "category_applied_input_types": applied,
    }
