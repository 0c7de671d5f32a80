"""What the mock server records of each request (``RequestRecord``), credentials hidden."""

from __future__ import annotations

from typing import TYPE_CHECKING

from _mock_helpers import CHAT, KEY, send

from trio_openai._http._models import SENSITIVE_HEADERS
from trio_openai.testing import RequestRecord

if TYPE_CHECKING:
    from trio_openai._http._pool import Pool
    from trio_openai.testing import MockOpenAIServer


async def test_requests_are_recorded_with_redacted_auth(
    server: MockOpenAIServer, pool: Pool
) -> None:
    await send(pool, server, "POST", "/chat/completions?x=1&y=2", CHAT)
    (record,) = server.requests
    assert record.method == "POST"
    assert record.path == "/v1/chat/completions"
    assert record.query == {"x": "1", "y": "2"}
    assert record.headers["authorization"] == f"Bearer {KEY}"
    assert record.json == CHAT
    assert record.status == 200
    assert KEY not in repr(record)
    assert KEY not in repr(record.headers)
    assert "<redacted>" in repr(record.headers)


def test_every_credential_header_is_redacted_in_the_repr() -> None:
    names = [*SENSITIVE_HEADERS, "openai-api-key"]
    headers = {name: f"secret-{i}" for i, name in enumerate(names)}
    record = RequestRecord(
        "GET", "/v1/models", "a=1&a=2", {**headers, "x-other": "shown"}, b"", "r"
    )
    shown = repr(record.headers)
    assert all(f"secret-{i}" not in shown for i in range(len(names)))
    assert shown.count("<redacted>") == len(names)
    assert "shown" in shown
    assert record.headers["api-key"] == headers["api-key"]  # the dict keeps the values
    assert record.query == {"a": "2"}  # a repeated name keeps its last value
