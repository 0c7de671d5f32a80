"""Request checks shared by every endpoint of the mock server (sans-IO).

Theory of operation: endpoint code reads its parameters through the ``get_*``
helpers, which return the value (or a default) and raise :class:`APIError` with
OpenAI's wording when a value has the wrong type or is out of range. The server core
turns an :class:`APIError` into the error answer ``{"error": {"message", "type",
"param", "code"}}`` with its status. The checks that come before any endpoint live
here too: the bearer key (:func:`check_auth`) and the body's content type and JSON
syntax (:func:`check_body`). (The body's size is not checked here: the HTTP server
refuses an oversized body from its declared length, with 413, before reading it.)

Rules kept:
- Messages and codes are OpenAI's where they are known (``missing_required_parameter``,
  ``invalid_type``, ``integer_below_min_value`` ...), so clients' error handling can be
  tested against the mock.
- Only what clients get wrong in practice is checked: required fields, types and the
  ranges of the common parameters. Strict mode (the default) adds what the API
  refuses before any endpoint runs: a body parameter it does not know
  (:func:`unknown_parameters`) and a model it does not serve
  (:func:`model_not_found`); the route table applies both.
- Pure functions of their arguments: no clock, no server state.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Literal

from ._wire import JSON_CT

if TYPE_CHECKING:
    from .._records import RequestRecord

__all__ = [
    "APIError",
    "BodyKind",
    "RateLimited",
    "bad_type",
    "bad_value",
    "check_auth",
    "check_body",
    "check_number",
    "get_bool",
    "get_dict",
    "get_enum",
    "get_int",
    "get_list",
    "get_str",
    "missing",
    "model_not_found",
    "not_found",
    "query_int",
    "query_order",
    "type_name",
    "unknown_parameters",
]

BodyKind = Literal["none", "json", "multipart", "json_or_multipart"]
"""What an endpoint reads: no body, a JSON object, ``multipart/form-data`` fields, or
either (told apart by the content type, as ``/v1/images/edits`` accepts both)."""


class APIError(Exception):
    """An OpenAI error answer, raised by endpoint code and turned into a response."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {
            "error": {"message": message, "type": type, "param": param, "code": code}
        }


class RateLimited(APIError):
    """A refusal of the rate-limit simulation (carries its headers)."""

    def __init__(self, body: dict[str, Any], headers: list[tuple[str, str]]) -> None:
        error = body.get("error", {})
        super().__init__(429, str(error.get("message", "")))
        self.body = body
        self.headers = headers


# --------------------------------------------------------------------------------------
# Errors with OpenAI's wording


def missing(name: str) -> APIError:
    return APIError(
        400,
        f"Missing required parameter: '{name}'.",
        param=name,
        code="missing_required_parameter",
    )


_TYPE_NAMES: Final = {
    str: "a string",
    bool: "a boolean",
    int: "an integer",
    float: "a decimal",
    list: "an array",
    dict: "an object",
    type(None): "null",
}


def type_name(value: object) -> str:
    """How OpenAI's messages name the JSON type of *value* (``"an array"`` ...)."""
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def bad_type(name: str, expected: str, value: object) -> APIError:
    return APIError(
        400,
        f"Invalid type for '{name}': expected {expected}, but got {type_name(value)} instead.",
        param=name,
        code="invalid_type",
    )


def bad_value(name: str, value: object, allowed: Sequence[str]) -> APIError:
    shown = ", ".join(f"'{a}'" for a in allowed)
    return APIError(
        400,
        f"Invalid value: '{value}'. Supported values are: {shown}.",
        param=name,
        code="invalid_value",
    )


def not_found(message: str, param: str | None = None, code: str | None = None) -> APIError:
    return APIError(404, message, param=param, code=code)


def model_not_found(model: str) -> APIError:
    """OpenAI's answer to a model it does not serve (or the key cannot use)."""
    return APIError(
        404,
        f"The model `{model}` does not exist or you do not have access to it.",
        code="model_not_found",
    )


def unknown_parameters(
    names: Iterable[str], known: frozenset[str], *, responses_style: bool = False
) -> APIError | None:
    """The 400 for the body parameters among ``names`` that are not in ``known``.

    A multipart name with brackets (``include[]``, ``expires_after[seconds]``) counts
    as its base name. The Chat-era endpoints say ``Unrecognized request argument
    supplied: X`` (``arguments ... X, Y`` for several); the Responses family says
    ``Unknown parameter: 'X'.`` with ``code: unknown_parameter`` and the name in
    ``param``.

    Returns:
        The error, or None when every name is known.
    """
    unknown: list[str] = []
    for name in names:
        base = name.split("[", 1)[0]
        if base not in known and base not in unknown:
            unknown.append(base)
    if not unknown:
        return None
    if responses_style:
        return APIError(
            400, f"Unknown parameter: '{unknown[0]}'.", param=unknown[0], code="unknown_parameter"
        )
    if len(unknown) == 1:
        return APIError(400, f"Unrecognized request argument supplied: {unknown[0]}")
    return APIError(400, f"Unrecognized request arguments supplied: {', '.join(unknown)}")


# --------------------------------------------------------------------------------------
# Body fields


def get_str(body: Mapping[str, Any], name: str, *, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise missing(name)
        return None
    if not isinstance(value, str):
        raise bad_type(name, "a string", value)
    return value


def get_bool(body: Mapping[str, Any], name: str, default: bool = False) -> bool:
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise bad_type(name, "a boolean", value)
    return value


def get_int(
    body: Mapping[str, Any],
    name: str,
    default: int | None = None,
    *,
    lo: int | None = None,
    hi: int | None = None,
) -> int | None:
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_type(name, "an integer", value)
    if lo is not None and value < lo:
        raise APIError(
            400,
            f"Invalid '{name}': integer below minimum value. Expected a value >= {lo}, but "
            f"got {value} instead.",
            param=name,
            code="integer_below_min_value",
        )
    if hi is not None and value > hi:
        raise APIError(
            400,
            f"Invalid '{name}': integer above maximum value. Expected a value <= {hi}, but "
            f"got {value} instead.",
            param=name,
            code="integer_above_max_value",
        )
    return value


def check_number(body: Mapping[str, Any], name: str, lo: float, hi: float) -> None:
    value = body.get(name)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise bad_type(name, "a number", value)
    if value < lo:
        raise APIError(
            400,
            f"Invalid '{name}': decimal below minimum value. Expected a value >= {lo:g}, but "
            f"got {value} instead.",
            param=name,
            code="decimal_below_min_value",
        )
    if value > hi:
        raise APIError(
            400,
            f"Invalid '{name}': decimal above maximum value. Expected a value <= {hi:g}, but "
            f"got {value} instead.",
            param=name,
            code="decimal_above_max_value",
        )


def get_list(
    body: Mapping[str, Any], name: str, *, required: bool = False, non_empty: bool = False
) -> list[Any] | None:
    value = body.get(name)
    if value is None:
        if required:
            raise missing(name)
        return None
    if not isinstance(value, list):
        raise bad_type(name, "an array", value)
    if non_empty and not value:
        raise APIError(
            400,
            f"Invalid '{name}': empty array. Expected an array with minimum length 1, but got "
            "an empty array instead.",
            param=name,
            code="empty_array",
        )
    return value


def get_dict(body: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad_type(name, "an object", value)
    return value


def get_enum(body: Mapping[str, Any], name: str, allowed: Sequence[str], default: str) -> str:
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, str):
        raise bad_type(name, "a string", value)
    if value not in allowed:
        raise bad_value(name, value, allowed)
    return value


# --------------------------------------------------------------------------------------
# Query parameters


def query_int(query: Mapping[str, str], name: str, default: int, lo: int, hi: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise APIError(
            400,
            f"Invalid '{name}': expected an integer, but got '{raw}' instead.",
            param=name,
            code="invalid_type",
        ) from None
    if not lo <= value <= hi:
        raise APIError(
            400,
            f"Invalid '{name}': expected a value between {lo} and {hi}, got {value}.",
            param=name,
            code="invalid_value",
        )
    return value


def query_order(query: Mapping[str, str], default: str) -> str:
    order = query.get("order", default)
    if order not in ("asc", "desc"):
        raise bad_value("order", order, ("asc", "desc"))
    return order


# --------------------------------------------------------------------------------------
# Before any endpoint: the key and the body

_NO_KEY_MESSAGE: Final = (
    "You didn't provide an API key. You need to provide your API key in an Authorization "
    "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password "
    "field (with blank username) if you're accessing the API from your browser and are "
    "prompted for a username and password. You can obtain an API key from "
    "https://platform.openai.com/account/api-keys."
)
_BAD_JSON_MESSAGE: Final = (
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
    "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was "
    "sent was not valid JSON. If you have trouble figuring out how to fix this, please "
    "contact us through our help center at help.openai.com.)"
)


def _mask_key(key: str) -> str:
    """OpenAI shows a wrong key as prefix + stars + last four; short keys all stars."""
    if len(key) <= 10:
        return "*" * len(key)
    return key[:3] + "*" * (len(key) - 7) + key[-4:]


def check_auth(auth: str | None, expected: str | None) -> None:
    """Require ``Authorization: Bearer <key>``; with *expected* None, any non-empty key.

    Args:
        auth: the request's ``Authorization`` value, as received (records keep it
            redacted, so the server passes the request's own header).
        expected: the key to require, or None.

    Raises:
        APIError: 401 with OpenAI's message (a wrong key is shown masked).
    """
    key = ""
    if auth is not None:
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "bearer":
            key = value.strip()
    if not key:
        raise APIError(401, _NO_KEY_MESSAGE)
    if expected is not None and not hmac.compare_digest(key.encode(), expected.encode()):
        raise APIError(
            401,
            f"Incorrect API key provided: {_mask_key(key)}. You can find your API key at "
            "https://platform.openai.com/account/api-keys.",
            code="invalid_api_key",
        )


def check_body(record: RequestRecord, kind: BodyKind) -> dict[str, Any]:
    """Check the body's content type and syntax for *kind*.

    Returns:
        The JSON object, the multipart fields, or ``{}`` (kind ``"none"``).

    Raises:
        APIError: 400 with OpenAI's message.
    """
    if kind == "json_or_multipart":
        multipart = record.headers.get("content-type", "").startswith("multipart/form-data")
        kind = "multipart" if multipart else "json"
    if kind == "json":
        ctype = record.headers.get("content-type")
        if ctype is not None and ctype.split(";")[0].strip().lower() != JSON_CT:
            raise APIError(
                400,
                f"Unsupported content type: '{ctype}'. This API method only accepts "
                f"'application/json' requests, but you specified the header "
                f"'Content-Type: {ctype}'. Please try again with a supported content type.",
                code="unsupported_content_type",
            )
        value = record.json
        if value is None:
            raise APIError(400, _BAD_JSON_MESSAGE)
        if not isinstance(value, dict):
            raise APIError(
                400,
                "Invalid type for request body: expected an object, but got "
                f"{type_name(value)} instead.",
                code="invalid_type",
            )
        return value
    if kind == "multipart":
        ctype = record.headers.get("content-type", "")
        if not ctype.startswith("multipart/form-data"):
            raise APIError(
                400,
                f"Unsupported content type: '{ctype}'. This API method only accepts "
                "'multipart/form-data' requests, but you specified the header "
                f"'Content-Type: {ctype}'. Please try again with a supported content type.",
                code="unsupported_content_type",
            )
        if record.form is None:
            raise APIError(400, "Could not parse multipart form data.")
        return record.form
    return {}
