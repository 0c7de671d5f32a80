"""Tests of _request: what preparing adds, checks and refuses before anything is sent.

The first tests call the sans-IO preparer directly; the rest check, over loopback,
that the framing it chose is what goes on the wire.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import trio
from _raw_server import FAST, OK, raw_server
from hypothesis import given
from hypothesis import strategies as st

from trio_openai._http import InvalidRequestError, Pool
from trio_openai._http._proxy import ProxySettings, parse_proxy_url
from trio_openai._http._request import RequestPreparer
from trio_openai.testing import open_http_server

DIRECT = ProxySettings()


def test_host_comes_first_and_the_body_framing_is_added() -> None:
    prepared = RequestPreparer(DIRECT).prepare(
        "post", "http://example.com:8080/v1/x?a=1", {"Accept": "*/*"}, b"{}"
    )
    assert prepared.head.head == (
        b"POST /v1/x?a=1 HTTP/1.1\r\nHost: example.com:8080\r\nAccept: */*\r\n"
        b"Content-Length: 2\r\n\r\n"
    )
    assert (prepared.origin, prepared.method, prepared.proxy) == (
        ("http", "example.com", 8080),
        "POST",
        None,
    )


_HEADER_NAMES = st.sampled_from(
    ["Accept", "Authorization", "User-Agent", "Idempotency-Key", "X-A", "x-b", "Content-Type"]
)
_HEADER_VALUES = st.sampled_from(["*/*", "Bearer sk-x", "a b", "", "\xe9t\xe9", "1"])


@given(
    method=st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]),
    url=st.sampled_from(
        ["http://example.com/v1/x?a=1", "https://h:8443/", "http://[::1]:81/p", "https://a.b"]
    ),
    headers=st.lists(st.tuples(_HEADER_NAMES, _HEADER_VALUES), max_size=6),
    body=st.sampled_from([None, b"", b"{}", b"x" * 300]),
)
def test_the_common_request_is_assembled_as_the_general_road_builds_it(
    method: str, url: str, headers: list[tuple[str, str]], body: bytes | None
) -> None:
    preparer = RequestPreparer(DIRECT)
    for _ in range(2):  # the second time from what the preparer remembered
        fast = preparer.prepare(method, url, list(headers), body)
        parts = preparer._split(url)
        general = preparer._prepare(
            method, url, list(headers), body, parts.origin, parts.host_header, parts.target, None
        )
        for name in ("method", "target", "headers", "chunked", "length", "keep_alive", "head"):
            assert getattr(fast.head, name) == getattr(general.head, name), name
        assert (fast.origin, fast.method, fast.body, fast.replayable) == (
            general.origin,
            general.method,
            general.body,
            general.replayable,
        )


@pytest.mark.parametrize(
    ("method", "body", "framing"),
    [
        ("GET", None, None),
        ("POST", None, (b"Content-Length", b"0")),
        ("PUT", b"", (b"Content-Length", b"0")),
        ("DELETE", b"abc", (b"Content-Length", b"3")),
        ("GET", bytearray(b"ab"), (b"Content-Length", b"2")),
    ],
)
def test_in_memory_bodies_get_a_content_length(
    method: str, body: bytes | None, framing: tuple[bytes, bytes] | None
) -> None:
    prepared = RequestPreparer(DIRECT).prepare(method, "http://h/", None, body)
    added = [pair for pair in prepared.head.headers if pair[0] != b"Host"]
    assert added == ([framing] if framing else [])
    assert prepared.replayable


def test_a_streamed_body_is_chunked_and_an_iterator_is_not_replayable() -> None:
    async def gen() -> AsyncIterator[bytes]:
        yield b"x"

    body = gen()
    prepared = RequestPreparer(DIRECT).prepare("POST", "http://h/", None, body)
    assert prepared.head.chunked
    assert not prepared.replayable


def test_a_forwarding_proxy_gets_the_absolute_target_and_its_credentials() -> None:
    proxy = parse_proxy_url("http://user:pw@proxy.local:3128")
    preparer = RequestPreparer(ProxySettings(http=proxy, https=proxy))
    plain = preparer.prepare("GET", "http://example.com/a", None, None)
    assert plain.head.target == b"http://example.com/a"
    assert proxy.auth_header is not None
    credentials = proxy.auth_header.get_secret_value().encode()
    assert (b"Proxy-Authorization", credentials) in plain.head.headers
    tunnelled = preparer.prepare("GET", "https://example.com/a", None, None)
    assert tunnelled.head.target == b"/a"  # through a CONNECT tunnel: origin form
    assert all(name != b"Proxy-Authorization" for name, _ in tunnelled.head.headers)


@pytest.mark.parametrize("method", ["G ET", "", "GET\r\n", "caf\u00e9"])
def test_bad_methods_are_refused(method: str) -> None:
    with pytest.raises(InvalidRequestError, match="method"):
        RequestPreparer(DIRECT).prepare(method, "http://h/", None, None)


def test_what_repeats_is_remembered_per_preparer_and_forgotten_on_clear() -> None:
    preparer = RequestPreparer(DIRECT)
    for _ in range(3):
        preparer.prepare("GET", "http://h/", {"Authorization": "Bearer sk-x"}, None)
    assert preparer.remembered() == 3  # one URL, the Host and Authorization pairs
    assert RequestPreparer(DIRECT).remembered() == 0  # nothing shared between pools
    preparer.clear()
    assert preparer.remembered() == 0


async def test_bytes_body_must_match_an_explicit_content_length() -> None:
    async with raw_server([]) as server, Pool(timeouts=FAST) as pool:
        with pytest.raises(InvalidRequestError, match="Content-Length"):
            await pool.request(
                "POST",
                f"http://127.0.0.1:{server.port}/",
                body=b"abc",
                headers={"Content-Length": "4"},
            )
        assert server.connections == 0  # refused before connecting


async def test_a_wide_memoryview_body_is_counted_in_bytes() -> None:
    import array

    numbers = array.array("i", [1, 2, 3])
    async with raw_server([(OK, False), (OK, False)]) as server, Pool(timeouts=FAST) as pool:
        await pool.request("POST", f"http://127.0.0.1:{server.port}/", body=memoryview(numbers))  # type: ignore[arg-type]
        head, _, body = server.requests[0].partition(b"\r\n\r\n")
        assert b"Content-Length: 12" in head
        assert body == numbers.tobytes()
        await pool.request("POST", f"http://127.0.0.1:{server.port}/", body=memoryview(b"abc"))  # type: ignore[arg-type]
        head, _, body = server.requests[1].partition(b"\r\n\r\n")
        assert (b"Content-Length: 3" in head, body) == (True, b"abc")


async def test_an_explicit_chunked_header_frames_a_bytes_body_alone() -> None:
    async with raw_server([(OK, False)]) as server, Pool(timeouts=FAST) as pool:
        await pool.request(
            "POST",
            f"http://127.0.0.1:{server.port}/",
            body=b"hello",
            headers={"Transfer-Encoding": "chunked"},
        )
        head, _, body = server.requests[0].partition(b"\r\n\r\n")
        assert b"content-length" not in head.lower()
        assert body == b"5\r\nhello\r\n"  # (the server strips the final 0 chunk)


async def test_streamed_request_body_is_sent_chunked() -> None:
    async def body() -> AsyncIterator[bytes]:
        for i in range(50):
            yield b"%d," % i
            await trio.lowlevel.checkpoint()

    async with open_http_server() as server, Pool(timeouts=FAST) as pool:
        r = await pool.request("POST", server.base_url + "/upload", body=body())
        assert r.status == 200
        (req,) = server.requests
        assert req.header("transfer-encoding") == "chunked"
        assert req.body == b"".join(b"%d," % i for i in range(50))
        # an explicit content-length is honoured instead of chunking
        data = b"z" * 1000

        async def sized() -> AsyncIterator[bytes]:
            yield data[:500]
            yield data[500:]

        await pool.request(
            "PUT", server.base_url + "/", body=sized(), headers={"Content-Length": "1000"}
        )
        assert server.requests[-1].header("content-length") == "1000"
        assert server.requests[-1].body == data
