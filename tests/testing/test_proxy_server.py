"""The test CONNECT proxy: tunnels, TLS through them, credentials, loopback only,
resets passed through, absolute-form forwarding.

Clients here are raw: ``trio.open_tcp_stream`` plus hand-written bytes, or an
``h11.Connection(h11.CLIENT)`` that frames and parses for us (``_raw_client``).
trio_openai's own pool is deliberately not used, since these servers are what the
pool is tested against.
"""

from __future__ import annotations

import base64
import ssl
from typing import TYPE_CHECKING

import pytest
import trio
from _raw_client import LIMIT, RawClient, connect, read_until_eof

from trio_openai.testing import (
    Request,
    Reset,
    Response,
    client_context,
    open_connect_proxy,
    open_http_server,
)

if TYPE_CHECKING:
    import trustme


async def _connect_via(
    proxy_port: int, target: str, auth: str | None = None
) -> tuple[trio.SocketStream, bytes]:
    stream = await connect(proxy_port)
    extra = (
        b""
        if auth is None
        else b"Proxy-Authorization: Basic %s\r\n" % base64.b64encode(auth.encode())
    )
    await stream.send_all(
        b"CONNECT %s HTTP/1.1\r\nHost: %s\r\n%s\r\n" % (target.encode(), target.encode(), extra)
    )
    head = b""
    for _ in range(100):
        head += await stream.receive_some(65536)
        if b"\r\n\r\n" in head:
            break
    return stream, head


async def test_connect_tunnel_relays_both_ways() -> None:
    with trio.fail_after(LIMIT):
        async with open_http_server() as server, open_connect_proxy() as proxy:
            assert proxy.url == f"http://127.0.0.1:{proxy.port}"
            target = f"127.0.0.1:{server.port}"
            stream, head = await _connect_via(proxy.port, target)
            async with stream:
                assert head == b"HTTP/1.1 200 Connection established\r\n\r\n"
                client = RawClient(stream)
                assert (await client.request("GET", "/through")).json()["path"] == "/through"
                assert (await client.request("GET", "/twice")).json()["connection_id"] == 1
                stats = proxy.statistics()
                assert (stats.tunnels_opened, stats.tunnels_open) == (1, 1)
                assert stats.requests_seen == [target]
            await proxy.wait_tunnels_closed()
            await server.wait_connections_closed()


async def test_connect_tunnel_carries_tls(tls: tuple[ssl.SSLContext, trustme.CA]) -> None:
    server_ctx, ca = tls
    with trio.fail_after(LIMIT):
        async with (
            open_http_server(ssl_context=server_ctx) as server,
            open_connect_proxy() as proxy,
        ):
            raw, head = await _connect_via(proxy.port, f"127.0.0.1:{server.port}")
            assert head.startswith(b"HTTP/1.1 200 ")
            stream = trio.SSLStream(raw, client_context(ca), server_hostname="127.0.0.1")
            async with stream:
                assert (await RawClient(stream).request("GET", "/tls")).json()["path"] == "/tls"


async def test_connect_requires_credentials_when_auth_is_set() -> None:
    with trio.fail_after(LIMIT):
        async with (
            open_http_server() as server,
            open_connect_proxy(auth=("user", "s3cret")) as proxy,
        ):
            target = f"127.0.0.1:{server.port}"
            assert "s3cret" not in repr(proxy)
            for auth in (None, "user:wrong"):
                stream, head = await _connect_via(proxy.port, target, auth)
                async with stream:
                    assert head.startswith(b"HTTP/1.1 407 ")
                    assert (
                        b'\r\nproxy-authenticate: Basic realm="trio_openai test proxy"\r\n' in head
                    )
            stream, head = await _connect_via(proxy.port, target, "user:s3cret")
            async with stream:
                assert head == b"HTTP/1.1 200 Connection established\r\n\r\n"
                assert (await RawClient(stream).request()).status == 200
            stats = proxy.statistics()
            assert (stats.auth_failures, stats.tunnels_opened) == (2, 1)
            assert stats.requests_seen == [target] * 3


async def test_proxy_refuses_targets_that_are_not_loopback() -> None:
    with trio.fail_after(LIMIT):
        async with open_connect_proxy() as proxy:
            stream, head = await _connect_via(proxy.port, "example.com:443")
            async with stream:
                assert head.startswith(b"HTTP/1.1 403 ")
            assert proxy.statistics().refused == 1


async def test_proxy_passes_an_origin_reset_through_the_tunnel() -> None:
    async def handler(request: Request) -> Response:
        raise Reset

    with trio.fail_after(LIMIT):
        async with open_http_server(handler) as server, open_connect_proxy() as proxy:
            stream, _ = await _connect_via(proxy.port, f"127.0.0.1:{server.port}")
            async with stream:
                await RawClient(stream).send_request()
                with pytest.raises(trio.BrokenResourceError):
                    await read_until_eof(stream)
            await proxy.wait_tunnels_closed()


async def test_proxy_forwards_absolute_form_requests() -> None:
    with trio.fail_after(LIMIT):
        async with open_http_server() as server, open_connect_proxy() as proxy:
            url = f"http://127.0.0.1:{server.port}/v1/models?limit=1"
            async with await connect(proxy.port) as stream:
                client = RawClient(stream, host=f"127.0.0.1:{server.port}")
                reply = await client.request(
                    "POST", url, [("proxy-connection", "keep-alive")], b"hi"
                )
                payload = reply.json()
                assert (payload["path"], payload["query"], payload["body_length"]) == (
                    "/v1/models",
                    "limit=1",
                    2,
                )
                assert "proxy-connection" not in payload["headers"]  # type: ignore[operator]
                # the client connection to the proxy stays usable
                assert (await client.request("GET", url)).status == 200
            assert proxy.statistics().forwarded == [url, url]
            assert server.requests[0].target == "/v1/models?limit=1"


async def test_connect_can_retry_with_credentials_on_the_same_connection() -> None:
    with trio.fail_after(LIMIT):
        async with open_http_server() as server, open_connect_proxy(auth=("u", "p")) as proxy:
            target = f"127.0.0.1:{server.port}"
            async with await connect(proxy.port) as stream:
                client = RawClient(stream, host=target)
                refused = await client.request("CONNECT", target)
                assert refused.status == 407
                assert (
                    refused.header("proxy-authenticate") == 'Basic realm="trio_openai test proxy"'
                )
                token = base64.b64encode(b"u:p").decode()
                await client.send_request(
                    "CONNECT", target, [("proxy-authorization", f"Basic {token}")]
                )
                assert (await client.read_head()).status == 200
                tunnel = RawClient(stream)
                assert (await tunnel.request("GET", "/in")).json()["path"] == "/in"
            assert proxy.statistics().auth_failures == 1
