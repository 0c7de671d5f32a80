"""Tests of _headers: what we send is checked before sending; credentials are not kept.

The pairs a pool has checked (``Authorization`` among them) are remembered by that
pool only, bounded, and forgotten when it closes: no module-level state holds them.
"""

from __future__ import annotations

import gc
import sys
import types
from collections.abc import Iterable

import pytest
from hypothesis import given
from hypothesis import strategies as st

import trio_openai
from trio_openai._http import InvalidRequestError, Pool
from trio_openai._http._grammar import FIELD_VALUE_SENT_STR
from trio_openai._http._headers import HeaderEncoder, _value_ok
from trio_openai.testing import Request, Response, open_http_server

KEY = "sk-test-NOT-KEPT-0123456789"
MODEL = b'{"id": "m", "object": "model", "created": 1, "owned_by": "o"}'
# What is not walked into: code, classes, modules, and running frames (a test's own
# locals hold the key, legitimately).
OPAQUE = (
    type,
    types.ModuleType,
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodType,
    types.CodeType,
    types.FrameType,
    types.CoroutineType,
    types.GeneratorType,
    types.AsyncGeneratorType,
)


def holds(roots: Iterable[object], secret: str, limit: int = 200_000) -> bool:
    """Whether a string or bytes containing ``secret`` is reachable from ``roots``."""
    needle = secret.encode()
    seen: set[int] = set()
    stack = list(roots)
    while stack and len(seen) < limit:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, OPAQUE):
            continue
        seen.add(id(obj))
        if isinstance(obj, str):
            if secret in obj:
                return True
        elif isinstance(obj, (bytes, bytearray)):
            if needle in obj:
                return True
        else:
            stack.extend(gc.get_referents(obj))
    return False


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"x-evil": "a\r\nInjected: yes"}, "x-evil"),
        ({"x-evil": "a\nb"}, "CR, LF"),
        ({"bad name": "v"}, "not a valid HTTP token"),
        ({"x-uni": "caf\u00e9\u2603"}, "latin-1"),
        ({"x-del": "a\x7fb"}, "control character"),
        ({"x-ctl": "a\x01b"}, "control character"),
        ({"x-pad": " a"}, "surrounding whitespace"),
        ([("x-a", 1)], "must be str"),
    ],
)
async def test_bad_headers_are_rejected_before_anything_is_sent(
    headers: dict[str, str], message: str
) -> None:
    async with open_http_server() as server, Pool() as pool:
        with pytest.raises(InvalidRequestError, match=message):
            await pool.request("GET", server.base_url + "/", headers=headers)
        assert server.statistics().connections_opened == 0
        assert server.requests == []


async def test_del_in_a_header_value_is_a_validation_error_from_the_client() -> None:
    async with (
        open_http_server() as server,
        trio_openai.Client(api_key=KEY, base_url=server.base_url + "/v1") as client,
    ):
        with pytest.raises(trio_openai.ValidationError, match="x-del"):
            await client.models.retrieve("m", extra_headers={"x-del": "a\x7fb"})
        assert server.requests == []


def test_the_encoder_remembers_each_pair_once_within_its_bound() -> None:
    encoder = HeaderEncoder(size=2)
    pairs = [("Accept", "*/*"), ("Authorization", "Bearer x")]
    assert encoder.encode(pairs) == [(b"Accept", b"*/*"), (b"Authorization", b"Bearer x")]
    assert encoder.encode(pairs) == encoder.encode(list(pairs))
    assert len(encoder) == 2
    encoder.encode([("X-A", "1")])  # full: the memory starts afresh
    assert len(encoder) == 1
    encoder.clear()
    assert len(encoder) == 0


@given(
    st.text(alphabet=st.characters(max_codepoint=0x17F), max_size=8)
    | st.text(alphabet=" \t!~ax\x7f\x80\xff", max_size=8)
)
def test_the_quick_value_check_is_the_grammar(value: str) -> None:
    assert _value_ok(value) == (FIELD_VALUE_SENT_STR.fullmatch(value) is not None)


def test_a_header_whose_value_changes_on_every_request_is_not_remembered() -> None:
    encoder = HeaderEncoder()
    steady = ("Authorization", "Bearer x")
    for i in range(100):
        key = f"key-{i}"
        assert encoder.encode([steady, ("Idempotency-Key", key)]) == [
            (b"Authorization", b"Bearer x"),
            (b"Idempotency-Key", key.encode()),
        ]
    # A few keys were remembered before the name counted as volatile; then no more,
    # and the steady pair was never pushed out.
    assert len(encoder) <= 1 + 16
    assert encoder.encode([steady]) == [(b"Authorization", b"Bearer x")]
    with pytest.raises(InvalidRequestError, match="Idempotency-Key"):
        encoder.encode([("Idempotency-Key", "bad\x01")])  # still checked every time


async def test_a_closed_pool_and_the_modules_hold_no_credential() -> None:
    async def handler(request: Request) -> Response:
        return Response(headers=[("content-type", "application/json")], body=MODEL)

    async with open_http_server(handler) as server:
        client = trio_openai.Client(api_key=KEY, base_url=server.base_url + "/v1")
        async with client:
            for _ in range(3):
                await client.models.retrieve("m")
            assert holds([client.pool], KEY)  # (the walk does find it while open)
        assert not holds([client.pool], KEY)
    modules = [m for name, m in sys.modules.items() if name.startswith("trio_openai")]
    assert not holds([value for m in modules for value in vars(m).values()], KEY)
