"""Tests of _url: splitting absolute http(s) URLs, refusing the rest before sending."""

from __future__ import annotations

import pytest

from trio_openai._http import InvalidRequestError, Pool
from trio_openai._http._url import split_url


@pytest.mark.parametrize(
    ("url", "origin", "host", "target"),
    [
        ("http://127.0.0.1:8000/v1", ("http", "127.0.0.1", 8000), "127.0.0.1:8000", "/v1"),
        ("https://api.example.com", ("https", "api.example.com", 443), "api.example.com", "/"),
        (
            "https://api.example.com:443/a?b=c#frag",
            ("https", "api.example.com", 443),
            "api.example.com",
            "/a?b=c",
        ),
        ("HTTP://Example.COM:80/x", ("http", "example.com", 80), "example.com", "/x"),
        ("http://[::1]:9/p", ("http", "::1", 9), "[::1]:9", "/p"),
        ("https://[::1]/p", ("https", "::1", 443), "[::1]", "/p"),
    ],
)
def test_split_gives_origin_host_header_and_target(
    url: str, origin: tuple[str, str, int], host: str, target: str
) -> None:
    assert split_url(url) == (origin, host, target)


def test_credentials_in_the_url_are_refused_without_echoing_them() -> None:
    with pytest.raises(InvalidRequestError, match="credentials") as info:
        split_url("https://user:hunter2@api.example.com/")
    assert "hunter2" not in str(info.value)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://127.0.0.1/x", "scheme 'ftp' is not supported"),
        ("127.0.0.1:8000/v1", "has no scheme"),
        ("localhost:8000/v1", "has no scheme"),
        ("unix://socket/path", "scheme 'unix' is not supported"),
        ("http:///nohost", "has no host"),
        ("http://127.0.0.1:99999999/", "not a valid URL"),
        ("http://[::1/", "not a valid URL"),
        ("/just/a/path", "has no scheme"),
    ],
)
async def test_bad_urls_are_rejected_before_anything_is_sent(url: str, message: str) -> None:
    async with Pool() as pool:
        with pytest.raises(InvalidRequestError, match=message.replace("(", r"\(")):
            await pool.request("GET", url)
        assert pool.statistics().connections_created == 0


async def test_a_url_that_is_not_a_str_is_refused() -> None:
    async with Pool() as pool:
        with pytest.raises(InvalidRequestError, match="must be a str"):
            await pool.request("GET", b"http://127.0.0.1/")  # type: ignore[arg-type]
        with pytest.raises(InvalidRequestError, match="ASCII"):
            await pool.request("GET", "http://127.0.0.1/caf\u00e9")
