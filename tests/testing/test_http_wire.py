"""The test HTTP server's wire helpers: the fast head parser agrees with h11
(hypothesis), on its own and through the server whatever the split; handlers'
headers are checked against the shared grammar.

Clients here are raw: ``trio.open_tcp_stream`` plus hand-written bytes, or an
``h11.Connection(h11.CLIENT)`` that frames and parses for us (``_raw_client``).
trio_openai's own pool is deliberately not used, since these servers are what the
pool is tested against.
"""

from __future__ import annotations

import h11
import pytest
import trio
from _raw_client import LIMIT, RawClient, connect
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trio_openai.testing import Response, open_http_server
from trio_openai.testing._http_wire import encode_fields, parse_plain_head

_token = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!",
    min_size=1,
    max_size=12,
)


_value = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=30)


def _h11_parse(raw: bytes) -> tuple[str, str, list[tuple[str, str]], bytes]:
    h = h11.Connection(h11.SERVER)
    h.receive_data(raw)
    head = h.next_event()
    assert isinstance(head, h11.Request)
    body = b""
    while True:
        event = h.next_event()
        if isinstance(event, h11.Data):
            body += event.data
        else:
            assert isinstance(event, h11.EndOfMessage)
            break
    headers = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in head.headers]
    return head.method.decode(), head.target.decode(), headers, body


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    headers=st.lists(st.tuples(_token, _value), max_size=6),
    body=st.binary(max_size=40),
    split=st.integers(min_value=1, max_value=10_000),
    chunked=st.booleans(),
)
async def test_requests_parse_as_h11_parses_them_whatever_the_split(
    headers: list[tuple[str, str]], body: bytes, split: int, chunked: bool
) -> None:
    reserved = {"host", "content-length", "transfer-encoding", "connection", "expect"}
    headers = [(n, v) for n, v in headers if n.lower() not in reserved]
    head = b"POST /p?q=1 HTTP/1.1\r\nHost: h\r\n"
    head += b"".join(f"{n}: {v}\r\n".encode() for n, v in headers)
    if chunked:
        encoded = (b"%x\r\n%s\r\n" % (len(body), body) if body else b"") + b"0\r\n\r\n"
        raw = head + b"Transfer-Encoding: chunked\r\n\r\n" + encoded
    else:
        raw = head + b"Content-Length: %d\r\n\r\n" % len(body) + body
    method, target, want_headers, want_body = _h11_parse(raw)
    cut = 1 + split % (len(raw) - 1)  # both parts non-empty
    with trio.fail_after(LIMIT):
        async with open_http_server() as server, await connect(server.port) as stream:
            await stream.send_all(raw[:cut])
            # The first part has reached the server before the rest is sent.
            await server.wait_statistics(lambda s: s.connections_active == 1)
            await stream.send_all(raw[cut:])
            client = RawClient(stream)
            client.pretend_sent("POST")
            reply = await client.read_body(await client.read_head())
            assert reply.status == 200
            got = server.requests[0]
            assert (got.method, got.target, got.headers, got.body) == (
                method,
                target,
                want_headers,
                want_body,
            )
            assert (got.path, got.query) == ("/p", "q=1")


@given(headers=st.lists(st.tuples(_token, _value), max_size=6), length=st.integers(0, 99))
def test_the_fast_path_parses_a_head_as_h11_does(
    headers: list[tuple[str, str]], length: int
) -> None:
    reserved = {"host", "content-length", "transfer-encoding", "connection", "expect"}
    headers = [(n, v) for n, v in headers if n.lower() not in reserved]
    head = b"POST /p?q=1 HTTP/1.1\r\nHost: h\r\n"
    head += b"".join(f"{n}: {v}\r\n".encode() for n, v in headers)
    head += b"Content-Length: %d" % length
    method, target, want_headers, body = _h11_parse(head + b"\r\n\r\n" + b"x" * length)
    parsed = parse_plain_head(head)
    assert parsed is not None  # a plain request: the fast path takes it
    got_method, got_target, got_headers, got_length, keep_alive = parsed
    assert (got_method, got_target, got_length, keep_alive) == (method, target, length, True)
    assert got_headers == [(n.lower(), v) for n, v in want_headers]
    assert len(body) == length


@pytest.mark.parametrize(
    "header",
    [("bad name", "v"), ("x", "a\r\nb"), ("x", "a\nb"), ("x", "nul\x00"), ("x", "snow \u2603")],
)
def test_a_handler_header_outside_the_read_grammar_is_refused(header: tuple[str, str]) -> None:
    with pytest.raises(ValueError, match="response header"):
        encode_fields(Response(200, [header]))


def test_a_handler_status_must_be_final() -> None:
    with pytest.raises(ValueError, match="final status"):
        encode_fields(Response(101))
    assert encode_fields(Response(200, [("x-odd", "tab\there")])) == [b"x-odd: tab\there\r\n"]
