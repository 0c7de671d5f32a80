"""What an error may show of a failed exchange: bounded, printable text with secrets removed.

Theory of operation. An error message is built from material the library does not
control: a server's error body (JSON, an HTML page from a proxy, plain text, invalid
UTF-8, megabytes), response headers, transport messages that may quote a proxy URL with
its password, and the caller's own parameter values. Before any of it reaches a message,
an attribute or a log line it passes through here:

- :func:`scrub` removes bearer tokens, unmasked ``sk-...`` keys and URL user-info;
  :func:`is_secret_field` tells which parameter names (``api_key``, ``*_secret``,
  ``password``, ``token`` ...) must not show their value;
- :class:`ErrorHeaders` is the read-only copy of response headers an error keeps, the
  values of credential headers (the transport's ``SENSITIVE_HEADERS``) replaced by
  :data:`REDACTED`;
- :func:`decode_body` reads at most :data:`MAX_BODY_BYTES` of a body as JSON or text;
  :func:`excerpt` and :func:`server_message` bound what of it enters a message;
  :func:`details` formats the ``(status: ...; type: ...; request id: ...)`` suffix.

Rules kept:

- Sans-IO, stdlib and msgspec only; nothing here raises on odd input.
- Redact before bounding: a secret cut in half by a length limit could no longer be
  recognised.
- Masked keys (``sk-proj-****abcd``) are kept: they help a user tell keys apart and
  reveal nothing.

Options rejected:

- Redacting at display time (``__str__``): the attributes (``message``, ``headers``)
  would still hold the secrets, and loggers read attributes.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import msgspec

from trio_openai._http import SENSITIVE_HEADERS

if TYPE_CHECKING:
    from ._classify import HeadersLike

__all__ = [
    "MAX_BODY_BYTES",
    "REDACTED",
    "ErrorHeaders",
    "as_headers",
    "decode_body",
    "details",
    "excerpt",
    "is_secret_field",
    "scrub",
    "server_message",
]

REDACTED = "[redacted]"
"""What replaces a secret wherever an error would otherwise show it."""

MAX_BODY_BYTES = 1 << 20
"""Bodies beyond this are not looked at (the transport caps error bodies at 1 MiB too)."""

# Bounds for what goes into a message.
_MAX_EXCERPT_CHARS = 300
_MAX_SERVER_MESSAGE_CHARS = 2000

# The patterns are compiled on first use (an error path): compiling them costs more
# than the rest of ``import trio_openai``'s error modules together.
_SCRUBBERS = (
    # user:password@ in URLs (proxy URLs in transport messages)
    (r"(?i)\b([a-z][a-z0-9+.\-]*://)[^\s/@]+@", r"\1" + REDACTED + "@"),
    # Authorization: Bearer <token>
    (r"(?i)\b(bearer\s+)[^\s\"',;]+", r"\1" + REDACTED),
    # an unmasked OpenAI-style key; masked ones ("sk-proj-****abcd") are kept, they help
    (r"\bsk-[A-Za-z0-9_\-]{6,}(?![A-Za-z0-9_*\-])", "sk-" + REDACTED),
)
_HTML_TAG = r"<[^>]*>"
_SECRET_FIELD = (
    r"(?i)^(?:.*[_\-])?(?:api[_\-]?key|secret|password|authorization|token|access[_\-]?key)$"
)


@functools.cache
def _scrubbers() -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple((re.compile(pattern), replacement) for pattern, replacement in _SCRUBBERS)


@functools.cache
def _pattern(source: str) -> re.Pattern[str]:
    return re.compile(source)


def scrub(text: str) -> str:
    """Return ``text`` with bearer tokens, unmasked keys and URL user-info redacted."""
    for pattern, replacement in _scrubbers():
        text = pattern.sub(replacement, text)
    return text


def is_secret_field(field: str) -> bool:
    """Whether a (possibly dotted or indexed) parameter name holds a secret.

    The last component decides: ``messages[0].api_key`` and ``client_secret`` do,
    ``max_tokens`` does not.
    """
    last = re.split(r"[.\[\]]", field.strip("]"))[-1]
    return _pattern(_SECRET_FIELD).match(last) is not None


def excerpt(text: str, limit: int = _MAX_EXCERPT_CHARS) -> str:
    """One printable line of at most ``limit`` characters, tags of HTML pages removed."""
    text = text[: limit * 8]
    if text.lstrip().startswith("<"):
        # a tag cut in half by the slice above is dropped as well
        text = _pattern(_HTML_TAG).sub(" ", text).split("<", 1)[0]
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "\u2026"
    return text


def server_message(value: object) -> str | None:
    """A server's ``message`` field, scrubbed and bounded; ``None`` if not a non-blank str."""
    if isinstance(value, str) and value.strip():
        message = scrub(value.strip())
        if len(message) > _MAX_SERVER_MESSAGE_CHARS:
            message = message[: _MAX_SERVER_MESSAGE_CHARS - 1] + "\u2026"
        return message
    return None


def decode_body(body: bytes) -> tuple[object, str]:
    """Decode an error body: (JSON value, or the text, or None if empty; its text)."""
    data = bytes(body[:MAX_BODY_BYTES])
    text = data.decode("utf-8", errors="replace")
    if not text.strip():
        return None, ""
    try:
        return msgspec.json.decode(data), text
    except (msgspec.DecodeError, ValueError, RecursionError):
        # Not JSON (an HTML page from a proxy, plain text), cut short by the cap, invalid
        # UTF-8 inside a string, or nested past msgspec's depth limit: keep the text.
        return text, text


def details(
    *,
    status: int | None = None,
    type: str | None = None,
    code: str | None = None,
    param: str | None = None,
    request_id: str | None = None,
) -> str:
    """The ``" (status: 429; type: ...; code: ...; request id: ...)"`` message suffix.

    Empty when there is nothing to say; ``code`` is left out when it repeats ``type``.
    """
    parts = []
    if status is not None:
        parts.append(f"status: {status}")
    if type:
        parts.append(f"type: {type}")
    if code and code != type:
        parts.append(f"code: {code}")
    if param:
        parts.append(f"param: {param}")
    if request_id:
        parts.append(f"request id: {request_id}")
    return f" ({'; '.join(parts)})" if parts else ""


class ErrorHeaders(Mapping[str, str]):
    """Read-only, case-insensitive copy of response headers, credentials redacted.

    Keys are kept in lower case (iteration yields lower-case names); lookups accept any
    case. Repeated headers are joined with ``", "``.
    """

    __slots__ = ("_items",)

    def __init__(self, headers: HeadersLike | None = None) -> None:
        items: dict[str, str] = {}
        if headers is not None:
            pairs: Iterable[tuple[str | bytes, str | bytes]]
            pairs = headers.items() if isinstance(headers, Mapping) else headers
            for raw_key, raw_value in pairs:
                key = raw_key.decode("latin-1") if isinstance(raw_key, bytes) else raw_key
                value = raw_value.decode("latin-1") if isinstance(raw_value, bytes) else raw_value
                key = key.lower()
                if key in SENSITIVE_HEADERS:
                    items[key] = REDACTED
                elif key in items:
                    items[key] = f"{items[key]}, {value}"
                else:
                    items[key] = value
        self._items = items

    def __getitem__(self, key: object) -> str:
        if not isinstance(key, str):
            raise KeyError(key)
        return self._items[key.lower()]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (ErrorHeaders, (list(self._items.items()),))


def as_headers(headers: HeadersLike | None) -> ErrorHeaders:
    """``headers`` as an :class:`ErrorHeaders` (the same object if it already is one)."""
    if isinstance(headers, ErrorHeaders):
        return headers
    return ErrorHeaders(headers)
