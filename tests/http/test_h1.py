"""Tests of _h1: the fast request/response head codec agrees with h11.

For any head it accepts, parse_response_head reports what h11 reports for the same
bytes (status, reason, headers, body framing, keep-alive); what it declines goes to
h11. RequestHead serializes exactly what h11 would send and refuses what h11 refuses.
"""

from __future__ import annotations

import h11
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from trio_openai._http._exceptions import InvalidRequestError
from trio_openai._http._h1 import CHUNKED, HEAD_END, RequestHead, parse_response_head

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
