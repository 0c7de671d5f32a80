"""Tests of _h1: the fast request/response head codec and chunked decoder agree with h11.

For any head it accepts, parse_response_head reports what h11 reports for the same
bytes (status, reason, headers, body framing, keep-alive); what it declines goes to
h11. RequestHead serializes exactly what h11 would send, refuses what h11 refuses, and
hands h11 an equal request when an exchange falls back to it. ChunkedBody decodes any
split of a chunked body as h11 does, finds its end, and refuses bad framing.
"""

from __future__ import annotations

import itertools

import h11
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from trio_openai._http import InvalidRequestError, RemoteProtocolError
from trio_openai._http._h1 import CHUNKED, HEAD_END, ChunkedBody, RequestHead, parse_response_head

STATUS_LINES = [
    b"HTTP/1.1 200 OK",
    b"HTTP/1.1 201 Created",
    b"HTTP/1.1 404 Not Found",
    b"HTTP/1.1 429 Too Many Requests",
    b"HTTP/1.1 500 Internal\tServer Error",
    b"HTTP/1.1 204 No Content",
    b"HTTP/1.1 304 Not Modified",
    b"HTTP/1.1 200",
    b"HTTP/1.1 200 ",
    b"HTTP/1.1 999 x",
    b"HTTP/1.1 200 \xe9t\xe9",
    b"HTTP/1.0 200 OK",
    b"HTTP/1.1 100 Continue",
    b"HTTP/1.1 2000 OK",
    b"HTTP/1.1  200 OK",
    b"http/1.1 200 OK",
    b"HTTP/1.1 200 O\x00K",
    b"HTTP/2 200",
]
NAMES = [
    b"content-length",
    b"Content-Length",
    b"transfer-encoding",
    b"Transfer-Encoding",
    b"connection",
    b"Connection",
    b"x-request-id",
    b"X-RateLimit-Remaining-Requests",
    b"content-type",
    b"a b",
    b"",
    b"x:y",
]
VALUES = [
    b"5",
    b"0",
    b"05",
    b"5, 5",
    b"5,6",
    b"-1",
    b"123456789012345678901",
    b"abc",
    b"chunked",
    b"Chunked",
    b"gzip, chunked",
    b"close",
    b"keep-alive, Close",
    b"keep-alive",
    b" padded \t",
    b"a\tb  c",
    b"",
    b"\xff\x80",
    b"a\x00b",
    b"a\x0bb",
]
LINE_ENDS = st.sampled_from([b"\r\n"] * 8 + [b"\n", b"\r\n "])
METHODS = st.sampled_from([b"GET", b"POST", b"HEAD", b"DELETE"])


GOOD_STATUS = STATUS_LINES[:11]
GOOD_NAMES = NAMES[:9]
GOOD_VALUES = [v for v in VALUES if b"\x00" not in v and b"\x0b" not in v]


@st.composite
def heads(draw: st.DrawFn) -> bytes:
    # Mostly well-formed heads (so the fast path is exercised), with every kind of
    # oddity mixed in: bad status lines, names, values, line ends, folding, framing.
    plain = draw(st.booleans())
    statuses = st.sampled_from(GOOD_STATUS)
    names = st.sampled_from([n for n in GOOD_NAMES if not n.lower().startswith(b"content-l")])
    values = st.sampled_from(GOOD_VALUES)
    ends = st.just(b"\r\n")
    if not plain:
        statuses = statuses | st.sampled_from(STATUS_LINES) | st.binary(max_size=30)
        names = st.sampled_from(NAMES)
        values = st.sampled_from(VALUES) | st.binary(max_size=12)
        ends = LINE_ENDS
    lines = [draw(statuses)]
    line_ends = [draw(ends)]
    if draw(st.integers(0, 3)) > 0:
        lines.append(b"Content-Length: " + draw(st.sampled_from([b"0", b"5", b"12"])))
        line_ends.append(b"\r\n")
    for _ in range(draw(st.integers(0, 5))):
        sep = draw(st.sampled_from([b": ", b":", b":\t", b" : "] if not plain else [b": ", b":"]))
        lines.append(draw(names) + sep + draw(values))
        line_ends.append(draw(ends))
    out = b"".join(line + end for line, end in zip(lines, line_ends, strict=True))
    return out + (b"\r\n" if plain else draw(st.sampled_from([b"\r\n"] * 6 + [b"\n"])))


def h11_after_request(method: bytes) -> h11.Connection:
    conn = h11.Connection(h11.CLIENT)
    conn.send(h11.Request(method=method, target=b"/", headers=[(b"Host", b"x")]))
    conn.send(h11.EndOfMessage())
    return conn


def h11_events(conn: h11.Connection, data: bytes) -> list[object]:
    conn.receive_data(data)
    out: list[object] = []
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA or event is h11.PAUSED:
            return out
        out.append(event)
        if type(event) is h11.EndOfMessage:
            return out


@settings(max_examples=600)
@given(head=heads(), method=METHODS)
@example(head=b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n", method=b"GET")
@example(head=b"HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n", method=b"POST")
@example(head=b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n", method=b"GET")
def test_accepted_heads_read_as_h11_reads_them(head: bytes, method: bytes) -> None:
    match = HEAD_END.search(head)
    if match is None:
        return
    end = match.end()
    ours = parse_response_head(head, end, method)
    if ours is None:
        return  # declined: h11 reads it (and may refuse it)
    conn = h11_after_request(method)
    # The framing: h11 expects exactly the body we would read.
    if ours.body_length == CHUNKED:
        body, kinds = b"3\r\nabc\r\n0\r\n\r\n", [h11.Data, h11.EndOfMessage]
    elif ours.body_length:
        body, kinds = b"x" * ours.body_length, [h11.Data, h11.EndOfMessage]
    else:
        body, kinds = b"", [h11.EndOfMessage]
    response, *rest = h11_events(conn, head[:end] + body)
    assert type(response) is h11.Response
    assert response.status_code == ours.status
    assert response.reason == ours.reason
    assert response.http_version == b"1.1"
    assert list(response.headers) == ours.headers
    assert [type(e) for e in rest] == kinds
    assert conn.their_state is (h11.DONE if ours.keep_alive else h11.MUST_CLOSE)


@pytest.mark.parametrize(
    ("head", "method", "status", "length", "keep_alive"),
    [
        (b"HTTP/1.1 200 OK\r\ncontent-length: 12\r\n\r\n", b"POST", 200, 12, True),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", b"GET", 200, CHUNKED, True),
        (
            b"HTTP/1.1 404 Nope\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            b"GET",
            404,
            0,
            False,
        ),
        (b"HTTP/1.1 204 No Content\r\n\r\n", b"DELETE", 204, 0, True),
        (b"HTTP/1.1 200 OK\r\ncontent-length: 7\r\n\r\n", b"HEAD", 200, 0, True),
    ],
)
def test_plain_heads_take_the_fast_path(
    head: bytes, method: bytes, status: int, length: int, keep_alive: bool
) -> None:
    parsed = parse_response_head(head, len(head), method)
    assert parsed is not None
    assert (parsed.status, parsed.body_length, parsed.keep_alive) == (status, length, keep_alive)


def test_header_names_are_lowercased_and_values_trimmed() -> None:
    head = b"HTTP/1.1 200 OK\r\nX-RateLimit-Remaining-Requests:  59 \r\nContent-Length: 0\r\n\r\n"
    parsed = parse_response_head(head, len(head), b"GET")
    assert parsed is not None
    assert parsed.headers == [(b"x-ratelimit-remaining-requests", b"59"), (b"content-length", b"0")]


@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/1.1 100 Continue\r\n\r\n",  # informational: h11 skips it
        b"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n",
        b"HTTP/1.1 200 OK\nContent-Length: 1\n\n",  # bare LF line ends
        b"HTTP/1.1 200 OK\r\nX-A: 1\r\n  folded\r\nContent-Length: 1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1, 1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
        # both framings, even where there is no body: the fallback refuses them
        b"HTTP/1.1 204 No Content\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n",  # read until close
        b"HTTP/1.1 200 OK\r\nBad Header: 1\r\nContent-Length: 1\r\n\r\n",
    ],
)
def test_unusual_heads_are_left_to_h11(head: bytes) -> None:
    match = HEAD_END.search(head)
    assert match is not None
    assert parse_response_head(head, match.end(), b"GET") is None


# -- requests -------------------------------------------------------------------------

TOKENS = st.sampled_from(
    [b"Host", b"host", b"Content-Length", b"Transfer-Encoding", b"Connection", b"X-A", b"Accept"]
)
REQUEST_VALUES = st.sampled_from(
    [
        *(b"x", b"127.0.0.1:8000", b"0", b"12", b"12, 12", b"12, 13", b"1x"),
        *(b"chunked", b"CHUNKED", b"gzip", b"close", b"keep-alive", b"a b"),
    ]
)


@settings(max_examples=800)
@example(
    method=b"GET",
    target=b"/",
    headers=[(b"Host", b"x"), (b"Content-Length", b"0"), (b"content-length", b"0")],
)
@example(method=b"POST", target=b"/", headers=[(b"host", b"x"), (b"Content-Length", b"12, 12")])
@example(method=b"POST", target=b"/", headers=[(b"X-A", b"1"), (b"Host", b"x")])
@example(method=b"POST", target=b"/", headers=[(b"Host", b"x"), (b"Transfer-Encoding", b"CHUNKED")])
@given(
    method=st.sampled_from([b"GET", b"POST", b"PATCH", b"M-SEARCH", b"B@D", b""]),
    target=st.sampled_from([b"/v1/chat/completions", b"/a?b=c&d=%20", b"/ x", b"", b"/\x7f"]),
    headers=st.lists(st.tuples(TOKENS, REQUEST_VALUES), max_size=5),
)
def test_request_heads_match_h11(
    method: bytes, target: bytes, headers: list[tuple[bytes, bytes]]
) -> None:
    try:
        event = h11.Request(method=method, target=target, headers=headers)
        conn = h11.Connection(h11.CLIENT)
        expected = conn.send(event)
    except h11.LocalProtocolError:
        with pytest.raises(InvalidRequestError):
            RequestHead(method, target, headers)
        return
    ours = RequestHead(method, target, headers)
    assert ours.head == expected
    # The fallback tells h11 the same request (through its public constructor).
    assert h11.Connection(h11.CLIENT).send(ours.h11_event()) == expected
    names = {n.lower() for n, _ in headers}
    assert ours.chunked == ("transfer-encoding" in {n.decode() for n in names})
    closes = any(n.lower() == b"connection" and v == b"close" for n, v in headers)
    assert ours.keep_alive is not closes


def test_request_head_errors_name_the_problem() -> None:
    with pytest.raises(InvalidRequestError, match="Host"):
        RequestHead(b"GET", b"/", [(b"Accept", b"*/*")])
    with pytest.raises(InvalidRequestError, match="Content-Length"):
        RequestHead(b"POST", b"/", [(b"Host", b"x"), (b"Content-Length", b"1x")])
    with pytest.raises(InvalidRequestError, match="chunked"):
        RequestHead(b"POST", b"/", [(b"Host", b"x"), (b"Transfer-Encoding", b"gzip")])


# -- chunked bodies -------------------------------------------------------------------


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
