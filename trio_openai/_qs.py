"""Query strings the way the OpenAI API reads them (sans-IO).

Nested objects become ``a[b]=v``, arrays ``a[]=v1&a[]=v2``, booleans ``true``/``false``,
and ``None`` values are dropped: the bracket scheme the official SDK uses, so that
``metadata[key]=value`` and ``include[]=...`` reach the server as it expects.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import quote

__all__ = ["encode_query", "flatten_query"]


def flatten_query(params: Iterable[tuple[str, object]]) -> list[tuple[str, str]]:
    """Flatten ``(key, value)`` pairs into the bracket scheme.

    Raises:
        TypeError: a value that is not text, a number, a bool, None, a mapping or a list.
    """
    out: list[tuple[str, str]] = []

    def add(key: str, value: object) -> None:
        if value is None:
            return
        if isinstance(value, bool):
            out.append((key, "true" if value else "false"))
        elif isinstance(value, (str, int, float)):
            out.append((key, str(value)))
        elif isinstance(value, Mapping):
            for k, v in value.items():
                add(f"{key}[{k}]", v)
        elif isinstance(value, (list, tuple)):
            for v in value:
                add(f"{key}[]", v)
        else:
            raise TypeError(
                f"query parameter {key!r}: cannot encode a {type(value).__name__} "
                "(use str, int, float, bool, None, a dict or a list)"
            )

    for key, value in params:
        add(key, value)
    return out


def encode_query(params: Iterable[tuple[str, object]]) -> str:
    """``flatten_query`` then percent-encode: ``a=1&b%5Bc%5D=x`` (no leading ``?``)."""
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in flatten_query(params))
