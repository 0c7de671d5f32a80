"""HTTP proxies: choosing one for an origin, and opening CONNECT tunnels.

Rules kept:
- An explicit ``proxy=`` applies to every origin. Otherwise, when the pool trusts the
  environment, ``HTTPS_PROXY``/``HTTP_PROXY``/``ALL_PROXY`` (either case) apply and
  ``NO_PROXY`` excludes hosts: ``*``; a name matching itself and its subdomains (a
  leading dot optional); ``name:port``; an IP address or a CIDR block.
- ``https`` targets always go through a CONNECT tunnel, so TLS is end to end and the
  proxy sees only the host and port. ``http`` targets are sent to the proxy in
  absolute form.
- Credentials come from the proxy URL's userinfo and go out only as
  ``Proxy-Authorization: Basic``. They are kept as a :class:`~trio_openai._config.Secret`
  (the header value, which is the credentials in base64), so no repr shows them:
  not :class:`ProxyURL`'s own, and not one built from its fields (rich's pretty
  printer and ``show_locals`` tracebacks use msgspec's ``__rich_repr__``, which
  lists every field and ignores ``__repr__``).

Options rejected: proxies spoken to over TLS (``https://`` proxy URLs) and SOCKS;
both are refused with a clear error rather than silently connecting direct.
"""

from __future__ import annotations

import base64
import ipaddress
import os
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

import msgspec
import trio

from .._config import Secret
from ._exceptions import InvalidRequestError, ProxyError

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["ProxySettings", "ProxyURL", "open_tunnel", "parse_proxy_url"]


class ProxyURL(msgspec.Struct, frozen=True):
    """An http proxy: where it is, and the ``Proxy-Authorization`` value, if any.

    Attributes:
        host, port: the proxy's address.
        auth_header: ``Basic <base64 user:password>`` as a :class:`Secret` (its repr
            is redacted), or ``None`` without credentials.
    """

    host: str
    port: int
    auth_header: Secret | None = None

    def __repr__(self) -> str:
        creds = ", with credentials" if self.auth_header else ""
        return f"ProxyURL(http://{self.host}:{self.port}{creds})"


def parse_proxy_url(url: str) -> ProxyURL:
    """Parse ``http://[user:pass@]host[:port]``; a bare ``host:port`` means http.

    Raises:
        InvalidRequestError: not a usable http proxy URL (the message names the rule,
            never the credentials).
    """
    text = url.strip()
    if "://" not in text:
        text = "http://" + text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise InvalidRequestError(f"proxy: invalid URL ({exc})") from None
    if parts.scheme != "http":
        raise InvalidRequestError(
            f"proxy: scheme {parts.scheme!r} is not supported; use an http:// proxy "
            "(https targets are tunnelled with CONNECT)"
        )
    if not parts.hostname:
        raise InvalidRequestError("proxy: URL has no host")
    auth = None
    if parts.username is not None:
        raw = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        auth = Secret("Basic " + base64.b64encode(raw).decode("ascii"))
    return ProxyURL(parts.hostname, port or 80, auth)


def _env(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name.lower()) or environ.get(name.upper())
    return value.strip() if value and value.strip() else None


class ProxySettings:
    """Which proxy, if any, serves each origin."""

    def __init__(
        self,
        *,
        http: ProxyURL | None = None,
        https: ProxyURL | None = None,
        no_proxy: str | None = None,
    ) -> None:
        self._by_scheme = {"http": http, "https": https}
        self._no_proxy = [e.strip().lower() for e in (no_proxy or "").split(",") if e.strip()]

    @classmethod
    def explicit(cls, proxy: str) -> ProxySettings:
        url = parse_proxy_url(proxy)
        return cls(http=url, https=url)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ProxySettings:
        env = os.environ if environ is None else environ
        every = _env(env, "ALL_PROXY")
        https = _env(env, "HTTPS_PROXY") or every
        http = _env(env, "HTTP_PROXY") or every
        return cls(
            http=parse_proxy_url(http) if http else None,
            https=parse_proxy_url(https) if https else None,
            no_proxy=_env(env, "NO_PROXY"),
        )

    @property
    def empty(self) -> bool:
        return self._by_scheme["http"] is None and self._by_scheme["https"] is None

    def for_origin(self, scheme: str, host: str, port: int) -> ProxyURL | None:
        proxy = self._by_scheme.get(scheme)
        if proxy is None or self._excluded(host.lower(), port):
            return None
        return proxy

    def _excluded(self, host: str, port: int) -> bool:
        host = host.strip("[]")
        for entry in self._no_proxy:
            if entry == "*":
                return True
            name, port_text = entry, None
            if entry.count(":") == 1:  # name:port (bare IPv6 has several colons)
                name, port_text = entry.split(":")
            if port_text is not None and port_text != str(port):
                continue
            name = name.strip("[]")
            if _ip_match(host, name):
                return True
            bare = name.lstrip(".")
            if bare and (host == bare or host.endswith("." + bare)):
                return True
        return False


def _ip_match(host: str, entry: str) -> bool:
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        return False
    try:
        return addr in ipaddress.ip_network(entry, strict=False)
    except ValueError:
        return False


async def open_tunnel(
    stream: trio.SocketStream, host: str, port: int, proxy: ProxyURL, *, max_head: int
) -> trio.SocketStream:
    """Ask the proxy on ``stream`` for a CONNECT tunnel to ``host:port``.

    Returns the same stream, now a byte pipe to the target. The caller owns the
    stream and closes it on failure; the caller's cancel scope bounds the wait.

    Raises:
        ProxyError: the proxy answered other than 2xx, broke the exchange, or closed.
    """
    import h11  # (only tunnels and unusual responses need h11: imported on use)

    authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    headers = [("Host", authority)]
    if proxy.auth_header is not None:
        headers.append(("Proxy-Authorization", proxy.auth_header.get_secret_value()))
    conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=max_head)
    try:
        await stream.send_all(
            conn.send(h11.Request(method="CONNECT", target=authority, headers=headers)) or b""
        )
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(await stream.receive_some(65536))
                continue
            if isinstance(event, h11.InformationalResponse):
                continue
            if isinstance(event, h11.Response):
                break
            raise ProxyError(f"proxy closed the connection during CONNECT to {authority}")
    except (h11.ProtocolError, trio.BrokenResourceError, OSError) as exc:
        raise ProxyError(f"proxy CONNECT to {authority} failed: {exc!r}") from exc
    if not 200 <= event.status_code < 300:
        reason = event.reason.decode("latin-1")
        hint = " (check the proxy credentials)" if event.status_code == 407 else ""
        raise ProxyError(
            f"proxy refused CONNECT to {authority}: {event.status_code} {reason}{hint}"
        )
    leftover, _closed = conn.trailing_data
    if leftover:
        raise ProxyError("proxy sent data before the tunnel was used")
    return stream
