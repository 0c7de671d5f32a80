"""What an error may show, sans-IO: secrets scrubbed, text bounded, headers redacted.

The errors' own tests (``test_errors.py``) check the same rules through the public
mappers; these pin the helpers one by one."""

from __future__ import annotations

import pickle

import pytest

from trio_openai._error_text import (
    MAX_BODY_BYTES,
    REDACTED,
    ErrorHeaders,
    as_headers,
    decode_body,
    details,
    excerpt,
    is_secret_field,
    scrub,
    server_message,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer sk-abc123def", f"Authorization: Bearer {REDACTED}"),
        ("key sk-abcdef123456 leaked", f"key sk-{REDACTED} leaked"),
        ("masked sk-proj-****abcd stays", "masked sk-proj-****abcd stays"),
        ("via http://user:pw@proxy:3128", f"via http://{REDACTED}@proxy:3128"),
        ("nothing secret", "nothing secret"),
    ],
)
def test_scrub_removes_tokens_keys_and_user_info(text: str, expected: str) -> None:
    assert scrub(text) == expected


@pytest.mark.parametrize(
    ("field", "secret"),
    [
        ("api_key", True),
        ("client_secret", True),
        ("messages[0].password", True),
        ("extra.access-key", True),
        ("token", True),
        ("max_tokens", False),
        ("model", False),
        ("messages[0]", False),
    ],
)
def test_secret_fields_are_told_by_their_last_component(field: str, secret: bool) -> None:
    assert is_secret_field(field) is secret


def test_excerpt_is_one_bounded_printable_line_without_tags() -> None:
    assert excerpt("<html><body><h1>Bad gateway</h1></body></html>") == "Bad gateway"
    assert excerpt("a\nb\tc\x00d") == "a b c d"
    long = excerpt("x" * 1000, limit=10)
    assert len(long) == 10
    assert long.endswith("\u2026")


def test_server_message_is_scrubbed_and_needs_text() -> None:
    assert server_message("  Bearer abc  ") == f"Bearer {REDACTED}"
    assert server_message("   ") is None
    assert server_message(42) is None


def test_decode_body_reads_json_text_or_nothing_within_the_cap() -> None:
    assert decode_body(b'{"a": 1}') == ({"a": 1}, '{"a": 1}')
    assert decode_body(b"plain") == ("plain", "plain")
    assert decode_body(b"  ") == (None, "")
    value, text = decode_body(b"x" * (MAX_BODY_BYTES + 10))
    assert len(text) == MAX_BODY_BYTES
    assert value == text


def test_details_suffix_leaves_out_what_is_missing_or_repeated() -> None:
    assert details() == ""
    assert details(status=429, type="tokens", code="tokens", request_id="req_1") == (
        " (status: 429; type: tokens; request id: req_1)"
    )


def test_error_headers_redact_join_and_survive_pickling() -> None:
    headers = ErrorHeaders(
        [(b"Set-Cookie", b"a=1"), ("X-Thing", "1"), ("x-thing", "2"), ("Authorization", "k")]
    )
    assert dict(headers) == {"set-cookie": REDACTED, "x-thing": "1, 2", "authorization": REDACTED}
    assert headers["X-THING"] == "1, 2"
    assert as_headers(headers) is headers
    copy = pickle.loads(pickle.dumps(headers))
    assert dict(copy) == dict(headers)
