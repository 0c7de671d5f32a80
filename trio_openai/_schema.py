"""OpenAI "strict" Structured Outputs schemas from msgspec types (sans-IO).

Purpose
    ``strict_json_schema(tp)`` turns a msgspec Struct (or dataclass, TypedDict,
    any type ``msgspec.json.schema`` understands whose root is an object) into
    the JSON Schema subset that ``strict: true`` accepts;
    ``response_format_for`` / ``text_format_for`` / ``function_tool_for`` wrap
    it for Chat ``response_format``, Responses ``text.format`` and function
    tools. The model's answer then decodes straight into ``tp`` with
    ``msgspec.json.decode(content, type=tp)``.

Rules kept (OpenAI's supported-schema rules; openai-wire.md §11)
    * The root is an object (a root ``$ref`` is inlined), never ``anyOf``.
    * Every object has ``additionalProperties: false`` and lists *all* its
      properties in ``required``. A field that may be omitted in ``tp`` keeps
      its own type: if that type accepts ``None`` (``x: int | None = None``)
      the schema already is the nullable union ``anyOf: [..., {"type":
      "null"}]``; if it does not (``x: int = 0``) the model must produce a
      value. Adding ``null`` there would let the model answer something that
      no longer decodes into ``tp``.
    * ``$defs`` and ``$ref`` are kept (the API accepts them, recursion
      included); a ``$ref`` with sibling keys is inlined, a one-element
      ``allOf`` is inlined, ``default`` and msgspec's ``discriminator`` are
      removed.
    * Only supported keywords are kept: ``type``, ``properties``,
      ``required``, ``additionalProperties``, ``items``, ``anyOf``, ``enum``,
      ``const``, ``$ref``, ``$defs``, ``title``, ``description``; strings
      ``pattern`` and ``format`` (date-time, time, date, duration, email,
      hostname, ipv4, ipv6, uuid); numbers ``minimum``, ``maximum``,
      ``exclusiveMinimum``, ``exclusiveMaximum``, ``multipleOf``; arrays
      ``minItems``, ``maxItems``. Others (``minLength``, ``maxLength``,
      ``uniqueItems``...) are dropped: decoding into ``tp`` still enforces them.
    * Limits are checked: at most 5000 properties in total, 10 levels of
      object nesting, 1000 enum values, 120,000 characters of property names,
      definition names, enum and const values.
    * What strict mode cannot express raises ``TypeError`` at once, naming the
      spot: free-form dicts (``dict[str, X]``), tuples (``prefixItems``),
      a non-object root, several ``allOf`` members.

Options rejected
    * Making every optional field nullable: a ``null`` for ``x: int = 0``
      would fail to decode, so "strict" output would break the caller's type.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

__all__ = [
    "function_tool_for",
    "response_format_for",
    "strict_json_schema",
    "strict_schema_from",
    "text_format_for",
]

_KEEP = frozenset(
    {
        "type",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "anyOf",
        "enum",
        "const",
        "$ref",
        "$defs",
        "title",
        "description",
        "pattern",
        "format",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "minItems",
        "maxItems",
    }
)
_FORMATS = frozenset(
    {"date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"}
)
_MAX_PROPERTIES = 5000
_MAX_DEPTH = 10
_MAX_ENUM_VALUES = 1000
_MAX_STRING_CHARS = 120_000
_REF_PREFIX = "#/$defs/"


class _Converter:
    def __init__(self, defs: dict[str, Any]) -> None:
        self.defs = defs
        self.properties = 0
        self.enum_values = 0
        self.chars = sum(len(name) for name in defs)

    def resolve(self, ref: str, where: str) -> dict[str, Any]:
        if not ref.startswith(_REF_PREFIX) or ref[len(_REF_PREFIX) :] not in self.defs:
            raise TypeError(f"{where}: unresolvable $ref {ref!r}")
        target: dict[str, Any] = self.defs[ref[len(_REF_PREFIX) :]]
        return target

    def convert(self, node: dict[str, Any], where: str) -> dict[str, Any]:
        if "$ref" in node and len(node) > 1:
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            node = {**self.resolve(node["$ref"], where), **siblings}
        all_of = node.get("allOf")
        if all_of is not None:
            if len(all_of) != 1:
                raise TypeError(f"{where}: allOf with several members is not supported")
            rest = {k: v for k, v in node.items() if k != "allOf"}
            node = {**all_of[0], **rest}
        if "prefixItems" in node:
            raise TypeError(f"{where}: tuples (prefixItems) are not supported in strict mode")
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key not in _KEEP:
                continue
            if key == "format" and value not in _FORMATS:
                continue
            out[key] = value
        if "enum" in out:
            self.enum_values += len(out["enum"])
            self.chars += sum(len(str(v)) for v in out["enum"])
        if "const" in out:
            self.chars += len(str(out["const"]))
        if "anyOf" in out:
            out["anyOf"] = [
                self.convert(member, f"{where}.anyOf[{i}]") for i, member in enumerate(out["anyOf"])
            ]
        if "items" in out:
            out["items"] = self.convert(out["items"], f"{where}[]")
        types = out.get("type")
        is_object = types == "object" or (isinstance(types, list) and "object" in types)
        if is_object:
            self._object(out, where)
        return out

    def _object(self, out: dict[str, Any], where: str) -> None:
        extra = out.get("additionalProperties")
        properties = out.get("properties")
        if properties is None and extra not in (None, False):
            raise TypeError(
                f"{where}: free-form objects (dict[str, ...]) are not supported in strict mode;"
                " use a Struct with named fields"
            )
        if properties is None:
            raise TypeError(f"{where}: objects without declared properties are not supported")
        self.properties += len(properties)
        self.chars += sum(len(name) for name in properties)
        out["properties"] = {
            name: self.convert(schema, f"{where}.{name}") for name, schema in properties.items()
        }
        out["required"] = list(properties)
        out["additionalProperties"] = False


def _depth(node: Any, defs: dict[str, Any], seen: frozenset[str] = frozenset()) -> int:
    """Levels of object nesting below ``node`` (recursive refs count once)."""
    if isinstance(node, list):
        return max((_depth(v, defs, seen) for v in node), default=0)
    if not isinstance(node, dict):
        return 0
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith(_REF_PREFIX):
        name = ref[len(_REF_PREFIX) :]
        if name in seen or name not in defs:
            return 0
        return _depth(defs[name], defs, seen | {name})
    inner = 0
    for key, value in node.items():
        if key == "$defs":
            continue
        if key == "properties" and isinstance(value, dict):
            inner = max(inner, _depth(list(value.values()), defs, seen))
        elif key in ("items", "anyOf"):
            inner = max(inner, _depth(value, defs, seen))
    return inner + (1 if node.get("type") == "object" else 0)


def strict_json_schema(tp: Any) -> dict[str, Any]:
    """Build a strict Structured Outputs JSON Schema for ``tp``.

    Args:
        tp: A msgspec Struct, dataclass or TypedDict (any type
            ``msgspec.json.schema`` supports whose JSON form is an object).

    Returns:
        A new JSON Schema dict (object root, ``$defs`` kept when used).

    Raises:
        TypeError: ``tp`` (or a part of it) cannot be expressed in strict mode;
            the message names the location.
        ValueError: the schema exceeds one of the API's size limits.
    """
    return strict_schema_from(msgspec.json.schema(tp))


def strict_schema_from(schema: dict[str, Any]) -> dict[str, Any]:
    """Turn a JSON Schema with an object root into the strict subset (see
    :func:`strict_json_schema`); ``schema`` is not modified.

    This is the step shared by every source of schemas: msgspec types, and pydantic
    models (whose ``model_json_schema()`` the structured-output layer passes here).

    Raises:
        TypeError, ValueError: as :func:`strict_json_schema`.
    """
    schema = dict(schema)
    raw_defs: dict[str, Any] = schema.pop("$defs", {})
    converter = _Converter(raw_defs)
    root = schema
    if "$ref" in root:
        root = {
            **converter.resolve(root["$ref"], "$"),
            **{k: v for k, v in root.items() if k != "$ref"},
        }
    if "anyOf" in root or root.get("type") != "object":
        raise TypeError(
            "$: the root of a strict schema must be an object (a Struct, dataclass or"
            " TypedDict), not a union, array or scalar"
        )
    result = converter.convert(root, "$")
    used = _reachable_defs(result, raw_defs)
    if used:
        result["$defs"] = {
            name: converter.convert(raw_defs[name], f"$defs.{name}")
            for name in raw_defs
            if name in used
        }
    if converter.properties > _MAX_PROPERTIES:
        raise ValueError(
            f"strict schema has {converter.properties} properties (max {_MAX_PROPERTIES})"
        )
    if converter.enum_values > _MAX_ENUM_VALUES:
        raise ValueError(
            f"strict schema has {converter.enum_values} enum values (max {_MAX_ENUM_VALUES})"
        )
    if converter.chars > _MAX_STRING_CHARS:
        raise ValueError(
            f"strict schema names and enum values total {converter.chars} characters"
            f" (max {_MAX_STRING_CHARS})"
        )
    depth = _depth(result, result.get("$defs", {}))
    if depth > _MAX_DEPTH:
        raise ValueError(f"strict schema nests objects {depth} levels deep (max {_MAX_DEPTH})")
    return result


def _refs_in(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(_REF_PREFIX):
            found.add(ref[len(_REF_PREFIX) :])
        for value in node.values():
            _refs_in(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs_in(value, found)


def _reachable_defs(root: dict[str, Any], defs: dict[str, Any]) -> set[str]:
    """Names of the definitions reachable from ``root`` through ``$ref``."""
    reached: set[str] = set()
    pending: set[str] = set()
    _refs_in(root, pending)
    while pending:
        name = pending.pop()
        if name in reached or name not in defs:
            continue
        reached.add(name)
        _refs_in(defs[name], pending)
    return reached


def _schema_name(tp: Any, name: str | None) -> str:
    raw = name if name is not None else getattr(tp, "__name__", "response")
    cleaned = re.sub(r"[^a-zA-Z0-9_-]", "_", raw)[:64]
    return cleaned or "response"


def response_format_for(
    tp: Any,
    *,
    name: str | None = None,
    description: str | None = None,
    schema: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Return a Chat ``response_format`` asking for strict JSON shaped like ``tp``.

    Args:
        tp: The Struct (or dataclass / TypedDict) to produce.
        name: The schema name (default: the type's name), cut to the allowed
            ``[a-zA-Z0-9_-]{1,64}``.
        description: Optional description of the format for the model.
        schema: The strict schema, when the caller built it already (from a
            pydantic model: :func:`strict_schema_from`); by default it is built
            from ``tp``. The same holds for the two functions below.

    Returns:
        ``{"type": "json_schema", "json_schema": {"name", "schema", "strict": True}}``.

    Raises:
        TypeError, ValueError: see :func:`strict_json_schema`.
    """
    json_schema: dict[str, Any] = {"name": _schema_name(tp, name)}
    if description is not None:
        json_schema["description"] = description
    json_schema["schema"] = strict_json_schema(tp) if schema is None else schema
    json_schema["strict"] = True
    return {"type": "json_schema", "json_schema": json_schema}


def text_format_for(
    tp: Any,
    *,
    name: str | None = None,
    description: str | None = None,
    schema: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Return a Responses ``text.format`` (the flat form) for strict JSON like ``tp``.

    Returns:
        ``{"type": "json_schema", "name", "schema", "strict": True}``.

    Raises:
        TypeError, ValueError: see :func:`strict_json_schema`.
    """
    fmt: dict[str, Any] = {"type": "json_schema", "name": _schema_name(tp, name)}
    if description is not None:
        fmt["description"] = description
    fmt["schema"] = strict_json_schema(tp) if schema is None else schema
    fmt["strict"] = True
    return fmt


def function_tool_for(
    tp: Any,
    *,
    name: str | None = None,
    description: str | None = None,
    schema: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Return a strict Chat function tool whose arguments are shaped like ``tp``.

    Returns:
        ``{"type": "function", "function": {"name", "parameters", "strict": True}}``.

    Raises:
        TypeError, ValueError: see :func:`strict_json_schema`.
    """
    function: dict[str, Any] = {"name": _schema_name(tp, name)}
    if description is not None:
        function["description"] = description
    function["parameters"] = strict_json_schema(tp) if schema is None else schema
    function["strict"] = True
    return {"type": "function", "function": function}
