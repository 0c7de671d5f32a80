"""Request headers: checked against the grammar we send, encoded once per distinct pair.

Theory of operation
-------------------
Headers come from users and from the layers above as ``str`` pairs (a mapping or a
sequence). Before anything is sent each pair is checked with the strict rule for what
we send (:data:`~._grammar.TOKEN_STR` names, :data:`~._grammar.FIELD_VALUE_SENT_STR`
values: no control character, no DEL, no surrounding whitespace, latin-1 only) and
encoded to bytes. A bad pair is an :class:`InvalidRequestError` that names the header
and the rule it breaks.

Most headers repeat on every request (auth, accept, content type, user agent, host),
so a :class:`HeaderEncoder` remembers the pairs it has checked and encoded: the
per-request regex work leaves the hot path. A header whose value changes on every
request (an idempotency key, a request id) would only fill that memory and push the
useful pairs out, so a name seen with more than a few distinct values is checked
every time and no longer remembered. The memory is bounded (cleared whole when
full) and belongs to one pool, which clears it when it closes: those pairs include
credentials (``Authorization``), and no module-level state may keep them.

The response side, :class:`~._models.Headers`, is in ``_models``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final, TypeAlias

from ._exceptions import InvalidRequestError
from ._grammar import FIELD_VALUE_SENT_STR, TOKEN_STR

__all__ = ["FRAMING", "HOST", "HeaderEncoder", "HeaderInput", "header_pairs"]

HeaderInput: TypeAlias = "Mapping[str, str] | Sequence[tuple[str, str]] | None"
"""Headers as callers give them: a mapping, ``(name, value)`` pairs, or nothing."""

HOST: Final = 1
"""``encode_lines`` found a ``Host`` header."""
FRAMING: Final = 2
"""``encode_lines`` found a header that frames the message or ends the connection:
``Content-Length``, ``Transfer-Encoding`` or ``Connection``."""
_KINDS: Final = {
    "host": HOST,
    "content-length": FRAMING,
    "transfer-encoding": FRAMING,
    "connection": FRAMING,
}

_Entry: TypeAlias = "tuple[tuple[bytes, bytes], bytes, int]"

_DEFAULT_SIZE: Final = 4096
_VOLATILE_AFTER: Final = 16
"""Distinct values of one header name remembered before the name counts as volatile."""
_token = TOKEN_STR.fullmatch
_field_value = FIELD_VALUE_SENT_STR.fullmatch


def _value_ok(value: str) -> bool:
    """Whether ``value`` may be sent (:data:`~._grammar.FIELD_VALUE_SENT_STR`).

    Printable ASCII without a space at either end is checked without the regex (which
    spends a few hundred instructions per character): an idempotency key or a request
    id, new on every request, is exactly that.
    """
    if value.isascii() and value.isprintable():  # (only " " to "~")
        return not value or (value[0] != " " and value[-1] != " ")
    return _field_value(value) is not None


def header_pairs(headers: HeaderInput) -> list[tuple[str, str]]:
    """A new list of the ``(name, value)`` pairs in ``headers``."""
    if headers is None:
        return []
    if isinstance(headers, Mapping):
        return list(headers.items())
    return list(headers)


def _bad_header(name: object, value: object) -> str:
    """Why a pair that failed the check is refused, in words."""
    if not isinstance(name, str) or not isinstance(value, str):
        return f"header {name!r}: names and values must be str"
    if not _token(name):
        return f"header name {name!r} is not a valid HTTP token"
    if any(c in value for c in "\r\n\x00"):
        return f"header {name!r}: value contains CR, LF or NUL"
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return f"header {name!r}: value is not latin-1 text"
    return f"header {name!r}: value has a control character or surrounding whitespace"


class HeaderEncoder:
    """Checks and encodes header pairs, remembering each distinct pair it passed.

    Args:
        size: how many pairs to remember; past that the memory starts afresh.
    """

    __slots__ = ("_cache", "_size", "_values", "_volatile")

    def __init__(self, size: int = _DEFAULT_SIZE) -> None:
        # pair -> ((name, value) encoded, its head line "name: value\r\n", its kind)
        self._cache: dict[tuple[str, str], _Entry] = {}
        self._size = size
        self._values: dict[str, int] = {}  # distinct values remembered, per name
        self._volatile: set[str] = set()  # names no longer remembered

    def __len__(self) -> int:
        """How many pairs are remembered."""
        return len(self._cache)

    def clear(self) -> None:
        """Forget every pair (the pool does this when it closes)."""
        self._cache.clear()
        self._values.clear()
        self._volatile.clear()

    def encode(self, pairs: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
        """The pairs checked and encoded (latin-1), in order.

        Raises:
            InvalidRequestError: naming the first bad header and what is wrong with it.
        """
        return self.encode_lines(pairs)[0]

    def encode_lines(
        self, pairs: list[tuple[str, str]]
    ) -> tuple[list[tuple[bytes, bytes]], list[bytes], int]:
        """The pairs checked and encoded, their head lines (``name: value\\r\\n``),
        and which kinds of header the caller gave (:data:`HOST` | :data:`FRAMING`).

        Raises:
            InvalidRequestError: naming the first bad header and what is wrong with it.
        """
        cache = self._cache
        out = []
        lines = []
        kinds = 0
        for pair in pairs:
            try:
                entry = cache.get(pair)
            except TypeError:  # unhashable: not a pair of str
                raise InvalidRequestError(_bad_header(*pair)) from None
            if entry is None:
                entry = self._check(pair)
            out.append(entry[0])
            lines.append(entry[1])
            kinds |= entry[2]
        return out, lines, kinds

    def _check(self, pair: tuple[str, str]) -> _Entry:
        name, value = pair
        if not (
            isinstance(name, str) and isinstance(value, str) and _token(name) and _value_ok(value)
        ):
            raise InvalidRequestError(_bad_header(name, value))
        name_b = name.encode("ascii")
        value_b = value.encode("latin-1")
        line = name_b + b": " + value_b + b"\r\n"
        entry = ((name_b, value_b), line, _KINDS.get(name.lower(), 0))
        if name not in self._volatile:
            self._remember(pair, entry)
        return entry

    def _remember(self, pair: tuple[str, str], encoded: _Entry) -> None:
        cache = self._cache
        if len(cache) >= self._size:
            cache.clear()
            self._values.clear()
        name = pair[0]
        count = self._values.get(name, 0) + 1
        if count > _VOLATILE_AFTER:
            self._volatile.add(name)
            return
        self._values[name] = count
        cache[pair] = encoded
