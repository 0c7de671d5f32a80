"""A tiny HTTP proxy for tests: CONNECT tunnels and plain-HTTP forwarding.

Theory of operation: :func:`open_connect_proxy` listens on 127.0.0.1 and owns a
nursery with one task per client connection. The task reads requests with an
``h11.Connection``:

- ``CONNECT host:port`` (after the ``Proxy-Authorization: Basic`` check when ``auth``
  is set): connect to the target, answer ``200 Connection established``, then relay
  bytes both ways (two tasks in a nursery) until both directions have ended. An end
  of stream is passed on as a half-close; a reset on either side resets the other,
  so a client behind the proxy sees what the origin did.
- an absolute-form request (``GET http://127.0.0.1:PORT/path``), as sent for
  ``HTTP_PROXY``: forwarded to the origin on a new connection (``Connection: close``),
  the response relayed back as it arrives; the client connection stays usable.

Rules kept:
- Only loopback targets (127.0.0.0/8, ``::1``, ``localhost``); anything else gets 403.
  This is a test fixture, never an open proxy.
- Missing or wrong credentials get 407 with ``Proxy-Authenticate``; the connection
  stays open for a retry with credentials. Credentials never appear in a repr.
- No task outlives the ``async with``; the proxy's tasks never raise (unexpected
  errors go to :attr:`ConnectProxy.errors`).

Options rejected: TLS to the proxy itself, SOCKS, connection reuse towards origins
(each forwarded request opens its own; tests want simple accounting).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import h11
import trio

from ._http_wire import REASONS
from ._serving import open_listener, run_in_nursery, set_linger_zero

__all__ = ["ConnectProxy", "ProxyStatistics", "open_connect_proxy"]

_RECEIVE_SIZE = 65536
_WAIT_LIMIT = 5.0
_REALM = b'Basic realm="trio_openai test proxy"'
# Hop-by-hop headers (RFC 9110 section 7.6.1) are not forwarded; framing is redone.
_HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)


@dataclass(frozen=True)
class ProxyStatistics:
    """A snapshot of :class:`ConnectProxy` counters.

    Attributes:
        connections_opened: client connections accepted.
        tunnels_opened: CONNECT tunnels established.
        tunnels_open: tunnels still relaying.
        requests_seen: every CONNECT target received, in order and as sent (e.g.
            ``"127.0.0.1:8443"``), refused ones included.
        forwarded: every absolute-form URL received for forwarding, in order.
        auth_failures: requests answered 407.
        refused: requests answered 403 (a target that is not loopback).
    """

    connections_opened: int
    tunnels_opened: int
    tunnels_open: int
    requests_seen: list[str]
    forwarded: list[str]
    auth_failures: int
    refused: int


class _Done(Exception):
    """Internal: this client connection is finished."""


class ConnectProxy:
    """A running proxy; get one from :func:`open_connect_proxy`.

    Attributes:
        host, port: where it listens.
        url: ``"http://HOST:PORT"`` (no credentials in it).
        errors: unexpected exceptions from connection tasks (none is swallowed silently).
    """

    def __init__(self, *, host: str, port: int, auth: tuple[str, str] | None) -> None:
        self.host = host
        self.port = port
        self.url = f"http://{host}:{port}"
        self.errors: list[Exception] = []
        self._credentials = None if auth is None else f"{auth[0]}:{auth[1]}".encode()
        self._connections_opened = 0
        self._tunnels_opened = 0
        self._tunnels_open = 0
        self._seen: list[str] = []
        self._forwarded: list[str] = []
        self._auth_failures = 0
        self._refused = 0
        self._changed: trio.Event | None = None

    def __repr__(self) -> str:
        auth = ", with auth" if self._credentials is not None else ""
        return f"<ConnectProxy {self.url}{auth} tunnels_open={self._tunnels_open}>"

    def statistics(self) -> ProxyStatistics:
        """Return a snapshot of the counters (see :class:`ProxyStatistics`)."""
        return ProxyStatistics(
            connections_opened=self._connections_opened,
            tunnels_opened=self._tunnels_opened,
            tunnels_open=self._tunnels_open,
            requests_seen=list(self._seen),
            forwarded=list(self._forwarded),
            auth_failures=self._auth_failures,
            refused=self._refused,
        )

    @property
    def stats(self) -> ProxyStatistics:
        """Same as :meth:`statistics`."""
        return self.statistics()

    async def wait_statistics(self, predicate: Callable[[ProxyStatistics], bool]) -> None:
        """Wait until *predicate* holds for :meth:`statistics`; for tests.

        Always checkpoints.

        Raises:
            trio.TooSlowError: it did not hold within 5 seconds.
        """
        await trio.lowlevel.checkpoint()
        with trio.fail_after(_WAIT_LIMIT):
            while not predicate(self.statistics()):
                if self._changed is None:
                    self._changed = trio.Event()
                await self._changed.wait()

    async def wait_tunnels_closed(self, expected_open: int = 0) -> None:
        """Wait until at most *expected_open* tunnels are open (5 s at most); for tests.

        Raises:
            trio.TooSlowError: more were still open after 5 seconds.
        """
        await self.wait_statistics(lambda s: s.tunnels_open <= expected_open)

    def _notify(self) -> None:
        if self._changed is not None:
            self._changed.set()
            self._changed = None

    # -- serving ------------------------------------------------------------------------

    async def _accept_loop(self, listener: trio.SocketListener, nursery: trio.Nursery) -> None:
        while True:
            try:
                stream = await listener.accept()
            except OSError as exc:  # out of descriptors: wait, as trio.serve_listeners does
                self.errors.append(exc)
                await trio.sleep(0.1)
                continue
            self._connections_opened += 1
            self._notify()
            nursery.start_soon(self._serve_client, stream)

    async def _serve_client(self, stream: trio.SocketStream) -> None:
        h = h11.Connection(h11.SERVER)
        try:
            while True:
                head, body = await self._read_request(stream, h)
                if head.method == b"CONNECT":
                    await self._connect(stream, h, head)
                else:
                    await self._forward(stream, h, head, body)
                if h.our_state is not h11.DONE or h.their_state is not h11.DONE:
                    return
                h.start_next_cycle()
        except (_Done, trio.BrokenResourceError, trio.ClosedResourceError):
            pass  # finished, or the client went away
        except Exception as exc:
            self.errors.append(exc)
        finally:
            await trio.aclose_forcefully(stream)

    async def _read_request(
        self, stream: trio.SocketStream, h: h11.Connection
    ) -> tuple[h11.Request, bytes]:
        head: h11.Request | None = None
        parts: list[bytes] = []
        while True:
            try:
                event = h.next_event()
            except h11.RemoteProtocolError as exc:
                if h.our_state is h11.IDLE or h.our_state is h11.SEND_RESPONSE:
                    await _answer(stream, h, exc.error_status_hint, str(exc).encode())
                raise _Done from None
            if event is h11.NEED_DATA:
                h.receive_data(await stream.receive_some(_RECEIVE_SIZE))
            elif type(event) is h11.Request:
                head = event
            elif type(event) is h11.Data:
                parts.append(event.data)
            elif type(event) is h11.EndOfMessage:
                assert head is not None
                return head, b"".join(parts)
            else:  # ConnectionClosed
                raise _Done

    def _authorized(self, head: h11.Request) -> bool:
        if self._credentials is None:
            return True
        for name, value in head.headers:
            if name == b"proxy-authorization":
                scheme, _, token = value.partition(b" ")
                if scheme.lower() != b"basic":
                    break
                try:
                    given = base64.b64decode(token.strip(), validate=True)
                except (binascii.Error, ValueError):
                    break
                if hmac.compare_digest(given, self._credentials):
                    return True
                break
        self._auth_failures += 1
        return False

    async def _check(self, stream: trio.SocketStream, h: h11.Connection, host: str | None) -> bool:
        """Answer 400/403 for a bad or non-loopback target; return whether it is usable."""
        if host is None:
            await _answer(stream, h, 400, b"bad proxy target")
            return False
        if not _is_loopback(host):
            self._refused += 1
            await _answer(stream, h, 403, b"this test proxy only reaches loopback addresses")
            return False
        return True

    async def _connect(
        self, stream: trio.SocketStream, h: h11.Connection, head: h11.Request
    ) -> None:
        target = head.target.decode("latin-1")
        self._seen.append(target)
        self._notify()
        if not self._authorized(head):
            await _answer(
                stream, h, 407, b"proxy authentication required", [(b"proxy-authenticate", _REALM)]
            )
            return
        address = _split_authority(target, default_port=None)
        if not await self._check(stream, h, address[0] if address else None):
            return
        assert address is not None
        try:
            origin = await trio.open_tcp_stream(*address)
        except OSError as exc:
            await _answer(stream, h, 502, f"cannot reach {target}: {exc}".encode())
            return
        try:
            response = h11.Response(status_code=200, headers=[], reason=b"Connection established")
            await stream.send_all(_send(h, response))
            initial = h.trailing_data[0]  # bytes the client sent after the CONNECT head
            self._tunnels_opened += 1
            self._tunnels_open += 1
            self._notify()
            try:
                await _relay(stream, origin, initial)
            finally:
                self._tunnels_open -= 1
                self._notify()
        finally:
            await trio.aclose_forcefully(origin)

    async def _forward(
        self, stream: trio.SocketStream, h: h11.Connection, head: h11.Request, body: bytes
    ) -> None:
        url = head.target.decode("latin-1")
        self._forwarded.append(url)
        self._notify()
        if not self._authorized(head):
            await _answer(
                stream, h, 407, b"proxy authentication required", [(b"proxy-authenticate", _REALM)]
            )
            return
        address: tuple[str, int] | None = None
        path = "/"
        if url[:7].lower() == "http://":
            rest = url[7:]
            cut = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
            address = _split_authority(rest[:cut], default_port=80)
            path = rest[cut:] or "/"
            if path.startswith("?"):
                path = "/" + path
        if not await self._check(stream, h, address[0] if address else None):
            return
        assert address is not None
        try:
            origin = await trio.open_tcp_stream(*address)
        except OSError as exc:
            await _answer(stream, h, 502, f"cannot reach {url}: {exc}".encode())
            return
        try:
            await self._exchange(stream, h, origin, head, path, body, address)
        finally:
            await trio.aclose_forcefully(origin)

    async def _exchange(
        self,
        stream: trio.SocketStream,
        h: h11.Connection,
        origin: trio.SocketStream,
        head: h11.Request,
        path: str,
        body: bytes,
        address: tuple[str, int],
    ) -> None:
        """Send the request to *origin*, relay its response to *stream* as it comes."""
        host, port = address
        had_body = any(
            name in (b"content-length", b"transfer-encoding") for name, _ in head.headers
        )
        headers = [(name, value) for name, value in head.headers if name not in _HOP_BY_HOP]
        headers = [(n, v) for n, v in headers if n != b"content-length"]
        if not any(name == b"host" for name, _ in headers):  # an HTTP/1.0 client
            headers.insert(0, (b"host", b"%s:%d" % (host.encode("idna"), port)))
        if had_body:
            headers.append((b"content-length", b"%d" % len(body)))
        headers.append((b"connection", b"close"))
        oc = h11.Connection(h11.CLIENT)
        request = h11.Request(method=head.method, target=path.encode("latin-1"), headers=headers)
        data = _send(oc, request)
        if body:
            data += _send(oc, h11.Data(data=body))
        data += _send(oc, h11.EndOfMessage())
        started = False
        try:
            await origin.send_all(data)
            while True:
                event = oc.next_event()
                if event is h11.NEED_DATA:
                    oc.receive_data(await origin.receive_some(_RECEIVE_SIZE))
                elif type(event) is h11.InformationalResponse:
                    if event.status_code != 101:
                        informational = h11.InformationalResponse(
                            status_code=event.status_code,
                            headers=list(event.headers),
                            reason=event.reason,
                        )
                        await stream.send_all(_send(h, informational))
                elif type(event) is h11.Response:
                    kept = [(n, v) for n, v in event.headers if n not in _HOP_BY_HOP]
                    response = h11.Response(
                        status_code=event.status_code, headers=kept, reason=event.reason
                    )
                    started = True
                    await stream.send_all(_send(h, response))
                elif type(event) is h11.Data:
                    await stream.send_all(_send(h, h11.Data(data=event.data)))
                elif type(event) is h11.EndOfMessage:
                    await stream.send_all(_send(h, h11.EndOfMessage()))
                    return
                else:  # ConnectionClosed before the response
                    raise h11.RemoteProtocolError("origin closed before responding")
        except (h11.RemoteProtocolError, trio.BrokenResourceError) as exc:
            if started:
                # Mid-response: the client must see the failure, not a short body.
                set_linger_zero(stream)
                raise _Done from None
            await _answer(stream, h, 502, f"origin failed: {exc}".encode())


# --------------------------------------------------------------------------------------
# Helpers


def _send(h: h11.Connection, event: h11.Event) -> bytes:
    data = h.send(event)
    assert data is not None  # only ConnectionClosed gives None
    return data


async def _answer(
    stream: trio.SocketStream,
    h: h11.Connection,
    status: int,
    body: bytes,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """Send a small complete response through *h*."""
    all_headers = [
        *(headers or ()),
        (b"content-type", b"text/plain"),
        (b"content-length", b"%d" % len(body)),
    ]
    head = h11.Response(status_code=status, headers=all_headers, reason=REASONS.get(status, b""))
    data = _send(h, head)
    data += _send(h, h11.Data(data=body)) + _send(h, h11.EndOfMessage())
    await stream.send_all(data)


async def _relay(client: trio.SocketStream, origin: trio.SocketStream, initial: bytes) -> None:
    if initial:
        await origin.send_all(initial)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_pump, client, origin, client, origin, nursery.cancel_scope)
        nursery.start_soon(_pump, origin, client, client, origin, nursery.cancel_scope)


async def _pump(
    source: trio.SocketStream,
    sink: trio.SocketStream,
    client: trio.SocketStream,
    origin: trio.SocketStream,
    scope: trio.CancelScope,
) -> None:
    """Copy *source* to *sink* until EOF, then half-close *sink*.

    A reset (or any broken stream) on either side ends the whole tunnel and resets
    both sockets, so that each peer sees an abort rather than a clean end.
    """
    try:
        while True:
            data = await source.receive_some(_RECEIVE_SIZE)
            if not data:
                break
            await sink.send_all(data)
        await sink.send_eof()
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        set_linger_zero(client)
        set_linger_zero(origin)
        scope.cancel()


def _split_authority(text: str, *, default_port: int | None) -> tuple[str, int] | None:
    """Split ``host:port`` or ``[v6]:port``; None if malformed or a port is missing."""
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            return None
        port_text = rest[1:] if rest else ""
    else:
        host, colon, port_text = text.rpartition(":")
        if not colon:
            host, port_text = text, ""
    if not host:
        return None
    if not port_text:
        return None if default_port is None else (host, default_port)
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        return None
    return host, int(port_text)


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@asynccontextmanager
async def open_connect_proxy(
    *, auth: tuple[str, str] | None = None, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[ConnectProxy]:
    """Run an HTTP proxy (CONNECT and absolute-form forwarding) for an ``async with``.

    Entering binds and listens; leaving cancels every tunnel and connection task and
    closes the listener. Both checkpoint. An exception raised in the body comes out
    as itself (the proxy's tasks never raise).

    Args:
        auth: ``(user, password)`` required as ``Proxy-Authorization: Basic``; None
            accepts every client.
        host: the address to bind (an IP address).
        port: 0 picks a free port.

    Yields:
        The running :class:`ConnectProxy`; give clients ``proxy.url`` (with
        ``user:password@`` inserted when ``auth`` is set).

    Raises:
        OSError: the address could not be bound.
    """
    async with open_listener(host, port) as listener:
        proxy = ConnectProxy(host=host, port=listener.socket.getsockname()[1], auth=auth)
        async with run_in_nursery(proxy._accept_loop, listener):
            yield proxy
