"""``model_dump`` and friends: results as builtins or JSON, with the official SDK's keywords.

Theory of operation
-------------------
The SDK's results are pydantic models, and code written for it calls
``result.model_dump()``, ``model_dump_json(indent=2)``, ``to_dict()`` and
``to_json()``. Ours are msgspec Structs; :func:`dump` gives the same output from them:
a tree of dicts keyed by the wire names, lists, and JSON-ready leaves.

With API names and no other option this is ``msgspec.to_builtins`` (in C). Else a
walk over the Struct fields applies the options at every level, as pydantic does
(lists of plain values still go to msgspec whole):

- ``exclude_none``: fields whose value is ``None`` are left out;
- ``exclude_defaults``: fields equal to their default are left out;
- ``exclude_unset``: msgspec does not record which keys the server sent, so the
  fields that count as unset are the optional ones left at ``None`` (absent from the
  reply, or ``null`` in it: the one difference from pydantic, which keeps a ``null``
  the server sent explicitly); fields the API always sends (``id``, ``object``,
  ``index``, ``role``...) are kept whatever their value;
- ``include`` / ``exclude``: a set of field names, or a dict mapping names to
  ``True`` or to the same kind of spec for the nested value (list items are keyed by
  index, or ``"__all__"``);
- ``by_alias`` / ``use_api_names``: keys are the API's names (``"sexual/minors"``)
  with ``by_alias=True`` (the default of ``to_dict`` / ``to_json``), the attribute
  names (``sexual_minors``) otherwise (the default of ``model_dump``), as in the SDK;
  the two differ only for the few fields whose API name is not an identifier.
- ``mode`` makes no difference: every leaf already is a JSON value (base64 text for
  packed vectors), and parsed structured output becomes builtins in both modes.

``round_trip``, ``warnings``, ``context``, ``fallback`` and ``serialize_as_any`` are
accepted for compatibility and change nothing. Values of a caller's own types inside a
result (``message.parsed``) are dumped too: Structs and dataclasses by msgspec,
pydantic models by their own ``model_dump``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import msgspec

__all__ = ["dump", "dump_json"]

_encoder = msgspec.json.Encoder()


def _enc_hook(value: Any) -> Any:
    dump_model = getattr(value, "model_dump", None)
    if callable(dump_model) and not isinstance(value, msgspec.Struct):
        return dump_model(mode="json")  # a pydantic model (parsed structured output)
    raise NotImplementedError(f"cannot dump values of type {type(value).__name__}")


@functools.cache
def _fields(cls: type[msgspec.Struct]) -> tuple[tuple[str, str, object], ...]:
    """``(attribute, wire name, default)`` per field; NODEFAULT when required."""
    out = []
    for field in msgspec.structs.fields(cls):
        if field.default is not msgspec.NODEFAULT:
            default: object = field.default
        elif field.default_factory is not msgspec.NODEFAULT:
            default = field.default_factory()
        else:
            default = msgspec.NODEFAULT
        out.append((field.name, field.encode_name, default))
    return tuple(out)


def _leaf(value: Any) -> Any:
    return msgspec.to_builtins(value, enc_hook=_enc_hook)


def _sub(spec: Any, key: object) -> Any:
    """The part of an include/exclude spec that applies below ``key``."""
    if isinstance(spec, Mapping):
        return spec.get(key, spec.get("__all__"))
    return None


def _walk(
    value: Any,
    include: Any,
    exclude: Any,
    drop_none: bool,
    drop_defaults: bool,
    drop_unset: bool,
    key: int,  # 1: the API's names as keys; else the attribute names
) -> Any:
    if isinstance(value, msgspec.Struct):
        out: dict[str, Any] = {}
        for field in _fields(type(value)):
            name, default = field[0], field[2]
            if include is not None and name not in include:
                continue
            below_exclude = _sub(exclude, name) if exclude is not None else None
            if exclude is not None and name in exclude and below_exclude in (None, True):
                continue
            item = getattr(value, name)
            if item is msgspec.UNSET:
                continue
            if item is None and (drop_none or (drop_unset and default is None)):
                continue
            if drop_defaults and default is not msgspec.NODEFAULT and _same(item, default):
                continue
            below_include = _sub(include, name)
            out[field[1] if key == 1 else name] = _walk(
                item,
                None if below_include is True else below_include,
                None if below_exclude is True else below_exclude,
                drop_none,
                drop_defaults,
                drop_unset,
                key,
            )
        return out
    if isinstance(value, (list, tuple)):
        if include is None and exclude is None and not _has_containers(value):
            return _leaf(value)  # a vector of floats, a list of str: msgspec, whole
        result = []
        for index, item in enumerate(value):
            below_exclude = _sub(exclude, index)
            if below_exclude is True:
                continue
            if isinstance(include, Mapping) and index not in include and "__all__" not in include:
                continue
            below_include = _sub(include, index)
            result.append(
                _walk(
                    item,
                    None if below_include is True else below_include,
                    below_exclude,
                    drop_none,
                    drop_defaults,
                    drop_unset,
                    key,
                )
            )
        return result
    if isinstance(value, dict):
        return {
            k: _walk(item, None, None, drop_none, drop_defaults, drop_unset, key)
            for k, item in value.items()
            if not (drop_none and item is None)
        }
    return _leaf(value)


def _has_containers(items: list[Any] | tuple[Any, ...]) -> bool:
    return bool(items) and isinstance(items[0], (msgspec.Struct, dict, list, tuple))


def _same(value: object, default: object) -> bool:
    try:
        return bool(value == default)
    except Exception:
        return False


def _as_spec(spec: Any) -> Any:
    """A set/list/dict include-exclude spec, normalized (``None`` stays ``None``)."""
    if spec is None or isinstance(spec, Mapping):
        return spec
    return set(spec)


def dump(
    obj: msgspec.Struct,
    *,
    include: Any = None,
    exclude: Any = None,
    exclude_unset: bool = False,
    exclude_defaults: bool = False,
    exclude_none: bool = False,
    by_alias: bool = True,
) -> dict[str, Any]:
    """``obj`` as a dict of builtins (see the module docstring for the options)."""
    if (
        by_alias
        and include is None
        and exclude is None
        and not (exclude_unset or exclude_defaults or exclude_none)
    ):
        result: dict[str, Any] = msgspec.to_builtins(obj, enc_hook=_enc_hook)
        return result
    walked: dict[str, Any] = _walk(
        obj,
        _as_spec(include),
        _as_spec(exclude),
        exclude_none,
        exclude_defaults,
        exclude_unset,
        1 if by_alias else 2,
    )
    return walked


def dump_json(data: Any, *, indent: int | None = None, ensure_ascii: bool = False) -> str:
    """``data`` (builtins) as JSON text: compact, or indented by ``indent`` spaces;
    ``ensure_ascii`` escapes every non-ASCII character as ``\\uXXXX``."""
    if ensure_ascii:
        import json  # (rare: only this spelling needs it)

        separators = (",", ":") if indent is None else (",", ": ")
        return json.dumps(data, ensure_ascii=True, indent=indent, separators=separators)
    encoded = _encoder.encode(data)
    if indent is not None:
        encoded = msgspec.json.format(encoded, indent=indent)
    return encoded.decode("utf-8")
