"""The exception tree and its sans-IO mappers: status -> class, body -> attributes,
transport error -> connection error, stream event -> APIError; secrets never shown."""

from __future__ import annotations

import ast
import email.utils
import json
import os
import pickle
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trio_openai import _classify, errors
from trio_openai._error_map import map_error, map_stream_error, map_transport_error
from trio_openai._http import _exceptions as tx
from trio_openai._resilience._retry import classify_exception
from trio_openai.errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    CircuitOpenError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    OpenAIError,
    PermissionDeniedError,
    Problem,
    RateLimitError,
    UnprocessableEntityError,
    ValidationError,
)

NOW = 1_700_000_000.0


def openai_body(
    message: str = "Something is wrong.",
    *,
    type: str | None = "invalid_request_error",
    code: str | None = None,
    param: str | None = None,
) -> bytes:
    return json.dumps(
        {"error": {"message": message, "type": type, "param": param, "code": code}}
    ).encode()


# --- status -> class -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (405, APIStatusError),
        (408, APIStatusError),
        (409, ConflictError),
        (418, APIStatusError),
        (422, UnprocessableEntityError),
        (429, RateLimitError),
        (451, APIStatusError),
        (500, InternalServerError),
        (502, InternalServerError),
        (503, InternalServerError),
        (504, InternalServerError),
        (599, InternalServerError),
    ],
)
def test_status_picks_the_class(status: int, cls: type[APIStatusError]) -> None:
    err = map_error(status, {}, openai_body())
    assert type(err) is cls
    assert isinstance(err, APIStatusError)
    assert isinstance(err, APIError)
    assert isinstance(err, OpenAIError)
    assert err.status_code == status
    assert str(err).startswith(f"Error code: {status} - Something is wrong.")


def test_hierarchy_matches_the_sdk_names() -> None:
    assert issubclass(APITimeoutError, APIConnectionError)
    assert issubclass(APIConnectionError, APIError)
    assert issubclass(APIResponseValidationError, APIError)
    assert issubclass(CircuitOpenError, APIError)
    assert issubclass(ValidationError, OpenAIError)
    assert issubclass(ValidationError, ValueError)
    assert not issubclass(APIConnectionError, APIStatusError)


def test_status_classes_can_be_built_by_hand_for_tests() -> None:
    assert RateLimitError("slow down").status_code == 429
    assert InternalServerError("boom").status_code == 500
    assert APIStatusError("teapot", status_code=418).status_code == 418
    with pytest.raises(TypeError, match="status_code"):
        APIStatusError("no status")


# --- bodies ----------------------------------------------------------------------------


def test_openai_error_body_fills_the_attributes() -> None:
    body = openai_body(
        "Invalid value for 'temperature': expected a number between 0 and 2.",
        type="invalid_request_error",
        param="temperature",
        code="invalid_value",
    )
    err = map_error(400, {"x-request-id": "req_abc"}, body)
    assert err.message == str(err)
    assert "Invalid value for 'temperature'" in err.message
    assert err.type == "invalid_request_error"
    assert err.code == "invalid_value"
    assert err.param == "temperature"
    assert err.request_id == "req_abc"
    assert "req_abc" in err.message
    assert err.body == {
        "message": "Invalid value for 'temperature': expected a number between 0 and 2.",
        "type": "invalid_request_error",
        "param": "temperature",
        "code": "invalid_value",
    }


def test_reference_error_example_maps_to_bad_request() -> None:
    ref = os.environ.get("TRIO_OPENAI_REFERENCE")
    if not ref:
        pytest.skip("set TRIO_OPENAI_REFERENCE=/path/to/shared/reference to run")
    body = (Path(ref) / "examples" / "error.response.json").read_bytes()
    err = map_error(400, [("x-request-id", "req_1")], body)
    assert type(err) is BadRequestError
    assert err.param == "temperature"
    assert err.type == "invalid_request_error"
    assert err.code is None
    assert isinstance(err.body, dict)
    assert err.body["param"] == "temperature"


def test_html_body_is_kept_as_text_with_a_short_readable_message() -> None:
    page = (
        b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
        b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
        b"</body>\r\n</html>\r\n" + b"<!-- padding -->" * 500
    )
    err = map_error(502, {"content-type": "text/html"}, page)
    assert type(err) is InternalServerError
    assert err.body == page.decode()
    assert err.message.startswith("Error code: 502 - 502 Bad Gateway")
    assert "<" not in err.message
    assert "\n" not in err.message
    assert len(err.message) < 400
    assert err.type is None
    assert err.code is None
    assert err.param is None


def test_json_without_error_key_is_kept_whole() -> None:
    err = map_error(404, {}, b'{"detail": "Not Found", "hint": 3}')
    assert err.body == {"detail": "Not Found", "hint": 3}
    assert err.message.startswith("Error code: 404 - Not Found")
    assert err.type is None


def test_json_array_body_is_kept_and_quoted_in_the_message() -> None:
    err = map_error(400, {}, b"[1, 2, 3]")
    assert err.body == [1, 2, 3]
    assert "[1, 2, 3]" in err.message


def test_error_given_as_a_string_becomes_the_message() -> None:
    err = map_error(401, {}, b'{"error": "invalid token"}')
    assert err.body == {"error": "invalid token"}
    assert "invalid token" in err.message


def test_numeric_error_code_is_kept_as_text() -> None:
    err = map_error(400, {}, b'{"error": {"message": "bad", "code": 1234}}')
    assert err.code == "1234"


def test_inner_error_without_message_falls_back_to_the_body_text() -> None:
    err = map_error(500, {}, b'{"error": {"type": "server_error"}}')
    assert err.type == "server_error"
    assert err.message.startswith("Error code: 500 - ")
    assert "server_error" in err.message


@pytest.mark.parametrize("body", [b"", b"   \r\n"])
def test_empty_body_gives_the_status_phrase(body: bytes) -> None:
    err = map_error(503, {"x-request-id": "req_e"}, body)
    assert err.body is None
    assert err.message == "Error code: 503 (Service Unavailable) (request id: req_e)"


def test_unknown_status_without_body() -> None:
    err = map_error(599, {}, b"")
    assert err.message == "Error code: 599"


def test_invalid_utf8_body_is_tolerated() -> None:
    err = map_error(500, {}, b"\xff\xfe oops \xc3")
    assert isinstance(err.body, str)
    assert "oops" in err.body
    assert "\ufffd" in err.body


def test_invalid_utf8_inside_json_string_is_tolerated() -> None:
    err = map_error(400, {}, b'{"error": {"message": "bad \xff byte"}}')
    assert isinstance(err.body, str)
    assert "bad" in err.message


def test_huge_body_gives_a_bounded_message() -> None:
    err = map_error(500, {}, b"x" * (5 * 1024 * 1024))
    assert isinstance(err.body, str)
    assert len(err.body) <= 1024 * 1024
    assert len(err.message) < 400


def test_deeply_nested_json_is_kept_as_text() -> None:
    body = b"[" * 100_000
    err = map_error(500, {}, body)
    assert isinstance(err.body, str)


def test_long_server_message_is_capped() -> None:
    err = map_error(400, {}, openai_body("m" * 50_000))
    assert len(err.message) < 2200


@given(
    status=st.integers(min_value=100, max_value=999),
    headers=st.lists(st.tuples(st.text(max_size=20), st.text(max_size=40)), max_size=5),
    body=st.binary(max_size=300),
)
def test_map_error_never_raises(status: int, headers: list[tuple[str, str]], body: bytes) -> None:
    err = map_error(status, headers, body, now=NOW)
    assert isinstance(err, APIStatusError)
    assert err.status_code == status
    assert err.message.startswith(f"Error code: {status}")


# --- request id and headers --------------------------------------------------------------


def test_request_id_header_is_found_in_any_case_and_form() -> None:
    assert map_error(500, {"X-Request-ID": "req_1"}, b"").request_id == "req_1"
    assert map_error(500, [("X-Request-Id", "req_2")], b"").request_id == "req_2"
    assert map_error(500, [(b"x-request-id", b"req_3")], b"").request_id == "req_3"
    assert map_error(500, {}, b"").request_id is None


def test_headers_are_a_read_only_case_insensitive_mapping() -> None:
    err = map_error(429, [("Retry-After", "2"), ("X-Custom", "a"), ("x-custom", "b")], b"")
    assert err.headers["retry-after"] == "2"
    assert err.headers["RETRY-AFTER"] == "2"
    assert "Retry-After" in err.headers
    assert 42 not in err.headers  # type: ignore[comparison-overlap]
    assert err.headers["x-custom"] == "a, b"
    assert sorted(err.headers) == ["retry-after", "x-custom"]
    with pytest.raises(TypeError):
        err.headers["retry-after"] = "5"  # type: ignore[index]


SECRET = "sk-secret-0123456789abcdef"
SECRET_HEADERS = [
    ("Authorization", f"Bearer {SECRET}"),
    ("api-key", SECRET),
    ("Proxy-Authorization", f"Basic {SECRET}"),
    ("Cookie", f"session={SECRET}"),
    ("Set-Cookie", f"session={SECRET}; HttpOnly"),
    ("x-request-id", "req_s"),
]


def errors_built_from_secret_headers() -> list[OpenAIError]:
    return [
        map_error(401, SECRET_HEADERS, openai_body("Incorrect API key provided")),
        map_error(500, dict(SECRET_HEADERS), b"<html>oops</html>"),
        map_stream_error({"error": {"message": "boom"}}, headers=SECRET_HEADERS),
        APIError("plain", headers=SECRET_HEADERS),
        APIResponseValidationError("bad", status_code=200, headers=SECRET_HEADERS),
        RateLimitError("slow down", headers=SECRET_HEADERS),
    ]


def test_no_secret_in_repr_or_str_of_errors_built_from_headers() -> None:
    for err in errors_built_from_secret_headers():
        for shown in (repr(err), str(err), repr(err.headers), str(dict(err.headers))):
            assert SECRET not in shown, type(err)
        assert err.headers["authorization"] == "[redacted]"
        assert err.headers["api-key"] == "[redacted]"
        assert err.headers["cookie"] == "[redacted]"
        assert err.headers["set-cookie"] == "[redacted]"
        assert err.headers["proxy-authorization"] == "[redacted]"
        assert err.request_id == "req_s"


def test_a_key_echoed_in_the_body_does_not_reach_the_message() -> None:
    page = f"<html>Bad request. Authorization: Bearer {SECRET}</html>".encode()
    err = map_error(400, {}, page)
    assert SECRET not in str(err)
    assert SECRET not in repr(err)
    # a key the server already masked stays, it tells the user which key was used
    err = map_error(401, {}, openai_body("Incorrect API key provided: sk-proj-****abcd."))
    assert "sk-proj-****abcd" in str(err)


def test_repr_is_useful() -> None:
    err = map_error(429, {"x-request-id": "req_r"}, openai_body(code="rate_limit_exceeded"))
    text = repr(err)
    assert text.startswith("RateLimitError(")
    assert "status_code=429" in text
    assert "request_id='req_r'" in text
    assert "code='rate_limit_exceeded'" in text


def test_errors_survive_pickling() -> None:
    err = map_error(
        429, {"x-request-id": "req_p", "retry-after": "3", "authorization": "x"}, openai_body()
    )
    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is RateLimitError
    assert copy.message == err.message
    assert copy.request_id == "req_p"
    assert copy.retry_after == 3.0
    assert copy.is_retryable
    assert copy.headers["authorization"] == "[redacted]"


# --- retry classification on errors ---------------------------------------------------------


def test_insufficient_quota_is_not_retryable() -> None:
    body = openai_body("You exceeded your current quota.", type="insufficient_quota")
    err = map_error(429, {}, body)
    assert type(err) is RateLimitError
    assert err.is_insufficient_quota
    assert not err.is_retryable
    assert classify_exception(err).reason == "insufficient_quota"


def test_insufficient_quota_by_code() -> None:
    body = openai_body("quota", type="requests", code="insufficient_quota")
    err = map_error(429, {}, body)
    assert err.is_insufficient_quota
    assert not err.is_retryable


def test_plain_rate_limit_is_retryable_with_its_wait() -> None:
    body = openai_body("Rate limit reached", type="requests", code="rate_limit_exceeded")
    err = map_error(429, {"retry-after-ms": "1500", "retry-after": "2"}, body)
    assert err.is_retryable
    assert not err.is_insufficient_quota
    assert err.retry_after == 1.5


@pytest.mark.parametrize(
    ("status", "retryable"),
    [
        (400, False),
        (401, False),
        (404, False),
        (408, True),
        (409, True),
        (418, False),
        (422, False),
        (429, True),
        (500, True),
        (503, True),
    ],
)
def test_retryable_statuses(status: int, retryable: bool) -> None:
    assert map_error(status, {}, b"").is_retryable is retryable


def test_should_retry_header_overrides_both_ways() -> None:
    assert not map_error(500, {"x-should-retry": "false"}, b"").is_retryable
    assert map_error(400, {"X-Should-Retry": "true"}, b"").is_retryable


def test_retry_after_http_date_needs_now() -> None:
    date = email.utils.formatdate(NOW + 30, usegmt=True)
    assert map_error(503, {"retry-after": date}, b"", now=NOW).retry_after == 30.0
    assert map_error(503, {"retry-after": date}, b"").retry_after is None


def test_content_filter_is_recognised() -> None:
    body = openai_body("filtered", type="invalid_request_error", code="content_filter")
    err = map_error(400, {}, body)
    assert err.is_content_filter
    assert not map_error(400, {}, openai_body()).is_content_filter
    assert map_error(400, {}, openai_body(code="content_policy_violation")).is_content_filter


# --- transport errors ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exc", "phase", "fragment"),
    [
        (tx.ReadTimeout(600.0), "read", "Request timed out (read phase, limit 600 s)"),
        (tx.ConnectTimeout(5.0), "connect", "Request timed out (connect phase, limit 5 s)"),
        (tx.PoolTimeout(0.25), "pool", "Request timed out (pool phase, limit 0.25 s)"),
        (tx.WriteTimeout(30.0), "write", "(write phase, limit 30 s)"),
        (tx.TotalTimeout(20.0), "total", "(total phase, limit 20 s)"),
    ],
)
def test_timeouts_map_to_api_timeout_error_naming_the_phase(
    exc: tx.TransportTimeout, phase: str, fragment: str
) -> None:
    mapped = map_transport_error(exc)
    assert type(mapped) is APITimeoutError
    assert mapped.phase == phase
    assert mapped.limit == exc.limit
    assert fragment in str(mapped)
    assert mapped.is_retryable


@pytest.mark.parametrize(
    ("exc", "phase", "fragment"),
    [
        (tx.ConnectError("connection refused"), "connect", "could not connect"),
        (tx.TLSError("certificate verify failed"), "tls", "certificate or TLS problem"),
        (tx.ProxyError("407 from proxy"), "proxy", "proxy"),
        (tx.WriteError("broken pipe"), "write", "sent"),
        (tx.ReadError("connection reset"), "read", "read"),
        (tx.RemoteProtocolError("bad status line"), "read", "HTTP/1.1 protocol"),
        (tx.TransportError("odd"), "transport", "Connection error"),
    ],
)
def test_transport_errors_map_to_connection_errors(
    exc: tx.TransportError, phase: str, fragment: str
) -> None:
    mapped = map_transport_error(exc)
    assert type(mapped) is APIConnectionError
    assert mapped.phase == phase
    assert fragment in str(mapped)
    assert str(exc) in str(mapped)
    assert mapped.is_retryable
    assert mapped.status_code is None


def test_mapped_transport_error_chains_the_original_when_raised_from_it() -> None:
    original = tx.ReadError("connection reset by peer")

    def seam() -> None:
        # what the orchestrator does at the transport seam
        try:
            raise original
        except tx.TransportError as exc:
            raise map_transport_error(exc) from exc

    with pytest.raises(APIConnectionError) as info:
        seam()
    assert info.value.__cause__ is original
    assert info.value.__suppress_context__


def test_proxy_credentials_do_not_reach_the_message() -> None:
    mapped = map_transport_error(tx.ProxyError("CONNECT via http://bob:hunter2@proxy:3128 failed"))
    assert "hunter2" not in str(mapped)
    assert "proxy:3128" in str(mapped)


# --- errors inside a stream ---------------------------------------------------------------


def test_chat_stream_error_maps_to_api_error() -> None:
    payload = {
        "error": {"message": "The server had an error", "type": "server_error", "param": None}
        | {"code": None}
    }
    err = map_stream_error(payload, request_id="req_st", headers={"x-request-id": "other"})
    assert type(err) is APIError
    assert err.status_code is None
    assert err.request_id == "req_st"
    assert err.type == "server_error"
    assert err.body == payload["error"]
    assert "The server had an error" in str(err)
    assert "req_st" in str(err)
    assert not err.is_retryable


def test_stream_error_request_id_defaults_to_the_header() -> None:
    err = map_stream_error({"error": {"message": "x"}}, headers={"X-Request-Id": "req_h"})
    assert err.request_id == "req_h"


def test_responses_error_event_maps_to_api_error() -> None:
    event = {
        "type": "error",
        "code": "ERR_SOMETHING",
        "message": "Something went wrong",
        "param": None,
        "sequence_number": 1,
    }
    err = map_stream_error(event, request_id=None)
    assert type(err) is APIError
    assert err.code == "ERR_SOMETHING"
    assert err.type is None
    assert "Something went wrong" in str(err)


def test_response_failed_event_maps_to_its_inner_error() -> None:
    event = {
        "type": "response.failed",
        "response": {"error": {"code": "server_error", "message": "The model failed."}},
    }
    err = map_stream_error(event)
    assert err.code == "server_error"
    assert err.body == {"code": "server_error", "message": "The model failed."}


@pytest.mark.parametrize("payload", [None, "text", [1], {"error": {}}, {"error": None}])
def test_odd_stream_payloads_still_give_an_api_error(payload: object) -> None:
    err = map_stream_error(payload)
    assert type(err) is APIError
    assert "the server reported an error" in str(err)


# --- client-side and other errors --------------------------------------------------------------


def test_validation_error_lists_every_problem_one_per_line() -> None:
    err = ValidationError(
        [
            Problem("temperature", "must be <= 2", "3.5"),
            Problem("messages", "is required", None),
        ]
    )
    assert isinstance(err, ValueError)
    lines = str(err).splitlines()
    assert "  temperature: must be <= 2 (got 3.5)" in lines
    assert "  messages: is required" in lines
    assert err.problems[0].field == "temperature"
    assert err.status_code is None
    assert not err.is_retryable


def test_single_problem_message_is_the_problem() -> None:
    err = ValidationError([Problem("temperature", "must be <= 2", "3.5")])
    assert str(err) == "temperature: must be <= 2 (got 3.5)"


@pytest.mark.parametrize("field", ["api_key", "client.api_key", "webhook_secret", "password"])
def test_validation_error_never_shows_a_secret_value(field: str) -> None:
    err = ValidationError([Problem(field, "must start with 'sk-'", repr(SECRET))])
    assert SECRET not in str(err)
    assert SECRET not in repr(err)
    assert SECRET not in repr(err.problems)
    assert f"{field}: must start with 'sk-'" in str(err)


def test_problem_keeps_values_of_ordinary_fields() -> None:
    assert Problem("max_tokens", "must be >= 1", "0").value_repr == "0"


def test_problem_is_frozen() -> None:
    problem = Problem("n", "must be >= 1", "0")
    with pytest.raises(AttributeError):
        problem.rule = "other"  # type: ignore[misc]


def test_circuit_open_error_says_when_to_try_again() -> None:
    err = CircuitOpenError("https://api.openai.com:443", 12.5)
    assert err.origin == "https://api.openai.com:443"
    assert err.retry_in == 12.5
    assert "https://api.openai.com:443" in str(err)
    assert "12.5 s" in str(err)
    assert not err.is_retryable
    assert classify_exception(err).reason == "circuit_open"


def test_response_validation_error_names_the_problem_and_request() -> None:
    err = APIResponseValidationError(
        "Expected `int`, got `str` - at `$.created`",
        status_code=200,
        headers={"x-request-id": "req_v"},
        body=b'{"created": "x"}',
    )
    assert err.status_code == 200
    assert err.request_id == "req_v"
    assert "$.created" in str(err)
    assert "req_v" in str(err)
    assert err.body == b'{"created": "x"}'
    assert not err.is_retryable


def test_errors_and_their_retry_rules_import_nothing_of_the_resilience_layer() -> None:
    # The resilience layer handles these errors, so it sits above them: an import the
    # other way round would be a cycle (errors -> _resilience -> errors).
    for module in (errors, _classify):
        assert module.__file__ is not None
        tree = ast.parse(Path(module.__file__).read_text())
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [alias.name for alias in node.names]
            assert not any("_resilience" in name for name in names), (module.__name__, names)


def test_credential_headers_are_the_transports_sensitive_headers() -> None:
    from trio_openai._http._models import SENSITIVE_HEADERS

    assert errors.CREDENTIAL_HEADERS is SENSITIVE_HEADERS
