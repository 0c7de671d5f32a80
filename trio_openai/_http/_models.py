"""Small value types of the transport: response headers, the states of a connection.

:class:`Headers` wraps the raw ``(name, value)`` byte pairs of a response head (names
lowercased, as h11 and our parser give them) and decodes them only when looked at:
most responses are read for one or two headers (the request id), which a scan of the
pairs finds for less than building the mapping costs; the mapping is built once, when
the headers are iterated, counted or shown.

A connection (``_connection``) moves ``NEW -> ACTIVE -> IDLE -> ACTIVE ... -> CLOSED``
(:class:`ConnectionState`); the pool keeps one that ends an exchange ``IDLE`` and
closes any other. The states are here, below both, so that the pool reads them
without loading the connection module and the HTTP/1.1 framing under it, which load
with a pool's first connection.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from typing import Final

__all__ = ["READ_SIZE", "SENSITIVE_HEADERS", "ConnectionState", "Headers"]

READ_SIZE: Final = 65536
"""The default of the most bytes asked of the socket in one read (``read_buffer_size``)."""


class ConnectionState(enum.Enum):
    NEW = "new"
    ACTIVE = "active"
    IDLE = "idle"
    CLOSED = "closed"


SENSITIVE_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "api-key", "cookie", "set-cookie"}
)


class Headers(Mapping[str, str]):
    """Case-insensitive, read-only view of response headers.

    Repeated headers are joined with ``", "`` in the mapping view; :meth:`get_list`
    gives them one by one. Credentials are redacted in ``repr``.
    """

    __slots__ = ("_last", "_map", "_raw")

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        self._raw = raw
        self._map: dict[str, str] | None = None
        self._last: tuple[str, str | None] | None = None  # the last name scanned for

    @property
    def raw(self) -> list[tuple[bytes, bytes]]:
        """The pairs as received (names lowercased by h11), in order."""
        return self._raw

    def _lookup(self) -> dict[str, str]:
        m = self._map
        if m is None:
            m = {}
            for name, value in self._raw:
                key = name.decode("latin-1").lower()
                text = value.decode("latin-1")
                m[key] = f"{m[key]}, {text}" if key in m else text
            self._map = m
        return m

    def _find(self, name: str) -> str | None:
        """The value of ``name`` (repeats joined with ``", "``), or None."""
        m = self._map
        if m is not None:
            return m.get(name.lower())
        last = self._last
        if last is not None and last[0] == name:  # (the request id is read twice)
            return last[1]
        try:
            key = name.lower().encode("latin-1")
        except (AttributeError, UnicodeEncodeError):  # not a str, or no such header
            return None
        found = None
        for raw_name, value in self._raw:
            if raw_name == key:
                found = value if found is None else found + b", " + value
        text = None if found is None else found.decode("latin-1")
        self._last = (name, text)
        return text

    def __getitem__(self, name: str) -> str:
        value = self._find(name)
        if value is None:
            raise KeyError(name)
        return value

    def get(self, name: str, default: str | None = None) -> str | None:  # type: ignore[override]
        value = self._find(name)
        return default if value is None else value

    def get_list(self, name: str) -> list[str]:
        key = name.lower().encode("latin-1")
        return [v.decode("latin-1") for n, v in self._raw if n.lower() == key]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._find(name) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._lookup())

    def __len__(self) -> int:
        return len(self._lookup())

    def __repr__(self) -> str:
        shown = {
            k: ("[redacted]" if k in SENSITIVE_HEADERS else v) for k, v in self._lookup().items()
        }
        return f"Headers({shown!r})"


def redact_pairs(pairs: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``pairs`` safe to log: credential values replaced."""
    return {k: ("[redacted]" if k.lower() in SENSITIVE_HEADERS else v) for k, v in pairs.items()}
