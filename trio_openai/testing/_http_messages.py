"""What the test HTTP server hands a handler and what a handler answers.

Theory of operation: the server (``_http_server``) reads a whole request into a
:class:`Request` and calls the *handler*, an async function that returns a
:class:`Response` or a :class:`Misbehaviour` (or raises one). A :class:`Response`
says what to send and how (framing, informational responses, trickling, a stall
after the head); a :class:`Misbehaviour` says how not to answer (:class:`Stall`,
:class:`Reset`, :class:`CloseWithoutResponse`), and may also be raised by a
streamed body, midway. :func:`echo_handler` and :func:`canned_handler` are the
ready-made handlers.

This module holds data and the two handlers only; it imports neither trio nor h11.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:
    import trio

__all__ = [
    "CloseWithoutResponse",
    "Handler",
    "Misbehaviour",
    "Request",
    "Reset",
    "Response",
    "Stall",
    "Upgrade",
    "canned_handler",
    "echo_handler",
]

_ECHO_MIN_SIZE = 700


class Misbehaviour(Exception):
    """Base of the scripted faults; raise or return one from a handler."""


class Stall(Misbehaviour):
    """Read the request, then never answer.

    The connection stays open (and *active*) until the client closes it or the server
    shuts down; bytes the client sends meanwhile are read and dropped.
    """


class Reset(Misbehaviour):
    """Abort the TCP connection with RST (``SO_LINGER`` 0).

    Raised by a handler: before any response byte. Raised by a streamed body: midway.
    Over TLS no ``close_notify`` is sent either.
    """


class CloseWithoutResponse(Misbehaviour):
    """Close cleanly (FIN, or TLS ``close_notify``) without answering.

    Raised by a streamed body: the response is cut short with a clean close.
    """


@dataclass(slots=True)
class Request:
    """What the server received: one request, its body read in full.

    Attributes:
        method: e.g. ``"POST"``.
        target: the request target as sent, e.g. ``"/v1/models?limit=2"``.
        path: ``target`` before ``?``.
        query: ``target`` after ``?`` (``""`` when there is none).
        headers: ``(name, value)`` pairs in order, names lowercased.
        body: the whole request body (de-chunked).
        connection_id: which TCP connection carried it, numbered from 1 in accept order.
        http_version: ``"1.1"`` or ``"1.0"``.
    """

    method: str
    target: str
    path: str
    query: str
    headers: list[tuple[str, str]]
    body: bytes
    connection_id: int
    http_version: str = "1.1"

    def header(self, name: str) -> str | None:
        """Return the first value of header *name* (any case), or None if absent."""
        name = name.lower()
        for key, value in self.headers:
            if key == name:
                return value
        return None


@dataclass
class Response:
    """What a handler answers.

    Attributes:
        status: the final status code (>= 200).
        headers: extra headers, e.g. ``content-type``. The server adds
            ``content-length`` (bytes body) or ``transfer-encoding: chunked`` (async
            iterable body) unless one of them is given, and ``connection: close`` when
            it will close. A given ``content-length`` is sent as is, even if it does
            not match the body (a way to script a truncated body); a given
            ``transfer-encoding`` makes the body chunked.
        body: bytes, or an async iterable of bytes sent with chunked encoding (or
            delimited by closing the connection, to an HTTP/1.0 client), each item
            flushed as soon as it is produced. An iterable that raises
            :class:`Reset` or :class:`CloseWithoutResponse` drops the connection
            mid-body; one that raises :class:`Stall` stalls mid-body; any other
            exception is recorded in :attr:`HTTPServer.errors` and the connection is
            closed abruptly.
        informational: 1xx status codes sent (in order) before the response, e.g. ``[103]``.
        close: send ``Connection: close`` and close after this response.
        trickle: send the body one byte at a time, sleeping this long before each byte.
        stall_after_head: send the head, then never send the body (the connection stays
            open until the client closes it). For a stall after some body bytes, use an
            async iterable that sleeps forever after yielding them.
        upgrade: with status 101, the connection leaves HTTP: the server sends the head
            (no body, no framing headers) and awaits ``upgrade(stream, rest)``, ``rest``
            being the bytes already received past the request; the connection is
            closed when it returns (a WebSocket, for the Realtime API).
    """

    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | AsyncIterable[bytes] = b""
    informational: list[int] = field(default_factory=list)
    close: bool = False
    trickle: float | None = None
    stall_after_head: bool = False
    upgrade: Upgrade | None = None


Upgrade = Callable[["trio.abc.Stream", bytes], Awaitable[None]]
"""What takes over an upgraded connection: ``await upgrade(stream, rest)``."""


Handler = Callable[[Request], Awaitable[Response | Misbehaviour]]
"""An async function from :class:`Request` to :class:`Response` (or a :class:`Misbehaviour`)."""


async def echo_handler(request: Request) -> Response:
    """The default handler: a JSON description of the request, at least ~700 bytes.

    The body holds ``method``, ``path``, ``query``, ``body_length``, ``headers`` (a dict;
    repeated names keep the last value), ``connection_id`` and a ``pad`` string that
    brings it to the size of a typical small API response.
    """
    payload: dict[str, object] = {
        "method": request.method,
        "path": request.path,
        "query": request.query,
        "body_length": len(request.body),
        "headers": dict(request.headers),
        "connection_id": request.connection_id,
        "pad": "",
    }
    body = msgspec.json.encode(payload)
    short = _ECHO_MIN_SIZE - len(body)
    if short > 0:
        payload["pad"] = "x" * short
        body = msgspec.json.encode(payload)
    return Response(200, [("content-type", "application/json")], body)


def canned_handler(
    body: bytes,
    status: int = 200,
    headers: Iterable[tuple[str, str]] = (("content-type", "application/json"),),
) -> Handler:
    """Return a handler that answers every request with the same response.

    The :class:`Response` is built once and shared, so the handler costs nothing
    per request; do not mutate it.

    Args:
        body: the response body.
        status: the status code.
        headers: extra headers (``content-length`` is added by the server).

    Returns:
        The handler.
    """
    response = Response(status, list(headers), body)

    async def handler(request: Request) -> Response:
        return response

    return handler
