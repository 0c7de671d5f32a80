"""Request validation that reports every problem at once (sans-IO).

Purpose
    Before a request is sent, the caller's keyword arguments are checked
    against the request Struct of the endpoint (``trio_openai.types.*Params``):
    required fields, unknown names (with a "did you mean" suggestion), types,
    every ``msgspec.Meta`` constraint (``ge``/``gt``/``le``/``lt``/
    ``multiple_of``/``min_length``/``max_length``/``pattern``), ``Literal``
    enums, nested objects, lists and dict keys/values, and finally the
    cross-field rules the Struct lists in ``_cross_field_rules``.
    ``validate`` returns *all* problems as ``(field_path, rule, value_repr)``
    tuples; ``build`` validates and then converts to the Struct.

Theory of operation
    A type is compiled once into a tree of small checker nodes (cached per
    params type), so a call costs one walk over the values it was given. Nested
    request objects are plain dicts on the wire Struct; their precise shape is
    the ``ValidateAs(shape)`` marker in the field's ``Annotated`` metadata,
    usually TypedDicts. A union of TypedDicts that share a ``Literal`` key
    (``role`` of a message, ``type`` of a content part) is checked by reading
    that key first, so a bad message gets the problems of its own role, not a
    vague "matches no variant". A member whose key is plain ``str`` is the
    catch-all for values newer than this library; a member whose key is not
    required is tried when the key is missing.

Rules kept
    * No I/O, no clock, no randomness; nothing here imports trio or h11.
    * Every problem is reported; nothing stops at the first one.
    * Unknown *top-level* names are problems (``extra_body`` is the way to send
      a parameter newer than this library); unknown keys *inside* nested dicts
      are passed through untouched, so new API fields keep working.
    * The validator only rejects what the spec says the server rejects; where
      the spec is stricter than practice (for example an ``input_image``
      without ``detail``) it follows practice.
    * ``bool`` is never accepted where a number is expected, and numbers must
      be finite (the SDK refuses NaN/Infinity; msgspec would send ``null``).
    * Objects offering ``to_param()`` (a ``ChatCompletionMessage`` appended to
      ``messages``) and other Structs are accepted where a dict is expected and
      replaced by their dict form in what ``build`` converts.

Options rejected
    * ``msgspec.convert`` alone: it stops at the first error.
    * ``msgspec.inspect.type_info`` as the walk source: it refuses unions of
      TypedDicts and of several array types, which the API needs (messages,
      embeddings ``input``); ``typing`` introspection of the same annotations
      handles them and still reads every ``Meta``.
"""

from __future__ import annotations

import difflib
import functools
import math
import re
import types
import typing
from collections.abc import Callable, Mapping, Sequence, Sized
from typing import Any, Literal, TypeVar, Union

import msgspec

from .types._base import Problem, ValidateAs, value_repr

__all__ = ["InvalidParams", "Problem", "build", "validate"]

P = TypeVar("P", bound=msgspec.Struct)

_NoneType = type(None)
_UNION_ORIGINS: tuple[object, ...] = (Union, types.UnionType)

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


class _Node:
    __slots__ = ()
    kinds: frozenset[int] = frozenset()
    desc: str = "a value"
    plural: str = "values"

    def check(self, value: Any, path: str, out: list[Problem]) -> Any:
        raise NotImplementedError

    def type_problem(self, value: Any, path: str, out: list[Problem]) -> Any:
        out.append((path, f"must be {self.desc}", value_repr(value)))
        return value


class _AnyNode(_Node):
    __slots__ = ()
    kinds = frozenset(range(8))

    def check(self, value: Any, path: str, out: list[Problem]) -> Any:
        return value


class _NoneNode(_Node):
    __slots__ = ()
    kinds = frozenset({_NULL})
    desc = "null"
    plural = "nulls"

    def check(self, value: Any, path: str, out: list[Problem]) -> Any:
        if value is not None:
            return self.type_problem(value, path, out)
        return value


class _BoolNode(_Node):
    __slots__ = ()
    kinds = frozenset({_BOOL})
    desc = "a boolean"
    plural = "booleans"

    def check(self, value: Any, path: str, out: list[Problem]) -> Any:
        if not isinstance(value, bool):
            return self.type_problem(value, path, out)
        return value


class _NumberNode(_Node):
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


class _StrNode(_Node):
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


class _LiteralNode(_Node):
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


class _ListNode(_Node):
    __slots__ = ("item", "max_length", "min_length")
    kinds = frozenset({_ARRAY})

    def __init__(self, item: _Node) -> None:
        self.item = item
        self.min_length: int | None = None
        self.max_length: int | None = None

    @property
    def desc(self) -> str:  # type: ignore[override]
        if isinstance(self.item, _AnyNode):
            return "an array"
        return f"an array of {self.item.plural}"

    @property
    def plural(self) -> str:  # type: ignore[override]
        if isinstance(self.item, _AnyNode):
            return "arrays"
        return f"arrays of {self.item.plural}"

    def check(self, value: Any, path: str, out: list[Problem]) -> Any:
        if not isinstance(value, (list, tuple)):
            return self.type_problem(value, path, out)
        if self.min_length is not None or self.max_length is not None:
            _length_rules(value, path, out, self.min_length, self.max_length, "items")
        item = self.item
        if isinstance(item, _AnyNode):
            return value
        changed: list[Any] | None = None
        for index, element in enumerate(value):
            result = item.check(element, f"{path}[{index}]", out)
            if result is not element and changed is None:
                changed = list(value[:index])
            if changed is not None:
                changed.append(result)
        return value if changed is None else changed


class _DictNode(_Node):
    __slots__ = ("key", "max_length", "min_length", "value")
    kinds = frozenset({_OBJECT})
    desc = "an object"
    plural = "objects"

    def __init__(self, key: _Node, value: _Node) -> None:
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
        if isinstance(key_node, _AnyNode) and isinstance(value_node, _AnyNode):
            return value
        changed: dict[Any, Any] | None = None
        for key, element in value.items():
            entry_path = f"{path}[{value_repr(key)}]"
            if not isinstance(key_node, _AnyNode):
                key_problems: list[Problem] = []
                key_node.check(key, entry_path, key_problems)
                out.extend((p, "key " + rule, shown) for p, rule, shown in key_problems)
            result = value_node.check(element, entry_path, out)
            if result is not element and changed is None:
                changed = dict(value)
            if changed is not None:
                changed[key] = result
        return value if changed is None else changed


class _ObjectNode(_Node):
    """A TypedDict or Struct shape: known keys checked, unknown keys passed on."""

    __slots__ = ("fields", "name", "required")
    kinds = frozenset({_OBJECT})
    desc = "an object"
    plural = "objects"

    def __init__(self, name: str) -> None:
        self.name = name
        self.fields: dict[str, _Node] = {}
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


class _UnionNode(_Node):
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

    def __init__(self, members: list[_Node]) -> None:
        self.members = members
        self._kinds = frozenset().union(*(m.kinds for m in members))
        self._desc = _join_or([m.desc for m in members])
        self._tag_key: str | None = None
        self._by_tag: dict[Any, _ObjectNode] = {}
        self._catch_all: _ObjectNode | None = None
        self._defaults: list[_ObjectNode] = []
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
        objects = [m for m in self.members if isinstance(m, _ObjectNode)]
        if len(objects) < 2:
            return
        common = set(objects[0].fields)
        for obj in objects[1:]:
            common &= set(obj.fields)
        candidates = sorted(common, key=lambda k: (k not in ("type", "role"), k))
        for key in candidates:
            literal_members = [o for o in objects if isinstance(o.fields[key], _LiteralNode)]
            others = [o for o in objects if not isinstance(o.fields[key], _LiteralNode)]
            if not literal_members:
                continue
            if any(not isinstance(o.fields[key], _StrNode) for o in others) or len(others) > 1:
                continue
            self._tag_key = key
            shown: list[str] = []
            for obj in literal_members:
                literal = obj.fields[key]
                assert isinstance(literal, _LiteralNode)
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
    def _best_of(candidates: list[_Node], value: Any, path: str, out: list[Problem]) -> Any:
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


# ---------------------------------------------------------------------------
# Compiling type annotations into nodes
# ---------------------------------------------------------------------------


def _apply_meta(node: _Node, meta: msgspec.Meta) -> None:
    if isinstance(node, _NumberNode):
        for name in ("ge", "gt", "le", "lt", "multiple_of"):
            bound = getattr(meta, name)
            if bound is not None:
                setattr(node, name, bound)
    elif isinstance(node, (_StrNode, _ListNode, _DictNode)):
        if meta.min_length is not None:
            node.min_length = meta.min_length
        if meta.max_length is not None:
            node.max_length = meta.max_length
        if isinstance(node, _StrNode) and meta.pattern is not None:
            node.pattern = re.compile(meta.pattern)


class _Compiler:
    def __init__(self) -> None:
        self._objects: dict[object, _ObjectNode] = {}

    def compile(self, tp: Any) -> _Node:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            base, *extras = typing.get_args(tp)
            for extra in extras:
                if isinstance(extra, ValidateAs):
                    return self.compile(extra.shape)
            node = self.compile(base)
            for extra in extras:
                if isinstance(extra, msgspec.Meta):
                    _apply_meta(node, extra)
            return node
        if tp is Any or tp is object:
            return _AnyNode()
        if tp is None or tp is _NoneType:
            return _NoneNode()
        if origin in _UNION_ORIGINS:
            members = [
                self.compile(arg) for arg in typing.get_args(tp) if arg is not msgspec.UnsetType
            ]
            return members[0] if len(members) == 1 else _UnionNode(members)
        if origin is Literal:
            return _LiteralNode(typing.get_args(tp))
        if tp is bool:
            return _BoolNode()
        if tp is int:
            return _NumberNode(integer=True)
        if tp is float:
            return _NumberNode(integer=False)
        if tp is str:
            return _StrNode()
        if tp in (list, tuple) or origin in (list, tuple, Sequence):
            args = typing.get_args(tp)
            return _ListNode(self.compile(args[0]) if args else _AnyNode())
        if tp is dict or origin in (dict, Mapping):
            args = typing.get_args(tp)
            if args:
                return _DictNode(self.compile(args[0]), self.compile(args[1]))
            return _DictNode(_AnyNode(), _AnyNode())
        if isinstance(tp, type) and typing.is_typeddict(tp):
            return self._object(tp, self._typeddict_fields)
        if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
            return self._object(tp, self._struct_fields)
        raise TypeError(f"cannot validate values of type {tp!r}")

    def _object(
        self, tp: type, fields_of: Callable[[type], tuple[dict[str, Any], tuple[str, ...]]]
    ) -> _ObjectNode:
        node = self._objects.get(tp)
        if node is not None:
            return node  # recursive shape: reuse the node being built
        node = _ObjectNode(tp.__name__)
        self._objects[tp] = node
        hints, required = fields_of(tp)
        node.fields = {name: self.compile(hint) for name, hint in hints.items()}
        node.required = required
        return node

    @staticmethod
    def _typeddict_fields(tp: type) -> tuple[dict[str, Any], tuple[str, ...]]:
        hints = typing.get_type_hints(tp, include_extras=True)
        required_keys: frozenset[str] = getattr(tp, "__required_keys__", frozenset(hints))
        return hints, tuple(k for k in hints if k in required_keys)

    @staticmethod
    def _struct_fields(tp: type) -> tuple[dict[str, Any], tuple[str, ...]]:
        fields = msgspec.structs.fields(tp)
        hints = {f.encode_name: f.type for f in fields}
        return hints, tuple(f.encode_name for f in fields if f.required)


class _Plan:
    """The compiled checks of one request Struct."""

    __slots__ = ("fields", "name", "names", "required", "rules")

    def __init__(self, params_type: type[msgspec.Struct]) -> None:
        compiler = _Compiler()
        fields = msgspec.structs.fields(params_type)
        self.name = params_type.__name__
        self.fields = {f.name: compiler.compile(f.type) for f in fields}
        self.names = tuple(self.fields)
        self.required = tuple(f.name for f in fields if f.required)
        rules = getattr(params_type, "_cross_field_rules", ())
        self.rules: tuple[Callable[[Mapping[str, Any]], Any], ...] = tuple(rules)


@functools.cache
def _plan_for(params_type: type[msgspec.Struct]) -> _Plan:
    return _Plan(params_type)


def _unknown_rule(name: str, known: Sequence[str]) -> str:
    match = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if match:
        return f"is not a known parameter; did you mean {match[0]!r}?"
    return "is not a known parameter (send it with extra_body if the API accepts it)"


def _run(
    params_type: type[msgspec.Struct], values: Mapping[str, object]
) -> tuple[list[Problem], dict[str, Any]]:
    plan = _plan_for(params_type)
    out: list[Problem] = []
    given: dict[str, Any] = {}
    fields = plan.fields
    for name, value in values.items():
        if value is msgspec.UNSET:
            continue
        node = fields.get(name)
        if node is None:
            out.append((name, _unknown_rule(name, plan.names), value_repr(value)))
            continue
        given[name] = node.check(value, name, out)
    out.extend((name, "is required", None) for name in plan.required if name not in given)
    for rule in plan.rules:
        out.extend(rule(given))
    return out, given


def validate(params_type: type[msgspec.Struct], values: Mapping[str, object]) -> list[Problem]:
    """Check ``values`` against the request Struct ``params_type``.

    Args:
        params_type: A request Struct, e.g. ``ChatCompletionCreateParams``.
        values: The caller's parameters by field name; ``msgspec.UNSET``
            values count as not given.

    Returns:
        Every problem found, in the order the values were given (missing
        required fields and cross-field rules last), each as
        ``(field_path, rule, value_repr_or_None)``. Empty when valid.

    Raises:
        TypeError: ``params_type`` has a field type the validator cannot check
            (a programming error in the type definitions, not in ``values``).
    """
    return _run(params_type, values)[0]


class InvalidParams(ValueError):
    """Default error of :func:`build`; carries the problem tuples."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = [
            f"  {path}: {rule}" + ("" if shown is None else f" (got {shown})")
            for path, rule, shown in problems
        ]
        noun = "problem" if len(problems) == 1 else "problems"
        super().__init__(f"{len(problems)} invalid parameter {noun}:\n" + "\n".join(lines))


def build(
    params_type: type[P],
    values: Mapping[str, object],
    *,
    error: Callable[[list[Problem]], Exception] = InvalidParams,
) -> P:
    """Validate ``values`` and convert them to a ``params_type`` instance.

    Args:
        params_type: A request Struct (subclass of ``RequestParams``).
        values: The caller's parameters by field name (``UNSET`` = not given).
        error: Builds the exception raised when there are problems; the client
            passes one that makes its public ``ValidationError``.

    Returns:
        The Struct, ready to encode; only the given fields are set.

    Raises:
        Exception: ``error(problems)`` when any problem is found (by default
            :class:`InvalidParams`, a ``ValueError``).
    """
    problems, given = _run(params_type, values)
    if problems:
        raise error(problems)
    return msgspec.convert(given, params_type)


def checked(
    params_type: type[msgspec.Struct],
    values: Mapping[str, object],
    *,
    error: Callable[[list[Problem]], Exception] = InvalidParams,
) -> dict[str, Any]:
    """Validate ``values`` and return the given ones, normalized, ready to encode.

    Like :func:`build` without the conversion to a Struct: the request path encodes
    the returned dict directly (the values were just checked field by field).

    Raises:
        Exception: ``error(problems)`` when any problem is found.
    """
    problems, given = _run(params_type, values)
    if problems:
        raise error(problems)
    return given
