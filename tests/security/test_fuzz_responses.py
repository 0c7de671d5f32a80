"""Fuzzing the client with generated responses: heads, bodies and event streams.

Each example is one response built from structured parts (a status line, framing
headers, a body framed by Content-Length, by chunks or by the close, extra headers),
then mutated at the byte level (bytes flipped, inserted, deleted; junk appended),
served raw on 127.0.0.1 by ``_hostile.HostileServer`` to a real ``Client``, followed
by a second call. The properties:

- the only exception a caller sees is an ``OpenAIError`` subclass (``exchange`` lets
  anything else escape, and hypothesis shrinks it to a minimal response);
- a connection is reused only after a response that allows it (:func:`may_reuse`:
  one complete, well-framed keep-alive HTTP/1.1 message and nothing after it, as h11
  reads it, and not both Content-Length and Transfer-Encoding, RFC 9112 §6.3);
- nothing hangs: every example runs under ``trio.fail_after`` on a MockClock.

Reproducible in CI: ``derandomize=True`` and no example database, so every run tries
the same examples; ``TRIO_OPENAI_FUZZ_EXAMPLES`` raises the count for a longer local
run. Responses with both framings and deeply nested JSON have fuzz tests of their
own, so each property is reported by name when it breaks.
"""

from __future__ import annotations

import itertools
import json
import os
from dataclasses import dataclass

import h11
import trio
from _hostile import CHUNK, COMPLETION, LIMIT, After, exchange, mock_clock
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("TRIO_OPENAI_FUZZ_EXAMPLES", "200"))


def fuzz_settings(examples: int, *, shrink: bool = True) -> settings:
    """Reproducible settings; *shrink* False for the known-bug tests (they fail at once)."""
    phases = tuple(Phase) if shrink else (Phase.generate,)
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=phases,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# --------------------------------------------------------------------------------------
# The oracle


def may_reuse(raw: bytes) -> bool:
    """Whether *raw* is one complete keep-alive response with nothing after it.

    As h11 reads it (the authority the client's fast path is held to), answering a
    POST, with the connection left open; plus RFC 9112 §6.3: a response with both
    Content-Length and Transfer-Encoding is an error.
    """
    conn = h11.Connection(h11.CLIENT)
    conn.send(
        h11.Request(method="POST", target="/", headers=[("host", "x"), ("content-length", "0")])
    )
    conn.send(h11.EndOfMessage())
    conn.receive_data(raw)
    try:
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return False
            if isinstance(event, h11.Response):
                names = {name for name, _ in event.headers}
                if b"content-length" in names and b"transfer-encoding" in names:
                    return False
            if isinstance(event, h11.EndOfMessage):
                break
    except h11.RemoteProtocolError:
        return False
    return (
        conn.our_state is h11.DONE
        and conn.their_state is h11.DONE
        and conn.trailing_data == (b"", False)
    )


def test_the_oracle() -> None:
    ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"
    assert may_reuse(ok)
    assert may_reuse(b"HTTP/1.1 100 Continue\r\n\r\n" + ok)
    assert not may_reuse(ok + b"x")  # bytes after the message
    assert not may_reuse(ok[:-1])  # incomplete
    assert not may_reuse(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}")  # closes
    assert not may_reuse(ok.replace(b"OK\r\n", b"OK\r\nConnection: close\r\n"))
    assert not may_reuse(b"HTTP/1.1 200 OK\r\n\r\n{}")  # close-delimited
    assert not may_reuse(b"HTTP/1.1 2OO OK\r\n\r\n")
    both = b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\nTransfer-Encoding: chunked\r\n\r\n"
    assert not may_reuse(both + b"2\r\n{}\r\n0\r\n\r\n")


# --------------------------------------------------------------------------------------
# Strategies


@dataclass(frozen=True)
class Served:
    """One generated example: the bytes, what the server does next, the call made."""

    raw: bytes
    after: After
    stream: bool


AFTER = st.sampled_from(["hold", "hold", "close", "reset"])
# Each part comes clean (what a server may send) or odd (what a hostile one sends).
CLEAN_STATUS = st.sampled_from(
    [
        *(b"200 OK", b"200 OK", b"201 Created", b"204 No Content", b"304 Not Modified"),
        *(b"400 Bad Request", b"401 Unauthorized", b"404 Not Found", b"429 Too Many"),
        *(b"500 Oops", b"503 Busy", b"302 Found", b"200", b"200 "),
    ]
)
ODD_STATUS = st.one_of(
    st.sampled_from([b"100 Continue", b"101 Switching", b"600 Odd", b"99 X", b"2000 OK"]),
    st.binary(max_size=12),
)
ODD_VERSION = st.sampled_from([b"HTTP/1.0", b"HTTP/2", b"HTTP/1.2", b"http/1.1", b"HTTP/1.1 "])
FRAMED_BY = {b"content-length", b"transfer-encoding"}  # set by the framing only
CLEAN_HEADER = st.tuples(
    st.one_of(
        st.sampled_from([b"Content-Type", b"X-Request-Id", b"Retry-After", b"Connection"]),
        st.from_regex(rb"\A[!#$%&'*+.^_`|~0-9A-Za-z-]{1,12}\Z"),
    ),
    st.one_of(
        st.sampled_from([b"application/json", b"text/event-stream", b"keep-alive", b"0"]),
        st.from_regex(rb"\A[\x21-\x7e]{0,16}\Z"),
    ),
)
ODD_HEADER = st.tuples(
    st.one_of(st.binary(max_size=8), st.just(b"Connection")),
    st.one_of(st.binary(max_size=16), st.sampled_from([b"close", b"upgrade", b" x", b"a\r\n b"])),
)
TRANSFER_ENCODING = st.sampled_from(
    [b"chunked", b"chunked", b"Chunked", b"gzip, chunked", b"chunked, chunked", b"identity", b""]
)


@st.composite
def json_bodies(draw: st.DrawFn) -> bytes:
    """A completion, a mutated one, a shallow nest, or random bytes."""
    kind = draw(st.sampled_from(["completion", "mutated", "nested", "random", "empty"]))
    if kind == "completion":
        return COMPLETION
    if kind == "mutated":
        return draw(mutated(st.just(COMPLETION)))
    if kind == "nested":
        # Shallow on purpose: deep objects have their own fuzz test (below).
        depth = draw(st.integers(1, 64))
        opener = draw(st.sampled_from([b"[", b'{"a":']))
        closer = b"]" if opener == b"[" else b"}"
        return opener * depth + b"1" + closer * depth
    if kind == "random":
        return draw(st.binary(max_size=200))
    return b""


@st.composite
def mutated(draw: st.DrawFn, base: st.SearchStrategy[bytes]) -> bytes:
    """*base* with a few bytes flipped, inserted or deleted."""
    data = bytearray(draw(base))
    for op, where, value in draw(
        st.lists(
            st.tuples(
                st.sampled_from(["flip", "insert", "delete"]),
                st.integers(0, 1 << 20),
                st.integers(0, 255),
            ),
            max_size=4,
        )
    ):
        if op == "insert":
            data.insert(where % (len(data) + 1), value)
        elif data:
            if op == "flip":
                data[where % len(data)] ^= value or 1
            else:
                del data[where % len(data)]
    return bytes(data)


def chunked_framing(body: bytes, cuts: list[int], upper: bool, extension: bool) -> bytes:
    """*body* in chunks cut at *cuts*, then the last chunk."""
    points = sorted({c % (len(body) + 1) for c in cuts} | {0, len(body)})
    out = bytearray()
    for start, end in itertools.pairwise(points):
        size = b"%X" % (end - start) if upper else b"%x" % (end - start)
        out += size + (b";a=b" if extension else b"") + b"\r\n" + body[start:end] + b"\r\n"
    return bytes(out) + b"0\r\n\r\n"


@st.composite
def framed_responses(draw: st.DrawFn) -> Served:
    """A response with each part clean or odd, maybe mutated at the byte level.

    The body is framed one way: never Content-Length and chunked at once (that is
    the both-framings fuzz test, below).
    """
    odd = draw(st.sets(st.sampled_from(["version", "status", "headers", "framing", "bytes"])))
    body = draw(json_bodies())
    version = draw(ODD_VERSION) if "version" in odd else b"HTTP/1.1"
    status = draw(ODD_STATUS if "status" in odd else CLEAN_STATUS)
    fields = draw(st.lists(ODD_HEADER if "headers" in odd else CLEAN_HEADER, max_size=4))
    headers = [name + b": " + value for name, value in fields if name.lower() not in FRAMED_BY]
    framing = draw(st.sampled_from(["length", "length-off", "chunked", "close"]))
    if framing == "length" or (framing == "length-off" and "framing" not in odd):
        headers.append(b"Content-Length: %d" % len(body))
        payload = body
    elif framing == "length-off":
        declared = draw(st.one_of(st.integers(-3, len(body) + 3), st.integers(0, 10**25)))
        headers.append(b"Content-Length: %d" % declared)
        payload = body
    elif framing == "chunked":
        encoding = draw(TRANSFER_ENCODING) if "framing" in odd else b"chunked"
        headers.append(b"Transfer-Encoding: " + encoding)
        cuts = draw(st.lists(st.integers(0, 1 << 16), max_size=5))
        payload = chunked_framing(body, cuts, draw(st.booleans()), draw(st.booleans()))
    else:
        payload = body
    order = draw(st.permutations(headers))
    head = version + b" " + status + b"\r\n" + b"".join(h + b"\r\n" for h in order)
    raw = head + b"\r\n" + payload
    if "bytes" in odd:
        raw = draw(mutated(st.just(raw)))
        if draw(st.booleans()):
            raw += draw(st.binary(min_size=1, max_size=40))  # bytes after the message
    return Served(raw, draw(AFTER), stream=False)


SSE_LINES = st.one_of(
    st.just(b"data: " + CHUNK),
    mutated(st.just(b"data: " + CHUNK)),
    st.just(b"data: [DONE]"),
    st.just(b"event: error"),
    st.just(b'data: {"error": {"message": "boom", "type": "server_error"}}'),
    st.sampled_from([b":keep-alive", b"id: 7", b"retry: 10", b"event: message", b"data:", b""]),
    st.binary(max_size=40).map(lambda line: line.replace(b"\n", b"").replace(b"\r", b"")),
)


@st.composite
def sse_streams(draw: st.DrawFn) -> Served:
    """An event stream of generated lines and line ends, chunked or close-delimited."""
    body = bytearray()
    for line in draw(st.lists(SSE_LINES, max_size=12)):
        body += line + draw(st.sampled_from([b"\n", b"\n", b"\r\n", b"\r", b"\n\n", b"\r\n\r\n"]))
    if draw(st.booleans()):
        body = bytearray(draw(mutated(st.just(bytes(body)))))
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
    if draw(st.booleans()):
        cuts = draw(st.lists(st.integers(0, 1 << 12), max_size=6))
        framed = chunked_framing(bytes(body), cuts, False, False)
        if draw(st.integers(0, 4)) == 0:
            framed = framed[: -len(b"0\r\n\r\n")]  # the last chunk never comes
        raw = head + b"Transfer-Encoding: chunked\r\n\r\n" + framed
    else:
        raw = head + b"Connection: close\r\n\r\n" + bytes(body)
    return Served(raw, draw(AFTER), stream=True)


# --------------------------------------------------------------------------------------
# The properties


def check(example: Served) -> None:
    """Serve *example* to a real client; assert the properties of the module docstring."""

    async def run() -> None:
        with trio.fail_after(LIMIT):
            outcome = await exchange(
                example.raw, after=example.after, stream=example.stream, wait_first_closed=False
            )
        if example.after == "hold" and not may_reuse(example.raw):
            assert not outcome.reused, "a connection was reused after a malformed response"

    trio.run(run, clock=mock_clock())


@fuzz_settings(EXAMPLES)
@given(framed_responses())
def test_fuzzed_heads_and_bodies_surface_as_openai_errors_without_reuse(example: Served) -> None:
    check(example)


@fuzz_settings(EXAMPLES // 2)
@given(sse_streams())
def test_fuzzed_event_streams_surface_as_openai_errors_without_reuse(example: Served) -> None:
    check(example)


# --------------------------------------------------------------------------------------
# Known bugs owned elsewhere, fuzzed on their own until fixed


@st.composite
def both_framings(draw: st.DrawFn) -> Served:
    body = draw(json_bodies())
    cuts = draw(st.lists(st.integers(0, 1 << 16), max_size=3))
    length = draw(st.integers(0, 100))
    headers = [b"Content-Length: %d" % length, b"Transfer-Encoding: chunked"]
    raw = b"HTTP/1.1 200 OK\r\n" + b"".join(h + b"\r\n" for h in draw(st.permutations(headers)))
    return Served(raw + b"\r\n" + chunked_framing(body, cuts, False, False), "hold", False)


@fuzz_settings(20, shrink=False)
@given(both_framings())
def test_fuzzed_responses_with_both_framings_are_never_reused(example: Served) -> None:
    check(example)


@st.composite
def deep_json(draw: st.DrawFn) -> Served:
    depth = draw(st.integers(2000, 6000))
    nest = b'{"a":' * depth + b"1" + b"}" * depth
    if draw(st.booleans()):
        sse = b"data: " + nest + b"\n\n"
        framed = b"%x\r\n%s\r\n0\r\n\r\n" % (len(sse), sse)
        head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked"
        return Served(head + b"\r\n\r\n" + framed, "hold", True)
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d" % len(nest)
    return Served(head + b"\r\n\r\n" + nest, "hold", False)


@fuzz_settings(20, shrink=False)
@given(deep_json())
def test_fuzzed_deeply_nested_json_surfaces_as_openai_errors(example: Served) -> None:
    check(example)


def test_the_strategies_reach_what_they_should() -> None:
    # The examples must cover both outcomes of the oracle and every server behaviour,
    # else the reuse property would be tested on nothing.
    seen: set[tuple[bool, str]] = set()

    @fuzz_settings(100)
    @given(framed_responses())
    def collect(example: Served) -> None:
        seen.add((may_reuse(example.raw), example.after))

    collect()
    assert {(True, "hold"), (False, "hold"), (False, "close"), (False, "reset")} <= seen
    assert json.loads(COMPLETION)["object"] == "chat.completion"
