"""Proxies through the pool: CONNECT tunnels for https, absolute form for http, env."""

from __future__ import annotations

import base64

import pytest
import trustme

from trio_openai._config import Timeouts
from trio_openai._http import InvalidRequestError, Pool, ProxyError
from trio_openai._http._proxy import ProxySettings, parse_proxy_url
from trio_openai.testing import open_connect_proxy, open_http_server, server_context

FAST = Timeouts(connect=5, read=5, write=5, pool=5)


async def test_https_goes_through_a_connect_tunnel() -> None:
    ca = trustme.CA()
    async with (
        open_http_server(ssl_context=server_context(ca)) as server,
        open_connect_proxy() as proxy,
    ):
        with ca.cert_pem.tempfile() as ca_file:
            async with Pool(verify=ca_file, proxy=proxy.url, timeouts=FAST) as pool:
                for _ in range(3):
                    r = await pool.request("GET", server.base_url + "/v1/models")
                    assert r.status == 200
        stats = proxy.statistics()
        assert stats.tunnels_opened == 1  # one tunnel, kept alive across requests
        assert stats.requests_seen == [f"127.0.0.1:{server.port}"]
        assert server.statistics().requests == 3


async def test_proxy_credentials_come_from_the_url() -> None:
    ca = trustme.CA()
    async with (
        open_http_server(ssl_context=server_context(ca)) as server,
        open_connect_proxy(auth=("alice", "s3cret")) as proxy,
    ):
        port = proxy.url.rsplit(":", 1)[1]
        with ca.cert_pem.tempfile() as ca_file:
            good = f"http://alice:s3cret@127.0.0.1:{port}"
            async with Pool(verify=ca_file, proxy=good, timeouts=FAST) as pool:
                assert (await pool.request("GET", server.base_url + "/")).status == 200
            bad = f"http://alice:wrong@127.0.0.1:{port}"
            async with Pool(verify=ca_file, proxy=bad, timeouts=FAST) as pool:
                with pytest.raises(ProxyError, match="407") as info:
                    await pool.request("GET", server.base_url + "/")
                assert "wrong" not in str(info.value)
                assert pool.statistics().open == 0
        assert proxy.statistics().auth_failures == 1


async def test_plain_http_is_forwarded_in_absolute_form() -> None:
    async with open_http_server() as server, open_connect_proxy() as proxy:
        async with Pool(proxy=proxy.url, timeouts=FAST) as pool:
            r = await pool.request("GET", server.base_url + "/v1/x?y=1")
            assert r.status == 200
        assert proxy.statistics().forwarded == [server.base_url + "/v1/x?y=1"]
        assert server.requests[0].path == "/v1/x"


async def test_proxy_from_environment_and_no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    async with open_http_server() as server, open_connect_proxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.delenv("http_proxy", raising=False)
        monkeypatch.setenv("NO_PROXY", "")
        async with Pool(timeouts=FAST) as pool:
            await pool.request("GET", server.base_url + "/")
        assert len(proxy.statistics().forwarded) == 1
        monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.0/8")
        async with Pool(timeouts=FAST) as pool:
            await pool.request("GET", server.base_url + "/")
        assert len(proxy.statistics().forwarded) == 1  # bypassed
        async with Pool(timeouts=FAST, trust_env=False) as pool:
            monkeypatch.setenv("NO_PROXY", "")
            await pool.request("GET", server.base_url + "/")
        assert len(proxy.statistics().forwarded) == 1


@pytest.mark.parametrize(
    ("entries", "host", "port", "excluded"),
    [
        ("*", "api.openai.com", 443, True),
        ("openai.com", "api.openai.com", 443, True),
        (".openai.com", "api.openai.com", 443, True),
        ("openai.com", "notopenai.com", 443, False),
        ("api.openai.com:8443", "api.openai.com", 443, False),
        ("api.openai.com:443", "api.openai.com", 443, True),
        ("10.0.0.0/8", "10.1.2.3", 80, True),
        ("10.0.0.0/8", "11.1.2.3", 80, False),
        ("::1", "::1", 80, True),
        ("", "api.openai.com", 443, False),
    ],
)
def test_no_proxy_matching(entries: str, host: str, port: int, excluded: bool) -> None:
    settings = ProxySettings(https=parse_proxy_url("http://p:3128"), no_proxy=entries)
    assert (settings.for_origin("https", host, port) is None) is excluded


def test_proxy_url_rules() -> None:
    url = parse_proxy_url("http://user:p%40ss@proxy.local:3128")
    assert (url.host, url.port) == ("proxy.local", 3128)
    assert "p@ss" not in repr(url) and "user" not in repr(url)
    assert parse_proxy_url("proxy.local").port == 80
    with pytest.raises(InvalidRequestError, match="socks5"):
        parse_proxy_url("socks5://proxy:1080")


def test_proxy_credentials_never_show_in_repr_str_or_rich() -> None:
    import rich.pretty

    url = parse_proxy_url("http://alice:hunter2@proxy.local:3128")
    secret_b64 = base64.b64encode(b"alice:hunter2").decode()
    settings = ProxySettings.explicit("http://alice:hunter2@proxy.local:3128")
    shown = [
        repr(url),
        str(url),
        rich.pretty.pretty_repr(url),
        rich.pretty.pretty_repr([url, {"proxy": url}]),
        rich.pretty.pretty_repr(settings.for_origin("https", "api.example", 443)),
        repr(url.auth_header),
    ]
    for text in shown:
        assert "hunter2" not in text
        assert secret_b64 not in text
        assert "Basic" not in text
    assert "proxy.local" in rich.pretty.pretty_repr(url)
    # the credentials are still there for the Proxy-Authorization header
    assert url.auth_header is not None
    assert url.auth_header.get_secret_value() == f"Basic {secret_b64}"
