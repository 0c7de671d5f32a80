"""Tests of _h1.ChunkedBody: any split of a chunked body decodes to
the same data as h11 decodes it, the end is found, and bad framing is refused."""

from __future__ import annotations

import itertools

import h11
import pytest
from hypothesis import given
from hypothesis import strategies as st

from trio_openai._http._exceptions import RemoteProtocolError
from trio_openai._http._h1 import ChunkedBody


def frame(pieces: list[bytes], ext: bool, trailers: bool) -> bytes:
    out = b"".join(b"%x%s\r\n%s\r\n" % (len(p), b";x=y" if ext else b"", p) for p in pieces if p)
    return out + b"0\r\n" + (b"x-t: 1\r\n" if trailers else b"") + b"\r\n"


def h11_decode(body: bytes) -> bytes:
    conn = h11.Connection(h11.CLIENT)
    conn.send(h11.Request(method="GET", target="/", headers=[("Host", "x")]))
    conn.send(h11.EndOfMessage())
    conn.receive_data(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n" + body)
    out = b""
    while True:
        event = conn.next_event()
        if type(event) is h11.Data:
            out += event.data
        elif type(event) is h11.EndOfMessage:
            return out
        elif event is not h11.NEED_DATA and type(event) is not h11.Response:
            raise AssertionError(event)


@given(
    pieces=st.lists(st.binary(max_size=40), max_size=8),
    cuts=st.lists(st.integers(0, 400), max_size=10),
    ext=st.booleans(),
    trailers=st.booleans(),
)
def test_any_split_decodes_like_h11(
    pieces: list[bytes], cuts: list[int], ext: bool, trailers: bool
) -> None:
    body = frame(pieces, ext, trailers)
    points = sorted({c for c in cuts if 0 < c < len(body)})
    edges = [0, *points, len(body)]
    decoder = ChunkedBody()
    out = b""
    for a, b in itertools.pairwise(edges):
        assert not decoder.done
        out += decoder.feed(body[a:b])
    assert decoder.done
    assert not decoder.extra
    assert out == h11_decode(body) == b"".join(pieces)


def test_bytes_after_the_end_are_flagged() -> None:
    decoder = ChunkedBody()
    assert decoder.feed(b"3\r\nabc\r\n0\r\n\r\nHTTP/1.1") == b"abc"
    assert decoder.done
    assert decoder.extra


@pytest.mark.parametrize(
    "bad", [b"zz\r\n", b"-1\r\n", b"0x3\r\nabc\r\n", b"3\r\nabcXY", b"3\r\nabc\n\n", b"1" * 5000]
)
def test_bad_framing_is_refused(bad: bytes) -> None:
    with pytest.raises(RemoteProtocolError):
        ChunkedBody().feed(bad)


@pytest.mark.parametrize("bad", [b" 3\r\nabc\r\n", b"1_0\r\n", b"+3\r\nabc\r\n"])
def test_sizes_int_would_accept_are_refused(bad: bytes) -> None:
    with pytest.raises(RemoteProtocolError):
        ChunkedBody().feed(bad)


def h11_outcome(body: bytes) -> bytes | None:
    """The data h11 decodes from a whole chunked body, or None if it refuses it."""
    try:
        return h11_decode(body)
    except h11.RemoteProtocolError:
        return None


SIZE_LINES = st.sampled_from(
    [
        *(b"3", b"03", b"3;a=b", b"3 ", b"3\t", b"3 ;x", b"3;", b'3; x="y z"', b"3;\r"),
        *(b"3;\x00", b" 3", b"3 3", b"3\x0b", b"0x3", b"3;\n"),
    ]
)
TRAILERS = st.lists(
    st.sampled_from(
        [
            *(b"x-t: 1", b"X-T:1 ", b"x-t:", b" folded", b"\tfolded", b"bad line"),
            *(b"x t: 1", b"x-t: a\x00b", b":v", b"x-t: \xff"),
        ]
    ),
    max_size=3,
)


@given(size_line=SIZE_LINES, trailers=TRAILERS)
def test_what_the_decoder_accepts_h11_accepts_alike(
    size_line: bytes, trailers: list[bytes]
) -> None:
    body = size_line + b"\r\nabc\r\n0\r\n" + b"".join(t + b"\r\n" for t in trailers) + b"\r\n"
    decoder = ChunkedBody()
    try:
        out = decoder.feed(body)
    except RemoteProtocolError:
        return  # refused: fine whatever h11 does (never accepting more is the rule)
    assert decoder.done
    assert h11_outcome(body) == out == b"abc"


@pytest.mark.parametrize(
    "bad",
    [
        b"3 ;x\r\nabc\r\n0\r\n\r\n",  # whitespace before an extension
        b"3\r\nabc\r\n0\r\nbad line\r\n\r\n",  # a trailer that is not a header line
        b"3\r\nabc\r\n0\r\n folded\r\n\r\n",  # a continuation with nothing to continue
    ],
)
def test_framing_h11_refuses_is_refused(bad: bytes) -> None:
    assert h11_outcome(bad) is None
    with pytest.raises(RemoteProtocolError):
        ChunkedBody().feed(bad)
