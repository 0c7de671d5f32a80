"""What the test servers share: a bound listener, a serving nursery, resets.

Theory of operation: the HTTP server (``_http_server``) and the CONNECT proxy
(``_proxy_server``) run the same way: bind one listener (:func:`open_listener`),
run an accept loop and its connection tasks in a nursery around the body of the
user's ``async with`` (:func:`run_in_nursery`), and abort connections with RST when
a test asks for it (:func:`set_linger_zero`).

Rules kept: no task outlives the ``async with``; the serving tasks never raise, so an
exception raised in the body comes out as itself, not wrapped in an exception group.
"""

from __future__ import annotations

import contextlib
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Final

import trio

from .._compat import BaseExceptionGroup

__all__ = ["LINGER_ZERO", "open_listener", "run_in_nursery", "set_linger_zero"]

LINGER_ZERO: Final = struct.pack("ii", 1, 0)
"""``SO_LINGER`` on with a zero timeout: ``close()`` sends RST instead of FIN."""


def set_linger_zero(stream: trio.SocketStream) -> bool:
    """Make the next close of *stream* a reset (RST).

    Returns:
        False when the socket is already gone (closed or reset): nothing to abort.
    """
    with contextlib.suppress(OSError):
        stream.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_ZERO)
        return True
    return False


@asynccontextmanager
async def open_listener(host: str, port: int) -> AsyncIterator[trio.SocketListener]:
    """Bind one TCP listener (the first address *host* resolves to); close it on exit.

    Raises:
        OSError: the address could not be bound.
    """
    listeners = await trio.open_tcp_listeners(port, host=host)
    for extra in listeners[1:]:
        await trio.aclose_forcefully(extra)
    listener = listeners[0]
    try:
        yield listener
    finally:
        await trio.aclose_forcefully(listener)


@asynccontextmanager
async def run_in_nursery(
    serve: Callable[[trio.SocketListener, trio.Nursery], Awaitable[None]],
    listener: trio.SocketListener,
) -> AsyncIterator[None]:
    """Run ``serve(listener, nursery)`` in a nursery around the ``async with`` body.

    The serving tasks never raise, so an exception group leaving the nursery holds
    only what the body raised: that exception is re-raised as itself, so that callers
    can catch it normally. (Leaving the body cancels the serving tasks.)
    """
    body_error: BaseException | None = None
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(serve, listener, nursery)
            try:
                yield
            finally:
                nursery.cancel_scope.cancel()
    except BaseExceptionGroup as group:
        if len(group.exceptions) != 1:
            raise
        body_error = group.exceptions[0]
    if body_error is not None:
        raise body_error
