"""Parsing the JSON a model is still writing (sans-IO).

While a structured answer streams in, ``content.delta`` events carry ``parsed``: the
JSON received so far, read as far as it goes. :func:`parse_partial` returns the
value that the text up to here describes with every open object, array and string
closed, and every value that is not complete dropped, as the official SDK's reader
(jiter, ``partial_mode=True``) does:

- an unfinished string, key, ``true``/``false``/``null`` or number ending in ``.``,
  ``e`` or ``-`` is left out, together with its key (``{"a": "He`` gives ``{}``);
- a number at the very end counts as complete (``{"a": 1`` gives ``{"a": 1}``);
- an open array or object is closed (``{"a": [1, 2`` gives ``{"a": [1, 2]}``).

Rules kept: sans-IO and stateless (the text so far in, a value out); complete
values are decoded by the standard library's scanner, so escapes and numbers follow
JSON exactly. Text that can never become JSON raises ``ValueError``.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["parse_partial"]

_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_UNFINISHED_NUMBER = re.compile(r"(?:\.[0-9]*)?(?:[eE][-+]?[0-9]*)?")
"""What may follow the digits of a number cut short: ``.``, ``.5e``, ``e-`` ..."""
_LITERALS = {"true": True, "false": False, "null": None}
_scan_string: Any = json.decoder.scanstring  # type: ignore[attr-defined]


class _Incomplete(Exception):
    pass


class _Reader:
    __slots__ = ("pos", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def skip(self) -> bool:
        """Skip whitespace; whether text remains."""
        match = _WS.match(self.text, self.pos)
        assert match is not None
        self.pos = match.end()
        return self.pos < len(self.text)

    def value(self) -> Any:
        if not self.skip():
            raise _Incomplete
        text, pos = self.text, self.pos
        char = text[pos]
        if char == "{":
            return self.obj()
        if char == "[":
            return self.array()
        if char == '"':
            return self.string()
        for word, value in _LITERALS.items():
            if text.startswith(word, pos):
                self.pos = pos + len(word)
                return value
            if word.startswith(text[pos:]):
                raise _Incomplete
        match = _NUMBER.match(text, pos)
        if match is None:
            if text[pos:] == "-":
                raise _Incomplete
            raise ValueError(f"not JSON at character {pos}: {text[pos : pos + 20]!r}")
        end = match.end()
        if end < len(text) and text[end] in ".eE" and _UNFINISHED_NUMBER.fullmatch(text, end):
            raise _Incomplete
        self.pos = end
        return json.loads(match.group())

    def string(self) -> str:
        try:
            value, end = _scan_string(self.text, self.pos + 1)
        except json.JSONDecodeError as exc:
            # Unterminated, or cut inside an escape (``\u12``): wait for more text.
            if exc.msg.startswith("Unterminated") or exc.pos >= len(self.text) - 6:
                raise _Incomplete from None
            raise ValueError(f"not JSON: {exc}") from None
        self.pos = end
        result: str = value
        return result

    def obj(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        self.pos += 1
        while True:
            if not self.skip():
                return result
            char = self.text[self.pos]
            if char == "}":
                self.pos += 1
                return result
            if char == ",":
                self.pos += 1
                continue
            if char != '"':
                raise ValueError(f"not JSON at character {self.pos}")
            try:
                key = self.string()
                if not self.skip():
                    return result
                if self.text[self.pos] != ":":
                    raise ValueError(f"not JSON at character {self.pos}")
                self.pos += 1
                value = self.value()
            except _Incomplete:
                self.pos = len(self.text)
                return result
            result[key] = value

    def array(self) -> list[Any]:
        result: list[Any] = []
        self.pos += 1
        while True:
            if not self.skip():
                return result
            char = self.text[self.pos]
            if char == "]":
                self.pos += 1
                return result
            if char == ",":
                self.pos += 1
                continue
            try:
                result.append(self.value())
            except _Incomplete:
                self.pos = len(self.text)
                return result


def parse_partial(text: str) -> Any:
    """The value the JSON text so far describes (see the module docstring).

    Returns ``None`` when not even the start of a value is there yet.

    Raises:
        ValueError: the text is not the beginning of any JSON value.
    """
    reader = _Reader(text)
    try:
        return reader.value()
    except _Incomplete:
        return None
