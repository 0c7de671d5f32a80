"""TLS through the pool: verification on by default, CA files, mutual TLS."""

from __future__ import annotations

import ssl

import pytest
import trustme

import trio_openai
from trio_openai._config import Timeouts
from trio_openai._http import ConnectError, InsecureRequestWarning, Pool, TLSError, TransportError
from trio_openai._http._transport import TLSTransport
from trio_openai.testing import client_context, open_http_server, server_context

FAST = Timeouts(connect=5, read=5, write=5, pool=5)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


async def test_tls_succeeds_with_the_trusted_ca_file(ca: trustme.CA) -> None:
    async with open_http_server(ssl_context=server_context(ca)) as server:
        assert server.base_url.startswith("https://")
        with ca.cert_pem.tempfile() as ca_file:
            async with Pool(verify=ca_file, timeouts=FAST) as pool:
                for _ in range(3):
                    r = await pool.request("GET", server.base_url + "/v1/models")
                    assert r.status == 200
                assert server.statistics().connections_opened == 1


async def test_a_new_connection_resumes_the_origins_tls_session(ca: trustme.CA) -> None:
    from trio_openai._config import PoolLimits

    no_idle = PoolLimits(max_idle_per_host=0)  # every request on a new connection
    async with (
        open_http_server(ssl_context=server_context(ca)) as server,
        Pool(verify=client_context(ca), timeouts=FAST, limits=no_idle) as pool,
    ):
        resumed = []
        for _ in range(3):
            async with pool.stream("GET", server.base_url + "/v1/models") as response:
                await response.read()
                transport = response._conn._transport
                assert isinstance(transport, TLSTransport)
                resumed.append(transport.ssl_object.session_reused)
        assert resumed == [False, True, True]
        assert server.statistics().connections_opened == 3
    # Sessions are secrets: a closed pool forgets them.
    assert pool._get_dialer().tls_sessions == {}


async def test_tls_succeeds_with_an_ssl_context(ca: trustme.CA) -> None:
    async with (
        open_http_server(ssl_context=server_context(ca)) as server,
        Pool(verify=client_context(ca), timeouts=FAST) as pool,
    ):
        assert (await pool.request("GET", server.base_url + "/")).status == 200


async def test_tls_fails_clearly_without_the_ca(ca: trustme.CA) -> None:
    async with (
        open_http_server(ssl_context=server_context(ca)) as server,
        Pool(timeouts=FAST) as pool,
    ):
        with pytest.raises(TLSError, match="certificate verif") as info:
            await pool.request("GET", server.base_url + "/")
        assert isinstance(info.value, ConnectError)
        assert info.value.phase == "tls"
        assert pool.statistics().open == 0
        assert server.requests == []


async def test_hostname_is_checked(ca: trustme.CA) -> None:
    ctx = server_context(ca, identities=("api.example.org",))
    async with open_http_server(ssl_context=ctx) as server:
        with ca.cert_pem.tempfile() as ca_file:
            async with Pool(verify=ca_file, timeouts=FAST) as pool:
                with pytest.raises(TLSError, match="(?i)hostname|IP address mismatch"):
                    await pool.request("GET", server.base_url + "/")


async def test_verify_false_still_encrypts(ca: trustme.CA) -> None:
    with pytest.warns(InsecureRequestWarning):
        pool = Pool(verify=False, timeouts=FAST)
    async with open_http_server(ssl_context=server_context(ca)) as server, pool:
        assert (await pool.request("GET", server.base_url + "/")).status == 200


def test_turning_verification_off_warns_once_per_client() -> None:
    with pytest.warns(InsecureRequestWarning, match="verify=False") as record:
        client = trio_openai.Client(api_key="sk-test", verify=False)
    assert len(record) == 1
    assert record[0].filename == __file__  # it points at the line that built the client
    assert issubclass(InsecureRequestWarning, UserWarning)
    assert trio_openai.InsecureRequestWarning is InsecureRequestWarning
    unverified = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    unverified.check_hostname = False
    unverified.verify_mode = ssl.CERT_NONE
    with pytest.warns(InsecureRequestWarning, match="does not verify"):
        trio_openai.Client(api_key="sk-test", verify=unverified)
    with pytest.warns(InsecureRequestWarning):
        Pool(verify=False)
    # with_options views share the client's pool: no new warning (filterwarnings=error)
    client.with_options(max_retries=5)
    # verification on: no warning
    trio_openai.Client(api_key="sk-test")
    trio_openai.Client(api_key="sk-test", verify=ssl.create_default_context())


async def test_mutual_tls_with_a_client_certificate(ca: trustme.CA) -> None:
    ctx = server_context(ca, require_client_cert=True)
    client_cert = ca.issue_cert("client.example.org")
    async with open_http_server(ssl_context=ctx) as server:
        with (
            ca.cert_pem.tempfile() as ca_file,
            client_cert.private_key_and_cert_chain_pem.tempfile() as pem,
        ):
            async with Pool(verify=ca_file, cert=pem, timeouts=FAST) as pool:
                assert (await pool.request("GET", server.base_url + "/")).status == 200
            # without the certificate the server refuses the handshake
            async with Pool(verify=ca_file, timeouts=FAST) as pool:
                with pytest.raises(TransportError) as info:
                    await pool.request("GET", server.base_url + "/")
                assert pool.statistics().open == 0
                assert "certificate" in str(info.value).lower()


def test_missing_ca_file_is_a_clear_error_at_construction() -> None:
    with pytest.raises(FileNotFoundError, match="does-not-exist.pem"):
        Pool(verify="/nonexistent/does-not-exist.pem")


def test_missing_client_cert_is_a_clear_error() -> None:
    from trio_openai._http._tls import create_ssl_context

    with pytest.raises(FileNotFoundError, match="cert: file"):
        create_ssl_context(True, "/nonexistent/client.pem")
