"""Throwaway TLS (trustme) with the test HTTP server: round trip, mutual TLS, failed
handshakes, faults over TLS.

Clients here are raw: ``trio.open_tcp_stream`` plus hand-written bytes, or an
``h11.Connection(h11.CLIENT)`` that frames and parses for us (``_raw_client``).
trio_openai's own pool is deliberately not used, since these servers are what the
pool is tested against.
"""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING

import pytest
import trio
from _raw_client import LIMIT, RawClient, connect, read_until_eof

from trio_openai.testing import (
    CloseWithoutResponse,
    Request,
    Reset,
    Response,
    client_context,
    open_http_server,
    server_context,
)

if TYPE_CHECKING:
    import trustme


async def test_tls_round_trip(tls: tuple[ssl.SSLContext, trustme.CA]) -> None:
    server_ctx, ca = tls
    with trio.fail_after(LIMIT):
        async with open_http_server(ssl_context=server_ctx) as server:
            assert server.base_url == f"https://127.0.0.1:{server.port}"
            stream = await trio.open_ssl_over_tcp_stream(
                "127.0.0.1",
                server.port,
                ssl_context=client_context(ca),
            )
            async with stream:
                client = RawClient(stream)
                assert (await client.request("GET", "/secure")).json()["path"] == "/secure"
                assert (await client.request("GET", "/again")).json()["connection_id"] == 1
            await server.wait_connections_closed()
            assert server.statistics().tls_failures == 0


async def test_mutual_tls_rejects_a_client_without_certificate(
    tls: tuple[ssl.SSLContext, trustme.CA],
) -> None:
    _, ca = tls
    server_ctx = server_context(ca, require_client_cert=True)
    with trio.fail_after(LIMIT):
        async with open_http_server(ssl_context=server_ctx) as server:
            stream = await trio.open_ssl_over_tcp_stream(
                "127.0.0.1",
                server.port,
                ssl_context=client_context(ca),
            )
            async with stream:
                # TLS 1.3: the client's handshake ends first; the refusal shows on use.
                try:
                    await RawClient(stream).send_request()
                    answer = await stream.receive_some(65536)
                except trio.BrokenResourceError:
                    answer = b""
                assert answer == b""
            await server.wait_connections_closed()
            assert server.statistics().tls_failures == 1
            assert server.requests == []

            good_ctx = client_context(ca, client_cert=True)
            stream = await trio.open_ssl_over_tcp_stream(
                "127.0.0.1", server.port, ssl_context=good_ctx
            )
            async with stream:
                assert (await RawClient(stream).request()).status == 200


async def test_a_failed_handshake_does_not_stop_the_server(
    tls: tuple[ssl.SSLContext, trustme.CA],
) -> None:
    server_ctx, ca = tls
    with trio.fail_after(LIMIT):
        async with open_http_server(ssl_context=server_ctx) as server:
            async with await connect(server.port) as plain:
                await plain.send_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")  # not TLS
                await read_until_eof(plain)
            await server.wait_statistics(lambda s: s.tls_failures == 1)
            stream = await trio.open_ssl_over_tcp_stream(
                "127.0.0.1",
                server.port,
                ssl_context=client_context(ca),
            )
            async with stream:
                assert (await RawClient(stream).request()).status == 200


@pytest.mark.parametrize("fault", [Reset, CloseWithoutResponse])
async def test_faults_over_tls(
    tls: tuple[ssl.SSLContext, trustme.CA], fault: type[Exception]
) -> None:
    server_ctx, ca = tls

    async def handler(request: Request) -> Response:
        raise fault

    with trio.fail_after(LIMIT):
        async with open_http_server(handler, ssl_context=server_ctx) as server:
            stream = await trio.open_ssl_over_tcp_stream(
                "127.0.0.1", server.port, ssl_context=client_context(ca)
            )
            async with stream:
                await RawClient(stream).send_request()
                if fault is Reset:
                    with pytest.raises(trio.BrokenResourceError):
                        await stream.receive_some(65536)
                else:  # a clean TLS close: close_notify, so a strict client sees EOF
                    assert await stream.receive_some(65536) == b""
