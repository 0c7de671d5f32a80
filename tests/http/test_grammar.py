"""Tests of _grammar: the read rules are h11's, the send rule is RFC 9110's.

h11 is the oracle, through its public API: a value is one h11 accepts when
``h11.Request`` takes it as a header value, and a header line is one h11 reads when
it parses a response head holding it.
"""

from __future__ import annotations

import re

import h11
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from trio_openai._http._grammar import (
    FIELD_VALUE_READ,
    FIELD_VALUE_SENT,
    FIELD_VALUE_SENT_STR,
    TOKEN,
    TOKEN_STR,
)
from trio_openai._http._h1 import _HEADER_LINE

# Bytes where the rules differ: controls, DEL, whitespace, obs-text, separators.
EDGES = [b"a", b"Z", b"0", b"!", b"~", b":", b"(", b" ", b"\t", b"\x00", b"\x01", b"\x0b"]
EDGES += [b"\x0c", b"\x1f", b"\x7f", b"\x80", b"\xff", b"\r", b"\n", b"\x1c", b"\x85", b"\xa0"]
VALUES = st.lists(st.sampled_from(EDGES), max_size=6).map(b"".join) | st.binary(max_size=8)


def h11_takes_value(value: bytes) -> bool:
    try:
        h11.Request(method="GET", target="/", headers=[("Host", "x"), ("X-A", value)])
    except h11.LocalProtocolError:
        return False
    return True


def h11_takes_name(name: bytes) -> bool:
    try:
        h11.Request(method="GET", target="/", headers=[("Host", "x"), (name, "v")])
    except h11.LocalProtocolError:
        return False
    return True


def h11_reads_line(line: bytes) -> bool:
    conn = h11.Connection(h11.CLIENT)
    conn.send(h11.Request(method="GET", target="/", headers=[("Host", "x")]))
    conn.send(h11.EndOfMessage())
    conn.receive_data(b"HTTP/1.1 200 OK\r\n" + line + b"\r\nContent-Length: 0\r\n\r\n")
    try:
        return type(conn.next_event()) is h11.Response
    except h11.RemoteProtocolError:
        return False


def matches(pattern: bytes, data: bytes) -> bool:
    return re.fullmatch(pattern, data) is not None


@settings(max_examples=1000)
@given(value=VALUES)
@example(value=b"a\x7fb")
@example(value=b"\x7f")
@example(value=b"a \t b")
@example(value=b" a")
def test_the_read_rule_is_h11s(value: bytes) -> None:
    assert matches(FIELD_VALUE_READ, value) == h11_takes_value(value)


@settings(max_examples=1000)
@given(value=VALUES)
@example(value=b"a\x7fb")
@example(value=b"\x80\xff")
def test_the_send_rule_is_rfc_9110_and_narrower_than_h11s(value: bytes) -> None:
    visible = all(0x21 <= b <= 0x7E or b >= 0x80 or b in b" \t" for b in value)
    trimmed = value == value.strip(b" \t")
    assert matches(FIELD_VALUE_SENT, value) == (visible and trimmed)
    if matches(FIELD_VALUE_SENT, value):
        assert h11_takes_value(value)  # what we send, h11 (and so most servers) reads


@settings(max_examples=500)
@given(name=st.lists(st.sampled_from(EDGES), min_size=0, max_size=4).map(b"".join))
@example(name=b"X-RateLimit-Remaining")
@example(name=b"a b")
@example(name=b"")
def test_tokens_are_h11s(name: bytes) -> None:
    assert matches(TOKEN, name) == h11_takes_name(name)


@settings(max_examples=1000)
@given(value=VALUES, sep=st.sampled_from([b":", b": ", b":\t", b" :"]), tail=VALUES)
@example(value=b"a\x7fb", sep=b": ", tail=b"")
@example(value=b"a", sep=b": ", tail=b" \t")
def test_a_header_line_reads_as_h11_reads_it(value: bytes, sep: bytes, tail: bytes) -> None:
    line = b"X-A" + sep + value + tail
    if b"\n" in line or b"\r" in line:
        return  # line ends are the head splitter's business, not a line's
    assert (_HEADER_LINE.fullmatch(line) is not None) == h11_reads_line(line)


@given(value=VALUES)
def test_the_str_twins_are_the_same_grammar(value: bytes) -> None:
    text = value.decode("latin-1")
    assert (FIELD_VALUE_SENT_STR.fullmatch(text) is not None) == matches(FIELD_VALUE_SENT, value)
    assert (TOKEN_STR.fullmatch(text) is not None) == matches(TOKEN, value)


@pytest.mark.parametrize("value", [b"a\x7fb", b"\x7f", b"a\x01b", b"a\x0bb"])
def test_del_and_controls_are_never_sent_and_read_as_h11_reads_them(value: bytes) -> None:
    assert not matches(FIELD_VALUE_SENT, value)
    assert matches(FIELD_VALUE_READ, value) == h11_takes_value(value)
    if value == b"a\x7fb":  # the case the two rules part on
        assert matches(FIELD_VALUE_READ, value)
