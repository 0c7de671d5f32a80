"""Search in the mock's vector stores: chunking, scoring and attribute filters (sans-IO).

Theory of operation: a file's text is cut into chunks of ``size`` words overlapping
by ``overlap`` words (the static chunking strategy, with words for tokens); a chunk
scores the share of the query's distinct words (lower-cased ``\\w+`` runs) that it
contains, so scores lie in [0, 1] and the same query on the same files always
ranks the same way. :func:`matches` applies a search's ``filters`` to a file's
attributes: a comparison (``eq``, ``ne``, ``gt``, ``gte``, ``lt``, ``lte``, ``in``,
``nin``; an ordering between a boolean and a number, or values that do not compare,
is false) or a compound (``and`` / ``or`` of nested filters).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ._validate import APIError, bad_value

__all__ = ["matches", "score_chunks", "terms_of"]

_WORD = re.compile(r"\w+")


def _chunks(text: str, size: int, overlap: int) -> list[str]:
    words = text.split()
    if not words:
        return []
    step = max(1, size - overlap)
    return [" ".join(words[i : i + size]) for i in range(0, max(1, len(words) - overlap), step)]


def terms_of(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)}


def _compare(op: str, have: Any, want: Any) -> bool:
    if op in ("in", "nin"):
        found = isinstance(want, list) and have in want
        return found if op == "in" else not found
    if op == "eq":
        return bool(have == want)
    if op == "ne":
        return bool(have != want)
    if have is None or isinstance(have, bool) != isinstance(want, bool):
        return False
    try:
        if op == "gt":
            return bool(have > want)
        if op == "gte":
            return bool(have >= want)
        if op == "lt":
            return bool(have < want)
        return bool(have <= want)
    except TypeError:
        return False


def matches(spec: Mapping[str, Any], attributes: Mapping[str, Any]) -> bool:
    kind = spec.get("type")
    if kind in ("and", "or"):
        parts = spec.get("filters")
        if not isinstance(parts, list):
            raise APIError(400, "Invalid 'filters.filters': expected an array.", param="filters")
        results = [matches(p, attributes) for p in parts if isinstance(p, dict)]
        return all(results) if kind == "and" else any(results)
    if kind not in ("eq", "ne", "gt", "gte", "lt", "lte", "in", "nin"):
        raise bad_value("filters.type", kind, ("eq", "ne", "gt", "gte", "lt", "lte", "in", "nin"))
    key = spec.get("key")
    return _compare(str(kind), attributes.get(str(key)), spec.get("value"))


def score_chunks(text: str, terms: set[str], size: int, overlap: int) -> list[tuple[float, str]]:
    """The chunks of ``text`` that hold any of ``terms``, best first, with their score."""
    scored = []
    for chunk in _chunks(text, size, overlap):
        score = len(terms & terms_of(chunk)) / len(terms) if terms else 0.0
        if score > 0:
            scored.append((score, chunk))
    scored.sort(key=lambda pair: -pair[0])
    return scored
