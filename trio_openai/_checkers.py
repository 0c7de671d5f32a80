"""The checker nodes of the request validator (sans-IO).

Theory of operation
-------------------
:mod:`trio_openai._validate` compiles a request Struct's field types once into a
tree of these nodes; checking a call's values is one walk over that tree. Each node
checks one kind of JSON value (a number with its ``Meta`` bounds, a string with its
length and pattern, a ``Literal`` enum, a list, a dict, an object with its required
and known keys, a union) and has one method::

    check(value, path, out) -> value to convert

It appends every problem it finds to ``out`` as ``(path, rule, value_repr)`` and
never raises for bad input, so a call gets all of its problems at once. It returns
the value itself, or, where a Struct or an object offering ``to_param()`` stood in
for a dict, that dict, which is what the request then sends.

A :class:`UnionNode` first keeps the members that accept the value's JSON kind
(string, number, array, object ...), then, for unions of objects that share a
``Literal`` key (``role`` of a message, ``type`` of a content part), picks by that
key: a bad message gets the problems of its own role. A member whose key is plain
``str`` is the catch-all for values newer than this library.

Rules kept: ``bool`` is never a number; numbers must be finite; unknown keys inside
nested objects pass through untouched (new API fields keep working).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence, Sized
from typing import Any

import msgspec

from .types._base import Problem, value_repr

__all__ = [
    "AnyNode",
    "BoolNode",
    "DictNode",
    "ListNode",
    "LiteralNode",
    "Node",
    "NoneNode",
    "NumberNode",
    "ObjectNode",
    "StrNode",
    "UnionNode",
]

# JSON kinds of Python values, used to pick union members.
_NULL, _BOOL, _INT, _FLOAT, _STR, _ARRAY, _OBJECT, _OTHER = range(8)


def _kind(value: object) -> int:
    if value is None:
        return _NULL
    if isinstance(value, bool):
        return _BOOL
    if isinstance(value, int):
        return _INT
    if isinstance(value, float):
        return _FLOAT
    if isinstance(value, str):
        return _STR
    if isinstance(value, (list, tuple)):
        return _ARRAY
    if isinstance(value, (Mapping, msgspec.Struct)) or callable(getattr(value, "to_param", None)):
        return _OBJECT
    return _OTHER


def _as_object(value: object) -> Mapping[str, Any] | None:
    """The dict form of a Struct / ``to_param()`` object, or ``None``."""
    to_param = getattr(value, "to_param", None)
    if callable(to_param):
        result = to_param()
        return result if isinstance(result, Mapping) else None
    if isinstance(value, msgspec.Struct):
        built = msgspec.to_builtins(value)
        return built if isinstance(built, dict) else None
    return None


def _fmt(number: float) -> str:
    if isinstance(number, float) and number.is_integer():
        return str(int(number))
    return str(number)


def _join_or(parts: Sequence[str]) -> str:
    unique = list(dict.fromkeys(parts))
    if len(unique) == 1:
        return unique[0]
    return ", ".join(unique[:-1]) + " or " + unique[-1]


# ---------------------------------------------------------------------------
# Checker nodes. check() appends problems to `out` and returns the value to
# convert (the same object unless a nested object had to be turned into a dict).
# ---------------------------------------------------------------------------


class Node:
    __slots__ = ()
    kinds: frozenset[int] = frozenset()
    desc: str = "a value"
    plural: str = "values"

    def check(self, value: Any, path: str, out: list[Problem]) -> Any:
        raise NotImplementedError

    def type_problem(self, value: Any, path: str, out: list[Problem]) -> Any:
        out.append((path, f"must be {self.desc}", value_repr(value)))
        return value


class AnyNode(Node):
    __slots__ = ()
    kinds = frozenset(range(8))

    def check(self, value: Any, path: str, out: list[Problem]) -> Any:
        return value


class NoneNode(Node):
    __slots__ = ()
    kinds = frozenset({_NULL})
    desc = "null"
    plural = "nulls"

    def check(self, value: Any, path: str, out: list[Problem]) -> Any:
        if value is not None:
            return self.type_problem(value, path, out)
        return value


class BoolNode(Node):
    __slots__ = ()
    kinds = frozenset({_BOOL})
    desc = "a boolean"
    plural = "booleans"

    def check(self, value: Any, path: str, out: list[Problem]) -> Any:
        if not isinstance(value, bool):
            return self.type_problem(value, path, out)
        return value


class NumberNode(Node):
    """An ``int`` (integers only) or ``float`` (any finite number) with bounds."""

    __slots__ = ("ge", "gt", "integer", "le", "lt", "multiple_of")

    def __init__(self, integer: bool) -> None:
        self.integer = integer
        self.ge: float | None = None
        self.gt: float | None = None
        self.le: float | None = None
        self.lt: float | None = None
        self.multiple_of: float | None = None

    @property
    def kinds(self) -> frozenset[int]:  # type: ignore[override]
        return frozenset({_INT}) if self.integer else frozenset({_INT, _FLOAT})

    @property
    def desc(self) -> str:  # type: ignore[override]
        return "an integer" if self.integer else "a number"

    @property
    def plural(self) -> str:  # type: ignore[override]
        return "integers" if self.integer else "numbers"

    def check(self, value: Any, path: str, out: list[Problem]) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return self.type_problem(value, path, out)
        if self.integer and not isinstance(value, int):
            return self.type_problem(value, path, out)
        if isinstance(value, float) and not math.isfinite(value):
            out.append((path, "must be a finite number", value_repr(value)))
            return value
        if self.ge is not None and not value >= self.ge:
            out.append((path, f"must be >= {_fmt(self.ge)}", value_repr(value)))
        if self.gt is not None and not value > self.gt:
            out.append((path, f"must be > {_fmt(self.gt)}", value_repr(value)))
        if self.le is not None and not value <= self.le:
            out.append((path, f"must be <= {_fmt(self.le)}", value_repr(value)))
        if self.lt is not None and not value < self.lt:
            out.append((path, f"must be < {_fmt(self.lt)}", value_repr(value)))
        if self.multiple_of is not None and value % self.multiple_of != 0:
            out.append((path, f"must be a multiple of {_fmt(self.multiple_of)}", value_repr(value)))
        return value


def _length_rules(
    value: Sized, path: str, out: list[Problem], lo: int | None, hi: int | None, unit: str
) -> None:
    size = len(value)
    if lo is not None and size < lo:
        rule = "must not be empty" if lo == 1 else f"must have at least {lo} {unit}"
        out.append((path, rule, value_repr(value)))
    if hi is not None and size > hi:
        out.append((path, f"must have at most {hi} {unit}", value_repr(value)))


class StrNode(Node):
    __slots__ = ("max_length", "min_length", "pattern")
    kinds = frozenset({_STR})
    desc = "a string"
    plural = "strings"

    def __init__(self) -> None:
        self.min_length: int | None = None
        self.max_length: int | None = None
        self.pattern: re.Pattern[str] | None = None

    def check(self, value: Any, path: str, out: list[Problem]) -> Any:
        if not isinstance(value, str):
            return self.type_problem(value, path, out)
        if self.min_length is not None or self.max_length is not None:
            _length_rules(value, path, out, self.min_length, self.max_length, "characters")
        if self.pattern is not None and self.pattern.search(value) is None:
            out.append((path, f"must match the pattern {self.pattern.pattern}", value_repr(value)))
        return value


class LiteralNode(Node):
    __slots__ = ("_allowed", "_desc", "_kinds", "values")

    def __init__(self, values: tuple[Any, ...]) -> None:
        self.values = values
        self._allowed = {(type(v), v) for v in values}
        self._kinds = frozenset(_kind(v) for v in values)
        shown = [str(v) for v in values]
        self._desc = shown[0] if len(shown) == 1 else "one of " + ", ".join(shown)

    @property
    def kinds(self) -> frozenset[int]:  # type: ignore[override]
        return self._kinds

    @property
    def desc(self) -> str:  # type: ignore[override]
        return self._desc

    def check(self, value: Any, path: str, out: list[Problem]) -> Any:
        try:
            ok = (type(value), value) in self._allowed
        except TypeError:  # unhashable value: certainly not a literal
            ok = False
        if not ok:
            out.append((path, f"must be {self._desc}", value_repr(value)))
        return value


class ListNode(Node):
    __slots__ = ("item", "max_length", "min_length")
    kinds = frozenset({_ARRAY})

    def __init__(self, item: Node) -> None:
        self.item = item
        self.min_length: int | None = None
        self.max_length: int | None = None

    @property
    def desc(self) -> str:  # type: ignore[override]
        if isinstance(self.item, AnyNode):
            return "an array"
        return f"an array of {self.item.plural}"

    @property
    def plural(self) -> str:  # type: ignore[override]
        if isinstance(self.item, AnyNode):
            return "arrays"
        return f"arrays of {self.item.plural}"

    def check(self, value: Any, path: str, out: list[Problem]) -> Any:
        if not isinstance(value, (list, tuple)):
            return self.type_problem(value, path, out)
        if self.min_length is not None or self.max_length is not None:
            _length_rules(value, path, out, self.min_length, self.max_length, "items")
        item = self.item
        if isinstance(item, AnyNode):
            return value
        changed: list[Any] | None = None
        for index, element in enumerate(value):
            result = item.check(element, f"{path}[{index}]", out)
            if result is not element and changed is None:
                changed = list(value[:index])
            if changed is not None:
                changed.append(result)
        return value if changed is None else changed


class DictNode(Node):
    __slots__ = ("key", "max_length", "min_length", "value")
    kinds = frozenset({_OBJECT})
    desc = "an object"
    plural = "objects"

    def __init__(self, key: Node, value: Node) -> None:
        self.key = key
        self.value = value
        self.min_length: int | None = None
        self.max_length: int | None = None

    def check(self, value: Any, path: str, out: list[Problem]) -> Any:
        if not isinstance(value, Mapping):
            converted = _as_object(value)
            if converted is None:
                return self.type_problem(value, path, out)
            value = converted
        if self.min_length is not None or self.max_length is not None:
            _length_rules(value, path, out, self.min_length, self.max_length, "entries")
        key_node, value_node = self.key, self.value
        if isinstance(key_node, AnyNode) and isinstance(value_node, AnyNode):
            return value
        changed: dict[Any, Any] | None = None
        for key, element in value.items():
            entry_path = f"{path}[{value_repr(key)}]"
            if not isinstance(key_node, AnyNode):
                key_problems: list[Problem] = []
                key_node.check(key, entry_path, key_problems)
                out.extend((p, "key " + rule, shown) for p, rule, shown in key_problems)
            result = value_node.check(element, entry_path, out)
            if result is not element and changed is None:
                changed = dict(value)
            if changed is not None:
                changed[key] = result
        return value if changed is None else changed


class ObjectNode(Node):
    """A TypedDict or Struct shape: known keys checked, unknown keys passed on."""

    __slots__ = ("fields", "name", "required")
    kinds = frozenset({_OBJECT})
    desc = "an object"
    plural = "objects"

    def __init__(self, name: str) -> None:
        self.name = name
        self.fields: dict[str, Node] = {}
        self.required: tuple[str, ...] = ()

    def check(self, value: Any, path: str, out: list[Problem]) -> Any:
        if not isinstance(value, Mapping):
            converted = _as_object(value)
            if converted is None:
                return self.type_problem(value, path, out)
            value = converted
        out.extend(
            (f"{path}.{name}", "is required", None) for name in self.required if name not in value
        )
        changed: dict[str, Any] | None = None
        fields = self.fields
        for key, element in value.items():
            node = fields.get(key)
            if node is None:
                continue
            result = node.check(element, f"{path}.{key}", out)
            if result is not element and changed is None:
                changed = dict(value)
            if changed is not None:
                changed[key] = result
        if changed is not None:
            return changed
        return value if isinstance(value, dict) else dict(value)


_MISSING: Any = object()


class UnionNode(Node):
    __slots__ = (
        "_by_tag",
        "_catch_all",
        "_defaults",
        "_desc",
        "_kinds",
        "_tag_desc",
        "_tag_key",
        "members",
    )

    def __init__(self, members: list[Node]) -> None:
        self.members = members
        self._kinds = frozenset().union(*(m.kinds for m in members))
        self._desc = _join_or([m.desc for m in members])
        self._tag_key: str | None = None
        self._by_tag: dict[Any, ObjectNode] = {}
        self._catch_all: ObjectNode | None = None
        self._defaults: list[ObjectNode] = []
        self._tag_desc = ""
        self._find_discriminator()

    @property
    def kinds(self) -> frozenset[int]:  # type: ignore[override]
        return self._kinds

    @property
    def desc(self) -> str:  # type: ignore[override]
        return self._desc

    @property
    def plural(self) -> str:  # type: ignore[override]
        return _join_or([m.plural for m in self.members])

    def _find_discriminator(self) -> None:
        objects = [m for m in self.members if isinstance(m, ObjectNode)]
        if len(objects) < 2:
            return
        common = set(objects[0].fields)
        for obj in objects[1:]:
            common &= set(obj.fields)
        candidates = sorted(common, key=lambda k: (k not in ("type", "role"), k))
        for key in candidates:
            literal_members = [o for o in objects if isinstance(o.fields[key], LiteralNode)]
            others = [o for o in objects if not isinstance(o.fields[key], LiteralNode)]
            if not literal_members:
                continue
            if any(not isinstance(o.fields[key], StrNode) for o in others) or len(others) > 1:
                continue
            self._tag_key = key
            shown: list[str] = []
            for obj in literal_members:
                literal = obj.fields[key]
                assert isinstance(literal, LiteralNode)
                for tag in literal.values:
                    self._by_tag.setdefault(tag, obj)
                    shown.append(str(tag))
            self._catch_all = others[0] if others else None
            self._defaults = [o for o in objects if key not in o.required]
            self._tag_desc = "one of " + ", ".join(dict.fromkeys(shown))
            return

    def check(self, value: Any, path: str, out: list[Problem]) -> Any:
        kind = _kind(value)
        candidates = [m for m in self.members if kind in m.kinds]
        if not candidates:
            return self.type_problem(value, path, out)
        if len(candidates) == 1:
            return candidates[0].check(value, path, out)
        if kind == _OBJECT and self._tag_key is not None:
            return self._check_tagged(value, path, out)
        return self._best_of(candidates, value, path, out)

    def _check_tagged(self, value: Any, path: str, out: list[Problem]) -> Any:
        if not isinstance(value, Mapping):
            value = _as_object(value)
        key = self._tag_key
        assert key is not None
        tag = value.get(key, _MISSING)
        if tag is _MISSING:
            if len(self._defaults) == 1:
                return self._defaults[0].check(value, path, out)
            if self._defaults:
                return self._best_of(list(self._defaults), value, path, out)
            out.append((f"{path}.{key}", "is required", None))
            return value
        member = self._by_tag.get(tag) if isinstance(tag, (str, int)) else None
        if member is None:
            if self._catch_all is not None and isinstance(tag, str):
                member = self._catch_all
            else:
                out.append((f"{path}.{key}", f"must be {self._tag_desc}", value_repr(tag)))
                return value
        return member.check(value, path, out)

    @staticmethod
    def _best_of(candidates: list[Node], value: Any, path: str, out: list[Problem]) -> Any:
        # No member fits: report the one that fits best, that is the one with
        # the fewest problems, and among those the one whose problems lie
        # deepest (it matched more of the structure).
        best: tuple[tuple[int, int], Any, list[Problem]] | None = None
        for member in candidates:
            scratch: list[Problem] = []
            result = member.check(value, path, scratch)
            if not scratch:
                return result
            score = (len(scratch), -max(len(p[0]) for p in scratch))
            if best is None or score < best[0]:
                best = (score, result, scratch)
        assert best is not None
        out.extend(best[2])
        return best[1]
