"""The server's rate-limit figures, sans-IO: ``x-ratelimit-*`` headers in, numbers out.

Theory of operation. Every OpenAI response may carry six headers about the caller's
quota: ``x-ratelimit-{limit,remaining,reset}-{requests,tokens}``. The limits and
remaining counts are integers; the resets are Go ``time.Duration`` strings (``1s``,
``6m0s``, ``547ms``). :func:`parse_ratelimit_headers` reads whichever of them a response
has into one frozen :class:`ServerLimits`; :func:`parse_reset_duration` is the duration
grammar on its own (the mock server's tests read its headers with it). What the
figures *mean* for the next request is the budget's business (``_ratelimit_budget``,
where ``ServerLimits`` is defined: a client needs it when it is made, this parser
only with the first response that carries the headers).

Rules kept:

- Parsing never raises: a value that is not a count or a duration, too long to be one
  (over 64 characters), negative or infinite is skipped, as if the header were absent.
- Names are case-insensitive; names and values may be ``str`` or ``bytes`` (as h11 gives
  them; bytes are read as UTF-8, falling back to Latin-1).
- No trio, no clock: a reset is a duration from the moment the response arrived, which
  the caller supplies when it applies the figures.

Options rejected:

- Reading ``reset`` as an absolute time: OpenAI sends durations; a bare number is taken
  as seconds, never as an epoch.
- Accepting a sign: a negative duration is not something a server means.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import TypeAlias

from ._ratelimit_budget import ServerLimits

__all__ = [
    "HeadersInput",
    "ServerLimits",
    "parse_ratelimit_headers",
    "parse_reset_duration",
]

HeadersInput: TypeAlias = "Mapping[str, str] | Iterable[tuple[str | bytes, str | bytes]]"
"""Response headers: a mapping, or ``(name, value)`` pairs of str or bytes (as h11)."""

# A number is ``\d+(?:\.\d*)?|\.\d+`` (ASCII digits): :func:`_is_number` checks it with
# string methods. A duration is one or more components, a number and its unit; "ms"
# must come before "m"; both micro signs (U+00B5, U+03BC) are accepted, as in Go. One
# pattern finds the components, and a duration is text they cover whole: quicker per
# value, and to compile, than matching the whole text with a pattern of its own first.
_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)"
_UNIT = r"(?:h|ms|m|s|us|\u00b5s|\u03bcs|ns)"
_COMPONENT_RE = re.compile(rf"({_NUMBER})({_UNIT})", re.ASCII)
_UNIT_SECONDS = {
    "h": 3600.0,
    "m": 60.0,
    "s": 1.0,
    "ms": 1e-3,
    "us": 1e-6,
    "\u00b5s": 1e-6,
    "\u03bcs": 1e-6,
    "ns": 1e-9,
}
_MAX_HEADER_VALUE = 64  # longer values are not durations or counts we believe


def _text(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw.decode("latin-1")
    return None


def _is_number(s: str, *, whole_required: bool = False) -> bool:
    """Whether ``s`` is a number (see above): ASCII digits with at most one ``.``, a
    digit before it (always, when ``whole_required``) or after it."""
    whole, _, fraction = s.partition(".")
    if not s.isascii() or (fraction and not fraction.isdigit()):
        return False
    if whole:
        return whole.isdigit()
    return not whole_required and bool(fraction)


def parse_reset_duration(text: str | bytes | None) -> float | None:
    """Parse an ``x-ratelimit-reset-*`` value (a Go ``time.Duration`` string).

    Accepts ``0``, sequences of ``<number><unit>`` with units ``h m s ms us µs μs ns``
    (``1s``, ``6m0s``, ``547ms``, ``2m52.8s``, ``1h2m3.5s``, ``1.5ms``), a bare number
    meaning seconds, and surrounding whitespace. No sign is accepted.

    Args:
        text: the header value (str, or bytes as received).

    Returns:
        The duration in seconds, or ``None`` when the value is not a duration. Never
        raises.
    """
    s = _text(text)
    if s is None:
        return None
    s = s.strip()
    if not s or len(s) > _MAX_HEADER_VALUE:
        return None
    if _is_number(s):
        total = float(s)
    else:
        # A duration when its components, one after another, are the whole text.
        total = 0.0
        covered = 0
        for number, unit in _COMPONENT_RE.findall(s):
            total += float(number) * _UNIT_SECONDS[unit]
            covered += len(number) + len(unit)
        if covered != len(s):
            return None
    return total if math.isfinite(total) else None


def _parse_count(text: str) -> int | None:
    s = text.strip()
    if not s or len(s) > _MAX_HEADER_VALUE or not _is_number(s, whole_required=True):
        return None
    return int(float(s)) if "." in s else int(s)


_HEADER_FIELDS = {
    "x-ratelimit-limit-requests": "limit_requests",
    "x-ratelimit-remaining-requests": "remaining_requests",
    "x-ratelimit-reset-requests": "reset_requests",
    "x-ratelimit-limit-tokens": "limit_tokens",
    "x-ratelimit-remaining-tokens": "remaining_tokens",
    "x-ratelimit-reset-tokens": "reset_tokens",
}


def _iter_headers(headers: HeadersInput) -> Iterable[tuple[object, object]]:
    if isinstance(headers, Mapping):
        return headers.items()
    return headers


def parse_ratelimit_headers(headers: HeadersInput) -> ServerLimits | None:
    """Read the six ``x-ratelimit-*`` headers (names are case-insensitive).

    Args:
        headers: a mapping or ``(name, value)`` pairs, str or bytes.

    Returns:
        A :class:`ServerLimits` with every field that was present and parseable, or
        ``None`` when none was. Never raises for odd values; they are skipped.
    """
    found: dict[str, int | float] = {}
    for raw_name, raw_value in _iter_headers(headers):
        name = _text(raw_name)
        if name is None:
            continue
        field = _HEADER_FIELDS.get(name.strip().lower())
        if field is None:
            continue
        value = _text(raw_value)
        if value is None:
            continue
        parsed: float | None = (
            parse_reset_duration(value) if field.startswith("reset_") else _parse_count(value)
        )
        if parsed is not None:
            found[field] = parsed
    if not found:
        return None
    return ServerLimits(
        limit_requests=_as_int(found.get("limit_requests")),
        remaining_requests=_as_int(found.get("remaining_requests")),
        reset_requests=_as_float(found.get("reset_requests")),
        limit_tokens=_as_int(found.get("limit_tokens")),
        remaining_tokens=_as_int(found.get("remaining_tokens")),
        reset_tokens=_as_float(found.get("reset_tokens")),
    )


def _as_int(value: float | None) -> int | None:
    return None if value is None else int(value)


def _as_float(value: float | None) -> float | None:
    return None if value is None else float(value)
