"""Transport errors: what can go wrong below HTTP semantics.

Every error names the *phase* it happened in (``pool``, ``connect``, ``tls``,
``proxy``, ``write``, ``read``, ``total``) so that the layer above can map it once to
``APIConnectionError`` / ``APITimeoutError`` and still tell the user where it failed.
Causes are always chained (``raise X(...) from exc``).

This module knows nothing of OpenAI and imports only the standard library.
"""

from __future__ import annotations

__all__ = [
    "ConnectError",
    "ConnectTimeout",
    "InvalidRequestError",
    "PoolDeadlock",
    "PoolTimeout",
    "ProxyError",
    "ReadError",
    "ReadTimeout",
    "RemoteProtocolError",
    "ResponseTooLarge",
    "TLSError",
    "TotalTimeout",
    "TransportError",
    "TransportTimeout",
    "WriteError",
    "WriteTimeout",
]


class TransportError(Exception):
    """Base of every failure to exchange one HTTP message.

    Attributes:
        phase: where it happened: ``pool``, ``connect``, ``tls``, ``proxy``, ``write``,
            ``read`` or ``total``.
        response_started: whether any byte of the response had arrived. A request
            that failed before that on a *reused* connection is safe to send again.
    """

    phase: str = "transport"

    def __init__(self, message: str, *, phase: str | None = None) -> None:
        super().__init__(message)
        if phase is not None:
            self.phase = phase
        self.response_started = False


class ConnectError(TransportError):
    """The TCP connection could not be made (refused, unreachable, DNS failure)."""

    phase = "connect"


class TLSError(ConnectError):
    """The TLS handshake failed, for example the certificate could not be verified."""

    phase = "tls"


class ProxyError(ConnectError):
    """The proxy refused or broke the CONNECT tunnel."""

    phase = "proxy"


class WriteError(TransportError):
    """The connection broke while the request was being sent."""

    phase = "write"


class ReadError(TransportError):
    """The connection broke (reset, or closed early) while the response was read."""

    phase = "read"


class RemoteProtocolError(TransportError):
    """The server broke HTTP/1.1 (malformed head, oversized head, bad framing)."""

    phase = "read"


class ResponseTooLarge(TransportError):
    """A body read whole is larger than the reader's limit (``max_response_size``).

    Raised before any of the body is read when the Content-Length announces it, else
    as soon as the bytes received pass the limit. The connection is closed (the rest
    of the body is never read), and nothing of the body is kept.

    Attributes:
        limit: the limit in bytes.
        size: the declared Content-Length, or the bytes received when the limit
            was passed (``declared`` says which).
        status: the response's status code; ``headers`` its raw header pairs.
    """

    phase = "read"

    def __init__(
        self,
        limit: int,
        size: int,
        *,
        declared: bool,
        status: int,
        headers: list[tuple[bytes, bytes]],
    ) -> None:
        what = f"Content-Length {size}" if declared else f"{size} bytes received"
        super().__init__(f"response body too large: {what}, over max_response_size={limit}")
        self.limit = limit
        self.size = size
        self.declared = declared
        self.status = status
        self.headers = headers
        self.response_started = True


class TransportTimeout(TransportError):
    """A phase's time limit expired; ``phase`` says which and ``limit`` how long it was."""

    def __init__(self, limit: float, *, phase: str | None = None) -> None:
        name = phase if phase is not None else self.phase
        super().__init__(f"{name} timeout: no progress within {limit:g} s", phase=phase)
        self.limit = limit


class PoolTimeout(TransportTimeout):
    """No connection slot became free in time (``Timeouts.pool``)."""

    phase = "pool"


class PoolDeadlock(TransportError):
    """No connection can ever come: every one is held by leases of the requesting task.

    Raised at once instead of waiting for ``Timeouts.pool``: the task would wait for
    itself (typically a request made inside the loop of a stream it holds open, on a
    pool that stream fills). Not worth retrying, and no sign of the server's health.

    Attributes:
        holders: the requests holding the connections (``"POST /v1/chat/completions"``).
        request: the request that could not be served.
    """

    phase = "pool"

    def __init__(self, message: str, *, holders: tuple[str, ...], request: str) -> None:
        super().__init__(message)
        self.holders = holders
        self.request = request


class ConnectTimeout(TransportTimeout):
    """Connecting (TCP, proxy tunnel and TLS handshake) took too long."""

    phase = "connect"


class WriteTimeout(TransportTimeout):
    """Sending the request stalled (``Timeouts.write``)."""

    phase = "write"


class ReadTimeout(TransportTimeout):
    """No response byte arrived within ``Timeouts.read``."""

    phase = "read"


class TotalTimeout(TransportTimeout):
    """The whole exchange exceeded ``Timeouts.total``."""

    phase = "total"


class InvalidRequestError(ValueError):
    """The request itself is unusable (bad URL, scheme, header); nothing was sent."""
