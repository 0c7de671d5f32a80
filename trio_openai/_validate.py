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
    required is tried when the key is missing. The nodes live in
    :mod:`trio_openai._checkers`; this module compiles types into them, caches
    the plan of each params type, and runs it (``validate``, ``build``,
    ``checked``), adding unknown names, missing required fields and the
    cross-field rules.

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

import functools
import re
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, Literal, TypeVar, Union

import msgspec

from ._checkers import (
    AnyNode,
    BoolNode,
    DictNode,
    ListNode,
    LiteralNode,
    Node,
    NoneNode,
    NumberNode,
    ObjectNode,
    StrNode,
    UnionNode,
)
from ._types import NotGiven
from .errors import SerializationError
from .types._base import Problem, ValidateAs, encoder, value_repr

__all__ = [
    "ENCODE_ERRORS",
    "InvalidParams",
    "Problem",
    "build",
    "child_path",
    "encode_json",
    "serialization_error",
    "unencodable",
    "validate",
]

P = TypeVar("P", bound=msgspec.Struct)

_NoneType = type(None)
_UNION_ORIGINS: tuple[object, ...] = (Union, types.UnionType)

# ---------------------------------------------------------------------------
# Compiling type annotations into nodes
# ---------------------------------------------------------------------------


def _apply_meta(node: Node, meta: msgspec.Meta) -> None:
    if isinstance(node, NumberNode):
        for name in ("ge", "gt", "le", "lt", "multiple_of"):
            bound = getattr(meta, name)
            if bound is not None:
                setattr(node, name, bound)
    elif isinstance(node, (StrNode, ListNode, DictNode)):
        if meta.min_length is not None:
            node.min_length = meta.min_length
        if meta.max_length is not None:
            node.max_length = meta.max_length
        if isinstance(node, StrNode) and meta.pattern is not None:
            node.pattern = re.compile(meta.pattern)


class _Compiler:
    def __init__(self) -> None:
        self._objects: dict[object, ObjectNode] = {}

    def compile(self, tp: Any) -> Node:
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
            return AnyNode()
        if tp is None or tp is _NoneType:
            return NoneNode()
        if origin in _UNION_ORIGINS:
            members = [
                self.compile(arg) for arg in typing.get_args(tp) if arg is not msgspec.UnsetType
            ]
            return members[0] if len(members) == 1 else UnionNode(members)
        if origin is Literal:
            return LiteralNode(typing.get_args(tp))
        if tp is bool:
            return BoolNode()
        if tp is int:
            return NumberNode(integer=True)
        if tp is float:
            return NumberNode(integer=False)
        if tp is str:
            return StrNode()
        if tp in (list, tuple) or origin in (list, tuple, Sequence):
            args = typing.get_args(tp)
            return ListNode(self.compile(args[0]) if args else AnyNode())
        if tp is dict or origin in (dict, Mapping):
            args = typing.get_args(tp)
            if args:
                return DictNode(self.compile(args[0]), self.compile(args[1]))
            return DictNode(AnyNode(), AnyNode())
        if isinstance(tp, type) and typing.is_typeddict(tp):
            return self._object(tp, self._typeddict_fields)
        if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
            return self._object(tp, self._struct_fields)
        raise TypeError(f"cannot validate values of type {tp!r}")

    def _object(
        self, tp: type, fields_of: Callable[[type], tuple[dict[str, Any], tuple[str, ...]]]
    ) -> ObjectNode:
        node = self._objects.get(tp)
        if node is not None:
            return node  # recursive shape: reuse the node being built
        node = ObjectNode(tp.__name__)
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
    import difflib  # (only a misspelt parameter needs it)

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
        if value is msgspec.UNSET or value.__class__ is NotGiven:
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
        values: The caller's parameters by field name; ``msgspec.UNSET`` and
            ``NOT_GIVEN`` values count as not given.

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
        values: The caller's parameters by field name (``UNSET`` or ``NOT_GIVEN`` =
            not given).
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


# ---------------------------------------------------------------------------
# Finding the value an encoder refuses
# ---------------------------------------------------------------------------

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

_MAX_DEPTH = 200
"""Levels walked down before a value is called "nested too deeply"."""


def child_path(path: str, key: object) -> str:
    """``path`` extended by one step: ``.name`` for an identifier, else ``[repr]``.

    An empty ``path`` (the top of a request's parameters) gives the bare name.
    """
    if isinstance(key, str) and _IDENTIFIER.match(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{value_repr(key)}]"


def _children(value: object) -> list[tuple[object, object]] | None:
    """``(key, child)`` pairs of a container the encoder walks into, else ``None``."""
    if isinstance(value, Mapping):
        return list(value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return list(enumerate(value))
    if isinstance(value, msgspec.Struct):
        return [(name, getattr(value, name)) for name in value.__struct_fields__]
    return None


def unencodable(
    value: object,
    encode: Callable[[object], object],
    path: str,
    errors: tuple[type[Exception], ...],
) -> Problem:
    """Where inside ``value`` (which ``encode`` refused) the first refused value is.

    Walks down from ``value``, at each container into its first child that ``encode``
    refuses on its own; stops at a value that refuses with no refused child (the
    culprit), at a dict key the encoder refuses, at a container met again on the way
    down (a reference cycle) or past ``_MAX_DEPTH`` levels. Only called on the error
    path; each level re-encodes the children it tries.

    Args:
        value: what was being encoded.
        encode: the encoder's ``encode``.
        path: the name of ``value`` (``""`` for a request's parameters).
        errors: the exceptions by which ``encode`` refuses a value.

    Returns:
        ``(field path, rule, value repr)``, e.g. ``("extra_body.foo[2]", "cannot be
        encoded as JSON: Encoding objects of type X is unsupported", "<X ...>")``.
    """
    detail = ""
    on_path: set[int] = set()
    for _ in range(_MAX_DEPTH):
        children = _children(value)
        if children is None:
            break
        on_path.add(id(value))
        for key, child in children:
            if isinstance(value, Mapping):
                try:
                    encode({key: None})
                except errors as exc:
                    rule = f"has a key JSON cannot hold: {value_repr(key)} ({exc})"
                    return (path or "body", rule, None)
            if id(child) in on_path and _children(child) is not None:
                rule = "contains itself (a reference cycle): it cannot be encoded as JSON"
                return (child_path(path, key), rule, None)
            try:
                encode(child)
            except errors as exc:
                detail = str(exc)
                value, path = child, child_path(path, key)
                break
        else:
            break  # every child encodes alone: the container itself is refused
    else:
        return (path or "body", "is nested too deeply to be encoded as JSON", None)
    if not detail:
        try:
            encode(value)
        except errors as exc:
            detail = str(exc)
    rule = f"cannot be encoded as JSON: {detail}" if detail else "cannot be encoded as JSON"
    return (path or "body", rule, value_repr(value))


ENCODE_ERRORS: Final = (TypeError, ValueError, RecursionError)
"""How msgspec refuses a value: an unsupported type or dict key (``TypeError``), a
string that is not UTF-8 (``UnicodeEncodeError``), a cycle or deep nesting
(``RecursionError``)."""


def serialization_error(value: object, path: str) -> SerializationError:
    """The error for ``value`` (named ``path``), which the shared encoder refused."""
    field, rule, shown = unencodable(value, encoder.encode, path, ENCODE_ERRORS)
    return SerializationError(field, rule, shown)


def encode_json(value: object, path: str = "body") -> bytes:
    """``value`` as compact JSON bytes.

    Raises:
        SerializationError: naming the first value inside ``value`` (called
            ``path``) that cannot be encoded; the encoder's error is its cause.
    """
    try:
        return encoder.encode(value)
    except ENCODE_ERRORS as exc:
        raise serialization_error(value, path) from exc
