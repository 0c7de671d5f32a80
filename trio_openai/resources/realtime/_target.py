"""Where a Realtime connection goes and what its failures mean (sans-IO).

Theory of operation: the connection's URL is built like every call's
(``base_url`` + ``/realtime`` + ``?model=...``, through the client's request
builder); :func:`websocket_target` splits it into what the WebSocket handshake
sends: the ``Host`` header and the request target (path and query). The scheme
stays ``http``/``https`` for the transport (TCP, proxy, TLS) and is shown as
``ws``/``wss`` (:func:`websocket_url`). :func:`rejection_error` turns a refused
handshake (an HTTP answer other than 101) into the error the same status gives any
call; :func:`closed_error` turns a close code into what ``recv`` raises.

Rules kept: no I/O here, nothing imports trio-websocket; every error message names
the close code and reason the server gave.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final
from urllib.parse import urlsplit

import trio

from ..._error_map import map_error
from ...errors import APIConnectionError, APIStatusError

__all__ = [
    "NORMAL_CLOSE_CODES",
    "closed_error",
    "rejection_error",
    "websocket_target",
    "websocket_url",
]

NORMAL_CLOSE_CODES: Final = frozenset({1000, 1001})
"""Close codes that end a session normally (RFC 6455: normal closure, going away),
as the official SDK's ``websockets`` counts them."""

_CLOSE_NAMES: Final = {
    1000: "normal closure",
    1001: "going away",
    1002: "protocol error",
    1003: "unsupported data",
    1005: "no status",
    1006: "abnormal closure: the connection broke without a close frame",
    1007: "invalid payload",
    1008: "policy violation",
    1009: "message too big",
    1011: "internal error",
    1012: "service restart",
    1013: "try again later",
}


def websocket_target(url: str) -> tuple[str, str]:
    """The ``Host`` header and the request target of ``url``.

    >>> websocket_target("https://api.openai.com/v1/realtime?model=gpt-realtime")
    ('api.openai.com', '/v1/realtime?model=gpt-realtime')
    """
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]  # never the user-info
    target = parts.path or "/"
    if parts.query:
        target = f"{target}?{parts.query}"
    return host, target


def websocket_url(url: str) -> str:
    """``url`` with its scheme as a WebSocket client shows it (``ws``/``wss``)."""
    if url.startswith("https://"):
        return "wss://" + url[len("https://") :]
    if url.startswith("http://"):
        return "ws://" + url[len("http://") :]
    return url


def rejection_error(
    status: int, headers: Iterable[tuple[bytes, bytes]], body: bytes | None
) -> APIStatusError:
    """The error of a handshake the server answered with ``status`` (not 101): the
    one any call gets for that status (401 :class:`AuthenticationError`, 429
    :class:`RateLimitError` with its ``retry_after``...)."""
    pairs = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers]
    return map_error(status, pairs, body or b"")


def closed_error(code: int | None, reason: str | None, *, by_us: bool) -> Exception:
    """What receiving or sending raises once the connection has closed.

    Returns:
        ``trio.ClosedResourceError`` when this side closed it; ``trio.EndOfChannel``
        for a normal close by the server (``async for`` just ends);
        :class:`APIConnectionError` naming the code and reason otherwise.
    """
    if by_us:
        return trio.ClosedResourceError("this Realtime connection was closed")
    if code in NORMAL_CLOSE_CODES:
        return trio.EndOfChannel(f"the server closed the Realtime connection ({code})")
    name = _CLOSE_NAMES.get(code or 0, "closed")
    text = f"The Realtime connection closed: code {code} ({name})"
    if reason:
        text += f": {reason}"
    return APIConnectionError(text, phase="read")
