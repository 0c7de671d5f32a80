"""A corpus of hostile responses, each served raw to the real client on 127.0.0.1.

Each case is the bytes a server sends in answer to one call, what it does next
(keeps the connection open and serving, closes it, or resets it), the exception a
caller must see (None: the call succeeds) and whether the connection may be reused
afterwards. For every case, the test checks (``_hostile.exchange``):

- the only exception that reaches the caller is an ``OpenAIError`` subclass, the one
  expected (a bare ``RecursionError``, an ``ExceptionGroup`` or an h11 error fails);
- nothing hangs: each case runs under ``trio.fail_after`` on a MockClock, so a client
  waiting for bytes that never come ends with its read timeout, at once;
- after a malformed response the connection is never reused: a second call succeeds
  on a new connection (the server counts accepted connections and the requests on
  each), and a connection the server kept open is closed by the client, not parked
  in the pool.

A case "may be reused" when its response is one complete, well-framed HTTP/1.1
message with nothing after it, even if its status or JSON is an error: reading it
to the end leaves the connection in a known state. A case that fails because of a
known, not yet fixed bug may carry ``bug=`` (a strict xfail naming it); none does now.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import trio
from _hostile import (
    CHUNK,
    COMPLETION,
    LIMIT,
    OK,
    SSE_OK,
    After,
    exchange,
    response,
    sse_response,
)

from trio_openai import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    InternalServerError,
    OpenAIError,
    UnexpectedRedirectError,
)

C = COMPLETION
JSON_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
SSE_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
LENGTH = b"Content-Length: %d\r\n" % len(C)
REST = LENGTH + b"\r\n" + C  # what follows the extra header of a case
DEEP_OBJECT = b'{"a":' * 3000 + b"1" + b"}" * 3000
DEEP_ARRAY = b"[" * 5000 + b"]" * 5000


def chunked(*chunks: bytes, final: bool = True) -> bytes:
    out = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks)
    return out + (b"0\r\n\r\n" if final else b"")


def with_length(length: bytes | int, body: bytes = C) -> bytes:
    value = length if isinstance(length, bytes) else b"%d" % length
    return JSON_HEAD + b"Content-Length: " + value + b"\r\n\r\n" + body


@dataclass(frozen=True)
class Case:
    """One hostile response and what a caller must see.

    Attributes:
        raw: the bytes the server sends after reading the request.
        expected: the exception class the caller sees (None: success).
        may_reuse: the connection may go back to the pool (a complete, well-framed
            message, nothing after it); False: it must not serve another request.
        after: what the server does next (``hold``: keeps reading and answering).
        stream: the call is a streamed chat completion, read to its end.
        exact: the class must be exactly ``expected`` (False: a subclass will do).
        bug: the reason of a strict xfail (a library bug owned elsewhere).
    """

    name: str
    raw: bytes
    expected: type[OpenAIError] | None
    may_reuse: bool = False
    after: After = "hold"
    stream: bool = False
    exact: bool = True
    bug: str | None = None


CORPUS = [
    # -- the status line ----------------------------------------------------------------
    Case(
        "status-line-garbage", b"HTTP/1.1 2OO OK\r\nContent-Length: 0\r\n\r\n", APIConnectionError
    ),
    Case("not-http-at-all", b"SSH-2.0-OpenSSH_9.6\r\n\r\n", APIConnectionError),
    Case("lowercase-protocol", b"http/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", APIConnectionError),
    Case("http2-status-line", b"HTTP/2 200\r\nContent-Length: 0\r\n\r\n", APIConnectionError),
    Case("status-099", b"HTTP/1.1 099 X\r\nContent-Length: 0\r\n\r\n", APIConnectionError),
    Case(
        "status-11-digits",
        b"HTTP/1.1 99999999999 X\r\nContent-Length: 0\r\n\r\n",
        APIConnectionError,
    ),
    Case("status-600", response(status=b"600 Odd"), APIStatusError, may_reuse=True, exact=False),
    Case(
        "101-switching-protocols",
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\n",
        APIConnectionError,
    ),
    Case("empty-then-close", b"", APIConnectionError, after="close"),
    # -- Content-Length -----------------------------------------------------------------
    Case("content-length-negative", with_length(b"-5"), APIConnectionError),
    Case("content-length-plus-sign", with_length(b"+%d" % len(C)), APIConnectionError),
    Case("content-length-23-digits", with_length(b"9" * 23), APIConnectionError),
    Case("content-length-hex", with_length(b"0x10"), APIConnectionError),
    Case(
        "content-length-duplicate-conflicting",
        JSON_HEAD + b"Content-Length: %d\r\nContent-Length: 5\r\n\r\n" % len(C) + C,
        APIConnectionError,
    ),
    Case(
        "content-length-duplicate-identical",  # RFC 9112 §6.3: may be taken as one value
        JSON_HEAD + b"Content-Length: %d\r\nContent-Length: %d\r\n\r\n" % (len(C), len(C)) + C,
        None,
        may_reuse=True,
    ),
    Case(
        "content-length-1-TiB-declared",  # a success-body cap may refuse it from the head
        with_length(1 << 40, b"x" * 1000),
        OpenAIError,
        exact=False,
    ),
    Case("body-truncated-then-close", with_length(len(C) + 50), APIConnectionError, after="close"),
    Case("body-truncated-then-silence", with_length(len(C) + 50), APITimeoutError),
    Case("body-longer-than-content-length", with_length(len(C), C + b"garbage"), None),
    Case(
        "body-longer-than-content-length-smuggled-response",
        with_length(len(C), C + b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
        None,
    ),
    Case(
        "204-with-a-body",
        b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello",
        APIResponseValidationError,
    ),
    Case(
        "304-with-a-body",
        b"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\nhello",
        UnexpectedRedirectError,  # a 3xx, whatever follows it
    ),
    # -- Transfer-Encoding and chunks ---------------------------------------------------
    Case(
        "content-length-and-chunked",
        JSON_HEAD + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(C),
        APIConnectionError,
    ),
    Case(
        "chunked-and-content-length",
        JSON_HEAD
        + b"Transfer-Encoding: chunked\r\nContent-Length: %d\r\n\r\n" % len(C)
        + chunked(C),
        APIConnectionError,
    ),
    Case(
        "transfer-encoding-gzip-chunked",
        JSON_HEAD + b"Transfer-Encoding: gzip, chunked\r\n\r\n" + chunked(C),
        APIConnectionError,
    ),
    Case(
        "transfer-encoding-identity",
        JSON_HEAD + b"Transfer-Encoding: identity\r\n\r\n" + C,
        APIConnectionError,
        after="close",
    ),
    Case(
        "chunk-size-overflow",
        JSON_HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + b"f" * 24 + b"\r\n" + C,
        APIConnectionError,
    ),
    Case(
        "chunk-size-not-hex",
        JSON_HEAD + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n" + C,
        APIConnectionError,
    ),
    Case(
        "chunk-size-negative",
        JSON_HEAD + b"Transfer-Encoding: chunked\r\n\r\n-1\r\n" + C,
        APIConnectionError,
    ),
    Case(
        "chunk-data-longer-than-its-size",
        JSON_HEAD + b"Transfer-Encoding: chunked\r\n\r\n%x\r\n%sXX\r\n0\r\n\r\n" % (len(C), C),
        APIConnectionError,
    ),
    Case(
        "final-chunk-missing-then-close",
        JSON_HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + chunked(C, final=False),
        APIConnectionError,
        after="close",
    ),
    Case(
        "final-chunk-missing-then-silence",
        JSON_HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + chunked(C, final=False),
        APITimeoutError,
    ),
    # -- header lines -------------------------------------------------------------------
    Case("header-value-with-nul", JSON_HEAD + b"X-A: a\x00b\r\n" + REST, APIConnectionError),
    Case("header-value-with-bare-cr", JSON_HEAD + b"X-A: a\rb\r\n" + REST, APIConnectionError),
    Case("header-name-empty", JSON_HEAD + b": x\r\n" + REST, APIConnectionError),
    Case("header-name-with-space", JSON_HEAD + b"X A: x\r\n" + REST, APIConnectionError),
    Case(
        "obs-fold",  # RFC 9112 §5.2: a user agent replaces it with a space
        JSON_HEAD + b"X-A: a\r\n b\r\n" + REST,
        None,
        may_reuse=True,
    ),
    Case(
        "obs-fold-on-the-first-header",
        b"HTTP/1.1 200 OK\r\n folded: x\r\n" + REST,
        APIConnectionError,
    ),
    Case(
        "bare-lf-line-ends",  # RFC 9112 §2.2: a recipient may accept a bare LF
        OK.replace(b"\r\n", b"\n"),
        None,
        may_reuse=True,
    ),
    Case(
        "one-header-line-of-4-MiB",
        JSON_HEAD + b"X-Big: " + b"a" * (4 << 20) + b"\r\n" + REST,
        APIConnectionError,
    ),
    Case("100000-header-lines", JSON_HEAD + b"X-A: b\r\n" * 100_000 + REST, APIConnectionError),
    # -- informational responses --------------------------------------------------------
    Case(
        "2000-100-continue-then-ok",
        b"HTTP/1.1 100 Continue\r\n\r\n" * 2000 + OK,
        None,
        may_reuse=True,
    ),
    Case(
        "5000-103-early-hints-then-silence",
        b"HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n" * 5000,
        APITimeoutError,
    ),
    # -- HTTP/1.0 and close-delimited bodies -------------------------------------------
    Case(
        "http-1.0-close-delimited",
        b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n" + C,
        None,
        after="close",
    ),
    Case(
        "http-1.1-close-delimited",
        JSON_HEAD + b"Connection: close\r\n\r\n" + C,
        None,
        after="close",
    ),
    Case(
        "http-1.0-close-delimited-cut-by-reset",
        b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n" + C[:20],
        APIConnectionError,
        after="reset",
    ),
    # -- resets ---------------------------------------------------------------------------
    Case("reset-mid-head", b"HTTP/1.1 200 OK\r\nContent-Ty", APIConnectionError, after="reset"),
    Case("reset-mid-body", with_length(len(C), C[:10]), APIConnectionError, after="reset"),
    # -- JSON bodies ----------------------------------------------------------------------
    Case("json-array-nested-5000-deep", response(DEEP_ARRAY), APIResponseValidationError, True),
    Case(
        "json-object-nested-3000-deep",
        response(DEEP_OBJECT),
        APIResponseValidationError,
        True,
    ),
    Case(
        "error-body-nested-3000-deep",
        response(b'{"error":' + DEEP_OBJECT + b"}", status=b"400 Bad Request"),
        BadRequestError,
        True,
    ),
    Case(
        "json-not-utf-8",
        response(C.replace(b'"hi"', b'"h\xff\xfei"')),
        APIResponseValidationError,
        True,
    ),
    Case(
        "error-body-not-utf-8",
        response(b'{"error": {"message": "\xff\xfe", "type": "x"}}', status=b"400 Bad Request"),
        BadRequestError,
        True,
    ),
    Case("json-a-string", response(b'"just a string"'), APIResponseValidationError, True),
    Case(
        "html-instead-of-json",
        response(b"<html>oops</html>", content_type=b"text/html"),
        APIResponseValidationError,
        True,
    ),
    Case(
        "401-in-html",
        response(b"<html>no</html>", status=b"401 Unauthorized", content_type=b"text/html"),
        AuthenticationError,
        True,
    ),
    Case(
        "error-body-over-the-1-MiB-cap",
        response(b"x" * (4 << 20), status=b"500 Internal Server Error"),
        InternalServerError,
    ),
    Case(
        "302-with-a-json-body",
        response(status=b"302 Found", headers=b"Location: http://127.0.0.2/\r\n" + LENGTH),
        APIStatusError,
        True,
        exact=False,
    ),
    # -- event streams --------------------------------------------------------------------
    Case("sse-well-formed", sse_response(SSE_OK), None, True, stream=True),
    Case(
        "sse-never-ending-line",
        SSE_HEAD + b"Connection: close\r\n\r\ndata: " + b"a" * (20 << 20),
        APIError,
        stream=True,
        exact=False,
    ),
    Case(
        "sse-never-ending-line-chunked",
        SSE_HEAD
        + b"Transfer-Encoding: chunked\r\n\r\n"
        + (b"100000\r\n" + b"a" * 0x100000 + b"\r\n") * 20,
        APIError,
        stream=True,
        exact=False,
    ),
    Case(
        "sse-event-error",
        sse_response(
            b'event: error\ndata: {"error": {"message": "boom", "type": "server_error"}}\n\n'
        ),
        APIError,
        stream=True,
        exact=False,
    ),
    Case(
        "sse-data-error-object",
        sse_response(b'data: {"error": {"message": "boom", "type": "server_error"}}\n\n'),
        APIError,
        stream=True,
        exact=False,
    ),
    Case(
        "sse-data-invalid-json",
        sse_response(b"data: {not json\n\n"),
        APIResponseValidationError,
        stream=True,
    ),
    Case(
        "sse-data-not-utf-8",
        sse_response(b"data: \xff\xfe\n\n"),
        APIResponseValidationError,
        stream=True,
    ),
    Case(
        "sse-data-array-nested-5000-deep",
        sse_response(b"data: " + DEEP_ARRAY + b"\n\n"),
        APIResponseValidationError,
        stream=True,
    ),
    Case(
        "sse-data-object-nested-3000-deep",
        sse_response(b"data: " + DEEP_OBJECT + b"\n\n"),
        APIResponseValidationError,
        stream=True,
    ),
    Case(
        "sse-error-event-nested-3000-deep",
        sse_response(b"event: error\ndata: " + DEEP_OBJECT + b"\n\n"),
        APIError,
        stream=True,
        exact=False,
    ),
    Case(
        "sse-without-done-then-close",
        sse_response(b"data: " + CHUNK + b"\n\n", close=True),
        APIConnectionError,
        after="close",
        stream=True,
    ),
    Case(
        "sse-without-done-then-silence",
        SSE_HEAD
        + b"Transfer-Encoding: chunked\r\n\r\n"
        + chunked(b"data: " + CHUNK + b"\n\n", final=False),
        APITimeoutError,
        stream=True,
    ),
    Case(
        "sse-bytes-after-the-last-chunk",
        sse_response(SSE_OK) + b"junk",
        None,
        stream=True,
    ),
    Case(
        "301-on-a-stream",
        response(status=b"301 Moved", headers=b"Location: /x\r\n" + LENGTH),
        APIStatusError,
        True,
        stream=True,
        exact=False,
    ),
]


def _params() -> list[object]:
    return [
        pytest.param(
            case,
            id=case.name,
            marks=[pytest.mark.xfail(strict=True, reason=case.bug)] if case.bug else [],
        )
        for case in CORPUS
    ]


def test_the_corpus_names_are_unique_and_its_parts_add_up() -> None:
    names = [case.name for case in CORPUS]
    assert len(names) == len(set(names))
    assert JSON_HEAD + REST == OK


@pytest.mark.parametrize("case", _params())
async def test_a_hostile_response_surfaces_as_an_openai_error_and_is_not_reused(
    case: Case, clock: trio.testing.MockClock
) -> None:
    with trio.fail_after(LIMIT):
        outcome = await exchange(case.raw, after=case.after, stream=case.stream)
    if case.expected is None:
        assert outcome.error is None, repr(outcome.error)
    elif case.exact:
        assert type(outcome.error) is case.expected, repr(outcome.error)
    else:
        assert isinstance(outcome.error, case.expected), repr(outcome.error)
    assert len(outcome.connections) <= 2
    if not case.may_reuse:
        assert not outcome.reused, "the follow-up call went over the same connection"
        assert len(outcome.connections) == 2
        if case.after == "hold":
            assert outcome.first_closed_by_client, "the connection was kept, not closed"


CANCELLED_MIDWAY = [
    pytest.param(with_length(len(C) + 50), False, id="body-truncated"),
    pytest.param(b"HTTP/1.1 200 OK\r\nContent-Ty", False, id="head-half-sent"),
    pytest.param(
        SSE_HEAD
        + b"Transfer-Encoding: chunked\r\n\r\n"
        + chunked(b"data: " + CHUNK + b"\n\n", final=False),
        True,
        id="stream-without-done",
    ),
]


@pytest.mark.parametrize(("raw", "stream"), CANCELLED_MIDWAY)
async def test_a_caller_cancelling_midway_sees_only_its_cancellation(
    raw: bytes, stream: bool, clock: trio.testing.MockClock
) -> None:
    # The caller's own scope ends the call before the client's read timeout (5 s):
    # trio.Cancelled is all it sees (absorbed by move_on_after), and the connection,
    # its HTTP state unknown, is closed, never reused.
    with trio.fail_after(LIMIT):
        outcome = await exchange(raw, stream=stream, cancel_after=1)
    assert outcome.cancelled
    assert outcome.error is None
    assert not outcome.reused
    assert len(outcome.connections) == 2
    assert outcome.first_closed_by_client
