"""Dialling: an IP address is connected directly, a host name through trio.

The pool opens connections with ``_transport.connect_tcp``: an IP literal gets one
non-blocking ``connect`` (no resolver, no happy-eyeballs nursery), anything else goes
through ``trio.open_tcp_stream``. Both must give a tuned socket, respect the connect
limit, and leave no descriptor behind when they fail or are cancelled.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import pytest
import trio
import trio.testing

from trio_openai import PoolLimits, Timeouts
from trio_openai._http import ConnectError, ConnectTimeout, Pool
from trio_openai._http._transport import connect_tcp, ip_family


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.fixture
def full_listener() -> Iterator[tuple[str, int]]:
    """A listening socket that is never accepted from, its queue already full: a
    further connect waits for ever (Linux drops the SYN), like a host that does not
    answer."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    host, port = listener.getsockname()
    filler = socket.create_connection((host, port))  # takes the one queue place
    try:
        yield host, port
    finally:
        filler.close()
        listener.close()


@pytest.mark.parametrize(
    ("host", "family"),
    [
        ("127.0.0.1", socket.AF_INET),
        ("::1", socket.AF_INET6),
        ("2001:db8::7", socket.AF_INET6),
        ("localhost", None),
        ("api.openai.com", None),
        ("127.1", None),  # inet_aton would take it; a URL host this short is a name
        ("", None),
    ],
)
def test_only_ip_literals_are_dialled_directly(host: str, family: int | None) -> None:
    assert ip_family(host) == family


async def test_an_ip_address_gets_a_connected_tuned_nonblocking_socket() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    try:
        sock = await connect_tcp(*listener.getsockname())
        with sock:
            assert sock.getpeername() == listener.getsockname()
            assert sock.getblocking() is False
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        listener.close()


async def test_a_refused_connection_raises_oserror_and_leaks_nothing() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    before = _open_fds()
    with pytest.raises(OSError) as info:
        await connect_tcp("127.0.0.1", port)
    assert info.value.errno == 111 or "refused" in str(info.value).lower()
    assert _open_fds() == before


async def test_the_pool_names_a_refused_ip_address() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    async with Pool(timeouts=Timeouts(connect=5, read=5, write=5, pool=5)) as pool:
        with pytest.raises(ConnectError, match=f"could not connect to 127.0.0.1:{port}"):
            await pool.request("GET", f"http://127.0.0.1:{port}/")


async def test_a_cancelled_dial_closes_its_socket(full_listener: tuple[str, int]) -> None:
    before = _open_fds()
    with trio.move_on_after(1) as scope:
        await connect_tcp(*full_listener)
    assert scope.cancelled_caught
    assert _open_fds() == before


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_the_connect_limit_holds_on_both_roads(
    full_listener: tuple[str, int], host: str, autojump_clock: trio.testing.MockClock
) -> None:
    _, port = full_listener
    before = _open_fds()
    timeouts = Timeouts(connect=2.5, read=5, write=5, pool=5)
    async with Pool(timeouts=timeouts, limits=PoolLimits(tcp_keepalive=None)) as pool:
        start = trio.current_time()
        with pytest.raises(ConnectTimeout):
            await pool.request("GET", f"http://{host}:{port}/")
        assert trio.current_time() - start == pytest.approx(2.5)
        assert pool.statistics().open == 0
    if host == "127.0.0.1":
        # (A host name is resolved in a worker thread that trio abandons when the
        # limit passes first; what it holds is the resolver's, not the pool's.)
        assert _open_fds() == before
