"""The pytest plugin: ``mock_openai`` and ``openai_client`` fixtures, the marker.

The plugin runs in an inner pytest session (pytester), loaded the way a project
would load it: by the ``pytest11`` entry point once the package declares it, and
otherwise through ``pytest_plugins`` in the inner ``conftest.py``.
"""

from __future__ import annotations

import importlib.util
from importlib.metadata import entry_points

import pytest

from trio_openai.testing import tls_contexts

pytest_plugins = ["pytester"]

PLUGIN = "trio_openai.testing._plugin"


@pytest.fixture(scope="module", autouse=True)
def _tls_loaded_before_pytester() -> None:
    """Load trustme and cryptography (all of it) before any pytester snapshot.

    The inner sessions run in this process, and pytester forgets the modules imported
    during a test when it ends. cryptography does not survive a second import: the TLS
    tests that run later would fail with "curve must be an EllipticCurve instance".
    """
    tls_contexts()


def _loaded_by_entry_point() -> bool:
    return any(ep.value.split(":")[0] == PLUGIN for ep in entry_points(group="pytest11"))


INNER_TESTS = """
import msgspec
import pytest

from trio_openai._http._pool import Pool


async def test_server_fixture(mock_openai):
    assert mock_openai.base_url.endswith("/v1")
    async with Pool() as pool:
        r = await pool.request(
            "GET", mock_openai.base_url + "/models",
            headers={"authorization": "Bearer " + mock_openai.api_key},
        )
    assert r.status == 200
    assert mock_openai.stats.requests == 1


@pytest.mark.mock_openai(rate_limits={"rpm": 1}, seed=5, api_key="sk-other")
async def test_marker_options(mock_openai):
    assert mock_openai.seed == 5
    assert mock_openai.api_key == "sk-other"
    assert mock_openai.rate_limits.rpm == 1


async def test_client_fixture(openai_client, mock_openai):
    assert openai_client.base_url == mock_openai.base_url
    listing = await openai_client.request("GET", "/models")
    assert "gpt-4o-mini" in [m["id"] for m in listing["data"]]
    (record,) = mock_openai.requests
    assert record.headers["authorization"] == "<redacted>"  # checked, then dropped


@pytest.mark.mock_openai(tls=True)
async def test_client_fixture_over_tls(openai_client, mock_openai):
    assert mock_openai.base_url.startswith("https://")
    listing = await openai_client.request("GET", "/models")
    assert listing["object"] == "list"
"""


def test_fixtures_and_marker(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        "[pytest]\ntrio_mode = true\naddopts = --strict-markers\nfilterwarnings = error\n"
    )
    if not _loaded_by_entry_point():
        pytester.makeconftest(f"pytest_plugins = [{PLUGIN!r}]\n")
    pytester.makepyfile(test_inner=INNER_TESTS)
    result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider")
    if importlib.util.find_spec("trio_openai._client") is None:
        result.assert_outcomes(passed=2, skipped=2)
    else:
        result.assert_outcomes(passed=4)


def test_marker_is_registered(pytester: pytest.Pytester) -> None:
    if not _loaded_by_entry_point():
        pytester.makeconftest(f"pytest_plugins = [{PLUGIN!r}]\n")
    result = pytester.runpytest_inprocess("--markers", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["@pytest.mark.mock_openai(**options)*"])
