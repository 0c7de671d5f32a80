"""The h11 road: an exchange whose response is not in the plain form, read by h11.

Theory of operation
-------------------
When :func:`~._h1.parse_response_head` declines a head (1xx, HTTP/1.0, bare-LF line
ends, folded or malformed lines, read-until-close or unusual framing), the
connection hands the rest of the exchange to an :class:`H11Fallback`. It makes a
fresh ``h11.Connection`` for the client side, tells it the request
(:meth:`~._h1.RequestHead.h11_event`, h11's public constructor) and an in-memory
body, feeds it the bytes received so far, and from then on h11 reads this response,
head and body, with its own rules. The connection only supplies bytes: each call
takes a ``receive`` function (one socket read under the connection's time limits;
``b""`` at EOF).

Rules kept:
- What h11 refuses is a :class:`RemoteProtocolError`, or a :class:`ReadError` when
  the peer closed inside the message (it was cut short); either way a response had
  started arriving.
- 1xx responses are skipped; the head returned is the final one.
- A response with both ``Content-Length`` and ``Transfer-Encoding`` is refused
  (RFC 9112 section 6.3 lets a client treat it as an error; h11 would read it by
  ``Transfer-Encoding``). A message framed two ways is how responses are smuggled
  past an intermediary that reads the other framing, so no framing of it can be
  trusted. The fast path declines such heads, so this is the one place deciding.
- After the body the connection may be reused only if h11 ended both sides cleanly
  (both DONE, nothing after the body, no EOF seen): :attr:`H11Fallback.reusable`.
- A streamed request body cannot be told to h11 again: h11 then ends the exchange
  with our side unfinished, and the connection is closed rather than reused.

h11 is imported here only when an exchange first takes this road.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Awaitable, Callable
from typing import TYPE_CHECKING

from ._exceptions import ReadError, RemoteProtocolError, TransportError
from ._h1 import ResponseHead

if TYPE_CHECKING:
    import h11

    from ._h1 import RequestHead

__all__ = ["H11Fallback", "Receive"]

Receive = Callable[[], Awaitable["bytes | bytearray"]]
"""One read from the socket under the exchange's time limits (``b""``: EOF)."""


class H11Fallback:
    """One exchange read by h11 (see the module docstring).

    Args:
        request: the request already sent.
        body: its body as sent (told to h11 when in memory).
        received: the response bytes received so far.
        max_head: the limit on a response head, as ``max_incomplete_event_size``.

    Attributes:
        reusable: after the end of the body, whether the connection may carry
            another request.
    """

    __slots__ = ("_conn", "_eof", "reusable")

    def __init__(
        self,
        request: RequestHead,
        body: bytes | AsyncIterable[bytes] | None,
        received: bytes,
        *,
        max_head: int,
    ) -> None:
        import h11  # (h11 is imported only when some exchange needs it)

        conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=max_head)
        conn.send(request.h11_event())
        if body is None or isinstance(body, (bytes, bytearray, memoryview)):
            if body:
                conn.send(h11.Data(data=body))
            conn.send(h11.EndOfMessage())
        conn.receive_data(received)
        self._conn = conn
        self._eof = False
        self.reusable = False

    async def receive_head(self, receive: Receive) -> ResponseHead:
        """The final response head (1xx responses skipped).

        Raises:
            ReadError: the peer closed before a complete head.
            RemoteProtocolError: h11 refused the bytes.
        """
        import h11

        while True:
            event = await self._next_event(receive, "head")
            if type(event) is h11.Response:
                headers = list(event.headers)
                names = {name for name, _ in headers}
                if b"content-length" in names and b"transfer-encoding" in names:
                    err = RemoteProtocolError(
                        "invalid HTTP response from server: both Content-Length and"
                        " Transfer-Encoding frame its body (RFC 9112 section 6.3)"
                    )
                    err.response_started = True
                    raise err
                return ResponseHead(event.status_code, event.reason, headers, event.http_version)
            if type(event) is h11.InformationalResponse:
                continue
            if type(event) is h11.ConnectionClosed:
                raise ReadError(
                    "server closed the connection without sending a response", phase="read"
                )
            raise RemoteProtocolError(f"unexpected event before response head: {event!r}")

    async def receive_body(self, receive: Receive) -> bytes:
        """The next piece of the body, or ``b""`` at its end (then see ``reusable``).

        Raises:
            ReadError: the peer closed in the middle of the body.
            RemoteProtocolError: h11 refused the bytes.
        """
        import h11

        while True:
            event = await self._next_event(receive, "body")
            t = type(event)
            if t is h11.Data:
                data: bytes = event.data  # type: ignore[attr-defined]
                if data:
                    return data if type(data) is bytes else bytes(data)
                continue
            if t is h11.EndOfMessage:
                conn = self._conn
                leftover, closed = conn.trailing_data
                self.reusable = (
                    conn.our_state is h11.DONE
                    and conn.their_state is h11.DONE
                    and not leftover
                    and not closed
                    and not self._eof
                )
                return b""
            if t is h11.ConnectionClosed:
                raise ReadError("server closed the connection in the middle of the body")
            raise RemoteProtocolError(f"unexpected event in response body: {event!r}")

    async def _next_event(self, receive: Receive, part: str) -> h11.Event:
        import h11

        conn = self._conn
        while True:
            try:
                event = conn.next_event()
            except h11.RemoteProtocolError as exc:
                err: TransportError
                if self._eof:  # EOF inside the message: it was cut short
                    err = ReadError(f"server closed the connection in the middle of the {part}")
                else:
                    err = RemoteProtocolError(f"invalid HTTP response from server: {exc}")
                err.response_started = True
                raise err from exc
            if event is not h11.NEED_DATA:
                return event  # type: ignore[return-value]
            data = await receive()
            self._eof = not data
            conn.receive_data(data)  # type: ignore[arg-type]  # h11 accepts any buffer
