"""Preparing a request: checked and encoded once, before any connection is touched.

Theory of operation
-------------------
:meth:`RequestPreparer.prepare` turns ``(method, url, headers, body)`` into a
:class:`PreparedRequest`: the origin to connect to, the proxy (if any) for it, and a
:class:`~._h1.RequestHead` whose bytes are ready to write. Along the way it

- splits the URL (:mod:`._url`); through a forwarding proxy an ``http`` target is
  sent in absolute form, and the proxy's credentials become ``Proxy-Authorization``;
- adds what the caller left out: ``Host`` (first), then the body framing:
  ``Content-Length`` for an in-memory body (or an empty one on POST, PUT and PATCH),
  ``Transfer-Encoding: chunked`` for a streamed one;
- checks and encodes the header pairs (:mod:`._headers`), then lets ``RequestHead``
  check the rest as h11 would (method, target, one Host, framing headers).

Anything wrong is an :class:`InvalidRequestError` and nothing is sent. Preparing is
synchronous and does no I/O.

A preparer belongs to one pool and remembers recent URL splits and header pairs
(bounded), so what repeats on every request is checked once; :meth:`clear` forgets
them (the pool calls it when it closes, since they include credentials). The common
request (a usual method, headers given as a list without Host or framing headers,
a bytes body or none, no forwarding proxy) is assembled from those remembered parts
without checking them again (:meth:`~._h1.RequestHead.assemble`); any other takes
the general road, with every check, to the same bytes.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterable, AsyncIterator
from typing import TYPE_CHECKING, Final, TypeAlias

from ._exceptions import InvalidRequestError
from ._h1 import TARGET, RequestHead
from ._headers import HeaderEncoder, HeaderInput, header_pairs
from ._url import Origin, split_url

if TYPE_CHECKING:
    from ._proxy import ProxySettings, ProxyURL

__all__ = ["Body", "PreparedRequest", "RequestPreparer"]

Body: TypeAlias = "bytes | AsyncIterable[bytes] | None"
"""A request body: in memory (bytes-like), streamed (an async iterable), or none."""

_METHODS_WITH_BODY: Final = frozenset({b"POST", b"PUT", b"PATCH"})
_URL_CACHE_SIZE: Final = 1024
_COMMON_METHODS: Final = {
    m: m.encode("ascii") for m in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
}


class PreparedRequest:
    """A request checked and encoded before any connection is touched.

    Attributes:
        origin: ``(scheme, host, port)`` of the target.
        head: the checked, serialized request head.
        method: the method as text.
        body: as given (a wide memoryview converted to bytes).
        proxy: the proxy to go through, or ``None``.
        replayable: the body can be sent again (in memory, or an iterable whose
            ``__aiter__`` starts afresh, not an iterator).
    """

    __slots__ = ("body", "head", "method", "origin", "proxy", "replayable")

    def __init__(
        self,
        origin: Origin,
        head: RequestHead,
        body: Body,
        proxy: ProxyURL | None,
        method: str | None = None,
    ) -> None:
        self.origin = origin
        self.head = head
        self.method = method if method is not None else head.method.decode("ascii")
        self.body = body
        self.proxy = proxy
        self.replayable = (
            body is None
            or isinstance(body, (bytes, bytearray, memoryview))
            or (not isinstance(body, AsyncIterator))
        )


class _URLParts:
    """A URL split once (``split_url``), and when its target and Host value pass the
    checks, the head's prefix ``b" <target> HTTP/1.1\\r\\nHost: <host>\\r\\n"`` for
    :meth:`~._h1.RequestHead.assemble` (else ``prefix`` is None)."""

    __slots__ = ("host", "host_header", "origin", "prefix", "target", "target_b")

    def __init__(self, origin: Origin, host_header: str, target: str) -> None:
        self.origin = origin
        self.host_header = host_header
        self.target = target
        self.target_b = b""
        self.host = (b"Host", b"")
        self.prefix: bytes | None = None


class RequestPreparer:
    """Prepares the requests of one pool (see the module docstring).

    Args:
        proxies: which proxy, if any, serves each origin.
    """

    __slots__ = ("_headers", "_proxies", "_urls")

    def __init__(self, proxies: ProxySettings) -> None:
        self._proxies = proxies
        self._urls: dict[str, _URLParts] = {}
        self._headers = HeaderEncoder()

    def clear(self) -> None:
        """Forget the URLs and header pairs seen."""
        self._urls.clear()
        self._headers.clear()

    def remembered(self) -> int:
        """How many URL splits and header pairs are remembered."""
        return len(self._urls) + len(self._headers)

    def _split(self, url: str) -> _URLParts:
        urls = self._urls
        parts = urls.get(url)
        if parts is None:
            parts = _URLParts(*split_url(url))
            target = parts.target
            if target.isascii() and TARGET.fullmatch(target.encode("ascii")) is not None:
                with contextlib.suppress(InvalidRequestError):  # (the general road says why)
                    (host,), (line,), _ = self._headers.encode_lines([("Host", parts.host_header)])
                    parts.target_b = target.encode("ascii")
                    parts.host = host
                    parts.prefix = b" %s HTTP/1.1\r\n%s" % (parts.target_b, line)
            if len(urls) >= _URL_CACHE_SIZE:
                urls.clear()
            urls[url] = parts
        return parts

    def prepare(self, method: str, url: str, headers: HeaderInput, body: Body) -> PreparedRequest:
        """Check and encode a request without sending it.

        Raises:
            InvalidRequestError: the URL, method, a header, or the body framing is
                unusable (the message names which and why).
        """
        if not isinstance(url, str):
            raise InvalidRequestError(f"url: must be a str, got {type(url).__name__}")
        parts = self._split(url)
        origin = parts.origin
        proxies = self._proxies
        proxy = proxies.for_origin(*origin) if not proxies.empty else None
        method_b = _COMMON_METHODS.get(method)
        prefix = parts.prefix
        if (
            prefix is not None
            and method_b is not None
            and type(headers) is list
            and (body is None or type(body) is bytes)
            and (proxy is None or origin[0] == "https")
        ):
            encoded, lines, kinds = self._headers.encode_lines(headers)
            if not kinds:  # neither Host nor framing given: the common request
                size = len(body) if body else 0
                length = size if size or method_b in _METHODS_WITH_BODY else None
                head = RequestHead.assemble(
                    method_b, parts.target_b, prefix, parts.host, encoded, lines, length
                )
                return PreparedRequest(origin, head, body, proxy, method)
        return self._prepare(
            method, url, headers, body, origin, parts.host_header, parts.target, proxy
        )

    def _prepare(
        self,
        method: str,
        url: str,
        headers: HeaderInput,
        body: Body,
        origin: Origin,
        host_header: str,
        target: str,
        proxy: ProxyURL | None,
    ) -> PreparedRequest:
        """The general road of :meth:`prepare`: every check, every kind of request."""
        if proxy is not None and origin[0] == "http":
            target = url  # absolute form through a forwarding proxy
        pairs = header_pairs(headers)
        if not isinstance(method, str) or not method.isascii() or not method.isalpha():
            raise InvalidRequestError(f"method {method!r} is not a valid HTTP method")
        method_b = method.upper().encode("ascii")
        names = {name.lower() for name, _ in pairs}
        if "host" not in names:
            pairs.insert(0, ("Host", host_header))
        view: object = body
        if isinstance(view, memoryview) and (view.itemsize != 1 or view.ndim != 1):
            body = view = view.tobytes()  # Content-Length counts bytes, len() of a view items
        size: int | None  # of an in-memory body; None for a streamed one
        if view is None:
            size = 0
        elif isinstance(view, (bytes, bytearray, memoryview)):
            size = len(view)
        else:
            size = None
        if size is not None:
            if (
                (size or method_b in _METHODS_WITH_BODY)
                and "content-length" not in names
                and "transfer-encoding" not in names
            ):
                pairs.append(("Content-Length", str(size)))
        elif "content-length" not in names and "transfer-encoding" not in names:
            pairs.append(("Transfer-Encoding", "chunked"))
        if proxy is not None and origin[0] == "http" and proxy.auth_header is not None:
            pairs.append(("Proxy-Authorization", proxy.auth_header.get_secret_value()))
        encoded = self._headers.encode(pairs)
        try:
            target_b = target.encode("ascii")
        except UnicodeEncodeError:
            raise InvalidRequestError(f"url: {url!r} must be ASCII (percent-encode it)") from None
        # RequestHead checks the rest (method, target, one Host, framing headers) and
        # serializes the head once.
        head = RequestHead(method_b, target_b, encoded)
        if size is not None and not head.chunked and size != (head.length or 0):
            raise InvalidRequestError(
                f"request body is {size} bytes but Content-Length says {head.length or 0}"
            )
        return PreparedRequest(origin, head, body, proxy)
