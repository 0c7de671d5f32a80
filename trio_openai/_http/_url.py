"""Absolute http(s) URLs split into what a request needs: origin, Host header, target.

Theory of operation
-------------------
:func:`split_url` turns ``https://host:port/path?query`` into the origin the pool
keys connections by (``(scheme, host, port)``), the ``Host`` header value (the port
only when it is not the scheme's default; IPv6 literals in brackets) and the request
target (path and query; ``/`` when empty; the fragment dropped).

Rules kept:
- Only ``http`` and ``https``; a URL without a scheme is refused with that said
  plainly (``host:port/path`` splits differently across Python versions).
- Credentials in the URL (``user:pass@``) are refused, never sent or logged.
- Every refusal is an :class:`InvalidRequestError` naming the URL and the rule,
  raised before anything is sent.

The function is pure; the pool remembers recent splits itself (per pool, bounded), so
no module-level cache keeps URLs.
"""

from __future__ import annotations

from typing import Final, TypeAlias
from urllib.parse import urlsplit

from ._exceptions import InvalidRequestError

__all__ = ["DEFAULT_PORTS", "Origin", "SplitURL", "split_url"]

Origin: TypeAlias = tuple[str, str, int]
"""``(scheme, host, port)``: where a connection goes; the pool's key for idle ones."""

SplitURL: TypeAlias = tuple[Origin, str, str]
"""``(origin, Host header value, request target)``."""

DEFAULT_PORTS: Final = {"http": 80, "https": 443}


def split_url(url: str) -> SplitURL:
    """``(origin, host header, target)`` of an absolute http(s) URL.

    Raises:
        InvalidRequestError: no or another scheme, no host, a bad port, credentials.
    """
    if "://" not in url:
        raise InvalidRequestError(f"url: {url!r} has no scheme; use http:// or https://")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidRequestError(f"url: {url!r} is not a valid URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        if not scheme:
            raise InvalidRequestError(f"url: {url!r} has no scheme; use http:// or https://")
        raise InvalidRequestError(
            f"url: scheme {scheme!r} is not supported; use http:// or https://"
        )
    host = parts.hostname
    if not host:
        raise InvalidRequestError(f"url: {url!r} has no host")
    if parts.username is not None or parts.password is not None:
        raise InvalidRequestError("url: credentials in the URL are not supported")
    default = DEFAULT_PORTS[scheme]
    port = default if port is None else port
    netloc_host = f"[{host}]" if ":" in host else host
    host_header = netloc_host if port == default else f"{netloc_host}:{port}"
    target = parts.path or "/"
    if parts.query:
        target = f"{target}?{parts.query}"
    return (scheme, host, port), host_header, target
