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
them (the pool calls it when it closes, since they include credentials).
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from typing import TYPE_CHECKING, Final, TypeAlias

from ._exceptions import InvalidRequestError
from ._h1 import RequestHead
from ._headers import HeaderEncoder, HeaderInput, header_pairs
from ._url import Origin, SplitURL, split_url

if TYPE_CHECKING:
    from ._proxy import ProxySettings, ProxyURL

__all__ = ["Body", "PreparedRequest", "RequestPreparer"]

Body: TypeAlias = "bytes | AsyncIterable[bytes] | None"
"""A request body: in memory (bytes-like), streamed (an async iterable), or none."""

_METHODS_WITH_BODY: Final = frozenset({b"POST", b"PUT", b"PATCH"})
_URL_CACHE_SIZE: Final = 1024


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
    ) -> None:
        self.origin = origin
        self.head = head
        self.method = head.method.decode("ascii")
        self.body = body
        self.proxy = proxy
        self.replayable = (
            body is None
            or isinstance(body, (bytes, bytearray, memoryview))
            or (not isinstance(body, AsyncIterator))
        )


class RequestPreparer:
    """Prepares the requests of one pool (see the module docstring).

    Args:
        proxies: which proxy, if any, serves each origin.
    """

    __slots__ = ("_headers", "_proxies", "_urls")

    def __init__(self, proxies: ProxySettings) -> None:
        self._proxies = proxies
        self._urls: dict[str, SplitURL] = {}
        self._headers = HeaderEncoder()

    def clear(self) -> None:
        """Forget the URLs and header pairs seen."""
        self._urls.clear()
        self._headers.clear()

    def remembered(self) -> int:
        """How many URL splits and header pairs are remembered."""
        return len(self._urls) + len(self._headers)

    def _split(self, url: str) -> SplitURL:
        urls = self._urls
        split = urls.get(url)
        if split is None:
            split = split_url(url)
            if len(urls) >= _URL_CACHE_SIZE:
                urls.clear()
            urls[url] = split
        return split

    def prepare(self, method: str, url: str, headers: HeaderInput, body: Body) -> PreparedRequest:
        """Check and encode a request without sending it.

        Raises:
            InvalidRequestError: the URL, method, a header, or the body framing is
                unusable (the message names which and why).
        """
        if not isinstance(url, str):
            raise InvalidRequestError(f"url: must be a str, got {type(url).__name__}")
        origin, host_header, target = self._split(url)
        proxies = self._proxies
        proxy = proxies.for_origin(*origin) if not proxies.empty else None
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
