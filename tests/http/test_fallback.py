"""Tests of _fallback: an exchange read by h11, fed scripted bytes (no sockets).

Over loopback, tests/http/test_connection.py checks that the connection takes this
road for the same kinds of heads and reuses the connection only when it may.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from trio_openai._http import ReadError, RemoteProtocolError
from trio_openai._http._fallback import H11Fallback, Receive
from trio_openai._http._h1 import RequestHead

REQUEST = RequestHead(b"POST", b"/x", [(b"Host", b"h"), (b"Content-Length", b"2")])


def script(*reads: bytes) -> Receive:
    """A receive function returning ``reads`` in turn, then EOF forever."""
    pending = list(reads)

    async def receive() -> bytes:
        return pending.pop(0) if pending else b""

    return receive


async def read_all(fallback: H11Fallback, receive: Receive) -> bytes:
    out = b""
    while piece := await fallback.receive_body(receive):
        out += piece
    return out


@pytest.mark.parametrize(
    ("received", "more", "status", "body", "reusable"),
    [
        # interim responses are skipped
        (
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n",
            [b"Content-Length: 2\r\n\r\nok"],
            200,
            b"ok",
            True,
        ),
        # HTTP/1.0, the body read until the server closes: not reusable
        (b"HTTP/1.0 200 OK\r\nX-A: 1\r\n\r\nab", [b"cd"], 200, b"abcd", False),
        # a folded header line, bare LF line ends
        (b"HTTP/1.1 201 Made\nX-A: 1\n 2\nContent-Length: 1\n\nz", [], 201, b"z", True),
        # an HTTP/1.1 response without framing is read until close
        (b"HTTP/1.1 200 OK\r\n\r\n", [b"all", b" of it"], 200, b"all of it", False),
    ],
)
async def test_h11_reads_the_unusual(
    received: bytes, more: list[bytes], status: int, body: bytes, reusable: bool
) -> None:
    fallback = H11Fallback(REQUEST, b"{}", received, max_head=8192)
    receive = script(*more)
    head = await fallback.receive_head(receive)
    assert head.status == status
    assert await read_all(fallback, receive) == body
    assert fallback.reusable is reusable


async def test_a_streamed_request_body_makes_the_connection_unreusable() -> None:
    async def streamed() -> AsyncIterator[bytes]:
        yield b"{}"

    fallback = H11Fallback(REQUEST, streamed(), b"HTTP/1.1 100 Continue\r\n\r\n", max_head=8192)
    receive = script(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    assert (await fallback.receive_head(receive)).status == 200
    assert await read_all(fallback, receive) == b""
    assert not fallback.reusable


async def test_what_h11_refuses_is_a_protocol_error() -> None:
    fallback = H11Fallback(REQUEST, b"{}", b"SMTP ready\r\n\r\n", max_head=8192)
    with pytest.raises(RemoteProtocolError) as info:
        await fallback.receive_head(script())
    assert info.value.response_started


async def test_eof_inside_the_head_or_body_is_a_read_error() -> None:
    fallback = H11Fallback(
        REQUEST, b"{}", b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 2", max_head=8192
    )
    with pytest.raises(ReadError, match="middle of the head"):
        await fallback.receive_head(script())
    fallback = H11Fallback(
        REQUEST, b"{}", b"HTTP/1.0 200 OK\r\nContent-Length: 9\r\n\r\nab", max_head=8192
    )
    receive = script()
    await fallback.receive_head(receive)
    with pytest.raises(ReadError, match="middle of the body"):
        await read_all(fallback, receive)


async def test_a_close_after_an_interim_response_is_a_read_error() -> None:
    fallback = H11Fallback(REQUEST, b"{}", b"HTTP/1.1 100 Continue\r\n\r\n", max_head=8192)
    with pytest.raises(ReadError, match="middle of the head") as info:
        await fallback.receive_head(script())
    assert info.value.response_started  # (so the pool does not send it again)


@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
        b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
        b"HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
        b"HTTP/1.1 200 OK\nContent-Length: 3\nX-A: 1\n 2\nTransfer-Encoding: chunked\n\n",
    ],
)
async def test_both_content_length_and_transfer_encoding_is_a_protocol_error(head: bytes) -> None:
    # RFC 9112 section 6.3: a client may treat such a response as an error; we do (a
    # message framed two ways is how responses are smuggled).
    fallback = H11Fallback(REQUEST, b"{}", head + b"3\r\nabc\r\n0\r\n\r\n", max_head=8192)
    with pytest.raises(RemoteProtocolError, match="Content-Length and Transfer-Encoding") as info:
        await fallback.receive_head(script())
    assert info.value.response_started
