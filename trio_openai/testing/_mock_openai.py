"""An OpenAI-compatible API server for tests, demos and benchmarks (trio + h11).

Theory of operation
-------------------
:func:`open_mock_server` runs the generic HTTP/1.1 server of ``_http_server`` with
one handler, :meth:`MockOpenAIServer._handle`, and owns a nursery for the work that
outlives a request (batches, background responses). Per request the handler:

1. records it (:class:`RequestRecord`: method, path, query, headers, decoded JSON or
   multipart fields) and counts it;
2. consults the fault plan (``_faults``): an outcome fault (status, reset, stall,
   garbage) answers instead of the API, modifiers (latency, trickle, idle close)
   change how the real answer is sent;
3. checks ``Authorization: Bearer <key>`` (401 with OpenAI's body), routes the path
   (404 ``Invalid URL (METHOD /path)`` otherwise), checks the body (size limit,
   content type, JSON syntax: 400s with OpenAI's messages);
4. for the model endpoints, charges the rate-limit simulation (``_ratelimit_sim``):
   ``x-ratelimit-*`` headers on every answer, 429 with ``retry-after`` when over;
5. runs the endpoint: deterministic content derived from the request and ``seed``
   (same request, same seed, same answer), JSON or Server-Sent Events framed exactly
   like OpenAI's (``data: {json}`` + ``data: [DONE]`` for chat and completions,
   ``event: <type>`` + ``data: {json}`` for Responses);
6. adds ``x-request-id`` (``req_<hex>``, from the seed and a counter),
   ``openai-version``, ``openai-processing-ms`` and ``content-type``.

Files, batches, responses and fine-tuned models live in memory. A batch runs each
input line through the same endpoint functions, in the server's nursery, moving
``validating`` -> ``in_progress`` -> ``finalizing`` -> ``completed`` (``batch_delay``
seconds per line makes the states observable), and writes the output and error files
in the Batch API format.

Rules kept:
- Deterministic: ids, request ids and content depend only on ``seed`` and the order
  of requests; timestamps (``created``) are wall-clock seconds, as OpenAI's are.
- Fast: endpoint functions are synchronous (no await per request beyond the HTTP
  server's), JSON goes through msgspec, generated text is cached per prompt, static
  payloads (the model list) are encoded once.
- Faithful: response shapes follow the OpenAPI spec and the wire examples; error
  bodies are ``{"error": {"message", "type", "param", "code"}}`` with OpenAI's
  messages where they are known. Where the spec's examples show ``null`` for a field
  its schema does not let be null (unset batch timestamps, a running response's
  ``usage``), the field is left out: that satisfies the schema, and clients must
  accept both anyway.
- Structured: no task outlives the ``async with``; background tasks never raise
  (their errors go to :attr:`MockOpenAIServer.errors`), so an exception from the body
  of the ``async with`` comes out as itself.

Options rejected: an ASGI app (the point is a dependency-free trio server that can
misbehave at the socket level); validating every request field against the spec
(only what clients get wrong in practice is checked: required fields, types and
ranges of the common parameters); real audio or image encoders (tiny valid PNG and
WAV files, deterministic bytes for other audio formats).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
import ssl
import struct
import time
import zlib
from collections.abc import AsyncIterable, AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import parse_qsl, unquote

import msgspec
import trio

from .._compat import BaseExceptionGroup
from ._faults import FaultPlan, FaultRule, Schedule, Selection
from ._http_server import (
    CloseWithoutResponse,
    HTTPServer,
    Misbehaviour,
    Request,
    Reset,
    Response,
    Stall,
    client_context,
    open_http_server,
    tls_contexts,
)
from ._ratelimit_sim import RateLimitSim, estimate_tokens

if TYPE_CHECKING:
    import trustme

    from ._faults import Fault

__all__ = [
    "MockOpenAIServer",
    "MockStats",
    "RequestRecord",
    "UploadedFile",
    "open_mock_server",
]

OPENAI_VERSION: Final = "2020-10-01"
DEFAULT_MAX_BODY_SIZE: Final = 32 * 1024 * 1024
_JSON_CT: Final = "application/json"
_SSE_CT: Final = "text/event-stream; charset=utf-8"
_FINGERPRINT: Final = "fp_mock0000"
_ORG: Final = "org-mock"
_DAY: Final = 86400

_encode = msgspec.json.encode
_decode = msgspec.json.decode

# --------------------------------------------------------------------------------------
# Records and statistics


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request.

    Attributes:
        filename: the part's ``filename``.
        content_type: the part's ``Content-Type`` (None if absent).
        data: the bytes.
    """

    filename: str
    content_type: str | None
    data: bytes = field(repr=False)

    def __repr__(self) -> str:
        return f"UploadedFile(filename={self.filename!r}, {len(self.data)} bytes)"


class _RedactedHeaders(dict[str, str]):
    """A plain dict of headers whose repr hides credentials."""

    _SECRET = frozenset({"authorization", "api-key", "openai-api-key"})

    def __repr__(self) -> str:
        shown = {k: ("<redacted>" if k in self._SECRET else v) for k, v in self.items()}
        return repr(shown)


class RequestRecord:
    """One request the mock server received.

    Attributes:
        method: e.g. ``"POST"``.
        path: e.g. ``"/v1/chat/completions"`` (no query).
        query: the query parameters (a repeated name keeps its last value).
        query_string: the raw query (``""`` when absent).
        headers: the headers, names lowercased (``Authorization`` is redacted in the
            repr, but present in the dict).
        body: the raw body bytes.
        json: the decoded JSON body, or None (no body, not JSON, or invalid).
        form: the multipart fields (text fields as ``str``, file parts as
            :class:`UploadedFile`, repeated names as lists), or None.
        request_id: the ``x-request-id`` sent back.
        received_at: ``trio.current_time()`` when the request was read.
        status: the status answered, or None (a fault that never answered, or not
            answered yet).
    """

    __slots__ = (
        "body",
        "form",
        "headers",
        "json",
        "method",
        "path",
        "query",
        "query_string",
        "received_at",
        "request_id",
        "status",
    )

    def __init__(
        self,
        method: str,
        path: str,
        query_string: str,
        headers: dict[str, str],
        body: bytes,
        request_id: str,
        json: Any = None,
        form: dict[str, Any] | None = None,
        received_at: float = 0.0,
    ) -> None:
        self.method = method
        self.path = path
        self.query_string = query_string
        self.query: dict[str, str] = dict(parse_qsl(query_string)) if query_string else {}
        self.headers = _RedactedHeaders(headers)
        self.body = body
        self.json = json
        self.form = form
        self.request_id = request_id
        self.received_at = received_at
        self.status: int | None = None

    def __repr__(self) -> str:
        return (
            f"<RequestRecord {self.method} {self.path}"
            f"{'?' + self.query_string if self.query_string else ''} status={self.status}"
            f" request_id={self.request_id} body={len(self.body)} bytes>"
        )


@dataclass(frozen=True)
class MockStats:
    """A snapshot of the mock server's counters (``server.stats``).

    Attributes:
        connections_opened: TCP connections accepted so far.
        connections_open: connections currently open.
        requests: requests received.
        requests_per_path: requests per path (``"/v1/chat/completions"``...).
        statuses: responses sent per status code (faults that never answer, such as
            resets and stalls, are not responses).
        rate_limited: 429s sent by the rate-limit simulation.
        too_many_requests: every 429 sent (simulation and faults).
        faults_fired: faults carried out, per kind.
    """

    connections_opened: int
    connections_open: int
    requests: int
    requests_per_path: dict[str, int]
    statuses: dict[int, int]
    rate_limited: int
    too_many_requests: int
    faults_fired: dict[str, int]


# --------------------------------------------------------------------------------------
# Errors


class _APIError(Exception):
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


def _missing(name: str) -> _APIError:
    return _APIError(
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


def _type_name(value: object) -> str:
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def _bad_type(name: str, expected: str, value: object) -> _APIError:
    return _APIError(
        400,
        f"Invalid type for '{name}': expected {expected}, but got {_type_name(value)} instead.",
        param=name,
        code="invalid_type",
    )


def _bad_value(name: str, value: object, allowed: Sequence[str]) -> _APIError:
    shown = ", ".join(f"'{a}'" for a in allowed)
    return _APIError(
        400,
        f"Invalid value: '{value}'. Supported values are: {shown}.",
        param=name,
        code="invalid_value",
    )


def _not_found(message: str, param: str | None = None, code: str | None = None) -> _APIError:
    return _APIError(404, message, param=param, code=code)


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

# Default error bodies of the `status` fault: (message, type, code).
_STATUS_ERRORS: Final[dict[int, tuple[str, str, str | None]]] = {
    400: ("Bad request.", "invalid_request_error", None),
    401: ("Incorrect API key provided.", "invalid_request_error", "invalid_api_key"),
    403: ("You are not allowed to perform this request.", "invalid_request_error", None),
    404: ("The requested resource was not found.", "invalid_request_error", None),
    408: ("Request timed out.", "invalid_request_error", None),
    409: ("The request conflicts with another request.", "invalid_request_error", None),
    422: ("The request could not be processed.", "invalid_request_error", None),
    429: (
        "Rate limit reached for requests. Please try again later.",
        "requests",
        "rate_limit_exceeded",
    ),
    500: (
        "The server had an error while processing your request. Sorry about that!",
        "server_error",
        None,
    ),
    502: ("Bad gateway.", "server_error", None),
    503: ("The server is overloaded or not ready yet.", "server_error", None),
    504: ("Gateway timeout.", "server_error", None),
}


def _mask_key(key: str) -> str:
    """OpenAI shows a wrong key as prefix + stars + last four; short keys all stars."""
    if len(key) <= 10:
        return "*" * len(key)
    return key[:3] + "*" * (len(key) - 7) + key[-4:]


# --------------------------------------------------------------------------------------
# Request-body checks


def _get_str(body: Mapping[str, Any], name: str, *, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise _missing(name)
        return None
    if not isinstance(value, str):
        raise _bad_type(name, "a string", value)
    return value


def _get_bool(body: Mapping[str, Any], name: str, default: bool = False) -> bool:
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise _bad_type(name, "a boolean", value)
    return value


def _get_int(
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
        raise _bad_type(name, "an integer", value)
    if lo is not None and value < lo:
        raise _APIError(
            400,
            f"Invalid '{name}': integer below minimum value. Expected a value >= {lo}, but "
            f"got {value} instead.",
            param=name,
            code="integer_below_min_value",
        )
    if hi is not None and value > hi:
        raise _APIError(
            400,
            f"Invalid '{name}': integer above maximum value. Expected a value <= {hi}, but "
            f"got {value} instead.",
            param=name,
            code="integer_above_max_value",
        )
    return value


def _check_number(body: Mapping[str, Any], name: str, lo: float, hi: float) -> None:
    value = body.get(name)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _bad_type(name, "a number", value)
    if value < lo:
        raise _APIError(
            400,
            f"Invalid '{name}': decimal below minimum value. Expected a value >= {lo:g}, but "
            f"got {value} instead.",
            param=name,
            code="decimal_below_min_value",
        )
    if value > hi:
        raise _APIError(
            400,
            f"Invalid '{name}': decimal above maximum value. Expected a value <= {hi:g}, but "
            f"got {value} instead.",
            param=name,
            code="decimal_above_max_value",
        )


def _get_list(
    body: Mapping[str, Any], name: str, *, required: bool = False, non_empty: bool = False
) -> list[Any] | None:
    value = body.get(name)
    if value is None:
        if required:
            raise _missing(name)
        return None
    if not isinstance(value, list):
        raise _bad_type(name, "an array", value)
    if non_empty and not value:
        raise _APIError(
            400,
            f"Invalid '{name}': empty array. Expected an array with minimum length 1, but got "
            "an empty array instead.",
            param=name,
            code="empty_array",
        )
    return value


def _get_dict(body: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _bad_type(name, "an object", value)
    return value


def _get_enum(body: Mapping[str, Any], name: str, allowed: Sequence[str], default: str) -> str:
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, str):
        raise _bad_type(name, "a string", value)
    if value not in allowed:
        raise _bad_value(name, value, allowed)
    return value


def _query_int(query: Mapping[str, str], name: str, default: int, lo: int, hi: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _APIError(
            400,
            f"Invalid '{name}': expected an integer, but got '{raw}' instead.",
            param=name,
            code="invalid_type",
        ) from None
    if not lo <= value <= hi:
        raise _APIError(
            400,
            f"Invalid '{name}': expected a value between {lo} and {hi}, got {value}.",
            param=name,
            code="invalid_value",
        )
    return value


def _query_order(query: Mapping[str, str], default: str) -> str:
    order = query.get("order", default)
    if order not in ("asc", "desc"):
        raise _bad_value("order", order, ("asc", "desc"))
    return order


# --------------------------------------------------------------------------------------
# Deterministic content

_VOCAB: Final = (
    "the", "quick", "answer", "is", "mock", "data", "from", "a", "small", "server",
    "that", "streams", "tokens", "with", "care", "and", "clear", "results", "for", "every",
    "test", "bright", "river", "stone", "cloud", "green", "light", "paper", "signal",
    "garden", "number", "story", "window", "music", "ocean", "forest", "city", "road",
    "bridge", "field", "morning", "evening", "friend", "idea", "plan", "note", "point",
    "line", "shape", "color", "sound", "space", "time", "world", "system", "part", "place",
    "week", "day", "year", "way", "hand", "calm", "fast",
)  # fmt: skip
assert len(_VOCAB) == 64


def _digest(*parts: object) -> bytes:
    return hashlib.blake2b("\x00".join(map(str, parts)).encode(), digest_size=32).digest()


@lru_cache(maxsize=8192)
def _reply_tokens(seed: int, index: int, prompt: str) -> tuple[str, ...]:
    """The reply to *prompt*: 6 to 17 tokens (words with their leading space, then ".")."""
    h = _digest(seed, index, prompt)
    count = 5 + h[0] % 12
    words = [_VOCAB[b & 63] for b in h[1 : 1 + count]]
    return (words[0].capitalize(), *(" " + w for w in words[1:]), ".")


def _count_tokens(text: str) -> int:
    return max(1, (len(text) + 3) // 4)


def _split_text(text: str, size: int = 8) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _logprob(token: str, position: int, rank: int) -> float:
    base = (zlib.crc32(f"{position}\x00{token}".encode()) % 1000) / 4000.0
    return -round(base + rank * 1.5, 6)


def _token_logprob(token: str, position: int, top: int) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "token": token,
        "logprob": _logprob(token, position, 0),
        "bytes": list(token.encode()),
        "top_logprobs": [],
    }
    alternatives: list[dict[str, Any]] = []
    for rank in range(top):
        alt = token if rank == 0 else " " + _VOCAB[(zlib.crc32(token.encode()) + rank) & 63]
        alternatives.append(
            {"token": alt, "logprob": _logprob(token, position, rank), "bytes": list(alt.encode())}
        )
    entry["top_logprobs"] = alternatives
    return entry


def _text_of(content: Any) -> str:
    """The text of a message content: a string, or the text parts of a list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts: list[str] = []
        for part in content:
            if isinstance(part, dict):
                text = part.get("text")
                if isinstance(text, str):
                    texts.append(text)
            elif isinstance(part, str):
                texts.append(part)
        return " ".join(texts)
    return ""


_FORMATS: Final = {
    "date-time": "2024-01-01T00:00:00Z",
    "date": "2024-01-01",
    "time": "12:00:00",
    "duration": "P1D",
    "email": "user@example.com",
    "idn-email": "user@example.com",
    "hostname": "example.com",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
    "uri": "https://example.com/resource",
    "url": "https://example.com/resource",
    "uri-reference": "https://example.com/resource",
    "iri": "https://example.com/resource",
}


class _SchemaFaker:
    """Build a deterministic value that is valid for a JSON Schema.

    Supports ``type`` (also lists, with ``"null"``), ``nullable``, ``enum``, ``const``,
    ``properties``/``required``/``additionalProperties``, ``items``/``prefixItems``
    with ``minItems``/``maxItems``, ``anyOf``/``oneOf``/``allOf``, ``$ref`` into
    ``$defs``/``definitions`` (any JSON pointer into the root), string ``format``s,
    ``minLength``/``maxLength`` and numeric bounds. ``pattern`` is not honoured.
    Recursive schemas end: past a depth, only required properties and minimum item
    counts are generated, and nullable branches become null.
    """

    _DEEP = 6
    _LIMIT = 40

    def __init__(self, root: Any, key: str) -> None:
        self.root = root
        self.key = key

    def _h(self, path: str) -> int:
        return zlib.crc32(f"{self.key}\x00{path}".encode())

    def _resolve(self, ref: str) -> Any:
        if not ref.startswith("#"):
            return {}
        node: Any = self.root
        for raw in ref[1:].split("/"):
            if not raw:
                continue
            part = unquote(raw).replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                return {}
        return node

    def value(self, schema: Any, path: str = "$", depth: int = 0) -> Any:
        if not isinstance(schema, dict) or depth > self._LIMIT:
            return None if schema is False else self._string({}, path)
        ref = schema.get("$ref")
        if isinstance(ref, str):
            target = self._resolve(ref)
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            merged = {**target, **rest} if rest and isinstance(target, dict) else target
            return self.value(merged, path, depth + 1)
        if "const" in schema:
            return schema["const"]
        enum = schema.get("enum")
        if isinstance(enum, list) and enum:
            return enum[self._h(path) % len(enum)]
        deep = depth > self._DEEP
        for key in ("anyOf", "oneOf"):
            options = schema.get(key)
            if isinstance(options, list) and options:
                nulls = [o for o in options if isinstance(o, dict) and o.get("type") == "null"]
                others = [o for o in options if not (isinstance(o, dict) and o in nulls)]
                if (deep and nulls) or not others:
                    return None
                return self.value(others[0], path, depth + 1)
        all_of = schema.get("allOf")
        if isinstance(all_of, list) and all_of:
            return self.value(self._merge(schema, all_of), path, depth + 1)
        kind = schema.get("type")
        if isinstance(kind, list):
            real = [k for k in kind if k != "null"]
            if not real or (deep and "null" in kind):
                return None
            kind = real[0]
        if deep and schema.get("nullable") is True:
            return None
        if kind is None:
            if "properties" in schema or "additionalProperties" in schema:
                kind = "object"
            elif "items" in schema or "prefixItems" in schema:
                kind = "array"
            else:
                kind = "string"
        if kind == "object":
            return self._object(schema, path, depth, deep)
        if kind == "array":
            return self._array(schema, path, depth, deep)
        if kind == "integer":
            return self._integer(schema, path)
        if kind == "number":
            return self._number(schema, path)
        if kind == "boolean":
            return self._h(path) % 2 == 0
        if kind == "null":
            return None
        return self._string(schema, path)

    def _merge(self, schema: dict[str, Any], parts: list[Any]) -> dict[str, Any]:
        merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
        properties: dict[str, Any] = dict(merged.get("properties") or {})
        required: list[Any] = list(merged.get("required") or [])
        for part in parts:
            if isinstance(part, dict) and isinstance(part.get("$ref"), str):
                part = self._resolve(part["$ref"])
            if not isinstance(part, dict):
                continue
            properties.update(part.get("properties") or {})
            required += [r for r in part.get("required") or [] if r not in required]
            for k, v in part.items():
                if k not in ("properties", "required"):
                    merged.setdefault(k, v)
        if properties:
            merged["properties"] = properties
        if required:
            merged["required"] = required
        return merged

    def _object(self, schema: dict[str, Any], path: str, depth: int, deep: bool) -> Any:
        props = schema.get("properties")
        props = props if isinstance(props, dict) else {}
        required = schema.get("required")
        required = required if isinstance(required, list) else []
        names = [n for n in props if not deep or n in required]
        out: dict[str, Any] = {n: self.value(props[n], f"{path}.{n}", depth + 1) for n in names}
        for name in required:
            if isinstance(name, str) and name not in out:
                out[name] = self._string({}, f"{path}.{name}")
        extra = schema.get("additionalProperties")
        if not props and isinstance(extra, dict) and not deep:
            out["key"] = self.value(extra, f"{path}.key", depth + 1)
        return out

    def _array(self, schema: dict[str, Any], path: str, depth: int, deep: bool) -> Any:
        lo = schema.get("minItems")
        lo = lo if isinstance(lo, int) else 0
        hi = schema.get("maxItems")
        count = max(lo, 0 if deep else 2)
        if isinstance(hi, int):
            count = min(count, hi)
        prefix = schema.get("prefixItems")
        prefix = prefix if isinstance(prefix, list) else []
        items = schema.get("items", {})
        out: list[Any] = []
        for i in range(max(count, len(prefix) if not deep else 0)):
            sub = prefix[i] if i < len(prefix) else items
            if sub is False:
                break
            out.append(self.value(sub, f"{path}[{i}]", depth + 1))
        return out

    def _integer(self, schema: dict[str, Any], path: str) -> int:
        lo, hi = self._bounds(schema, integer=True)
        h = self._h(path)
        if lo is not None and hi is not None:
            value = int(lo) + h % (int(hi) - int(lo) + 1) if hi >= lo else int(lo)
        elif lo is not None:
            value = int(lo) + h % 10
        elif hi is not None:
            value = int(hi) - h % 10
        else:
            value = h % 100
        step = schema.get("multipleOf")
        if isinstance(step, int) and step > 0 and value % step:
            value += step - value % step
            if hi is not None and value > hi:
                value -= step
        return value

    def _number(self, schema: dict[str, Any], path: str) -> float:
        lo, hi = self._bounds(schema, integer=False)
        frac = (self._h(path) % 10000) / 10000.0
        if lo is not None and hi is not None:
            value = round(lo + (hi - lo) * frac, 4) if hi > lo else float(lo)
        elif lo is not None:
            value = round(lo + 10 * frac, 4)
        elif hi is not None:
            value = round(hi - 10 * frac, 4)
        else:
            return round(100 * frac, 2)
        # Rounding must not step outside the bounds.
        if lo is not None and value < lo:
            value = float(lo)
        if hi is not None and value > hi:
            value = float(hi)
        return value

    @staticmethod
    def _bounds(schema: dict[str, Any], *, integer: bool) -> tuple[float | None, float | None]:
        def num(name: str) -> float | None:
            v = schema.get(name)
            return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None

        lo, hi = num("minimum"), num("maximum")
        xlo, xhi = num("exclusiveMinimum"), num("exclusiveMaximum")
        step = 1.0 if integer else 1e-3
        if xlo is not None:
            lo = xlo + step if lo is None else max(lo, xlo + step)
        if xhi is not None:
            hi = xhi - step if hi is None else min(hi, xhi - step)
        if integer:
            lo = math.ceil(lo) if lo is not None else None
            hi = math.floor(hi) if hi is not None else None
        return lo, hi

    def _string(self, schema: dict[str, Any], path: str) -> str:
        fmt = schema.get("format")
        h = self._h(path)
        if fmt == "uuid":
            raw = _digest(self.key, path)[:16].hex()
            text = f"{raw[:8]}-{raw[8:12]}-4{raw[13:16]}-8{raw[17:20]}-{raw[20:32]}"
        elif isinstance(fmt, str) and fmt in _FORMATS:
            text = _FORMATS[fmt]
        else:
            text = f"{_VOCAB[h & 63]} {_VOCAB[(h >> 6) & 63]}"
        lo = schema.get("minLength")
        hi = schema.get("maxLength")
        if isinstance(lo, int) and len(text) < lo:
            text += "x" * (lo - len(text))
        if isinstance(hi, int) and len(text) > hi:
            text = text[:hi]
        return text


@lru_cache(maxsize=2048)
def _embedding(seed: int, text: str, dims: int) -> tuple[tuple[float, ...], bytes]:
    """A deterministic unit vector for *text*: (float32-exact values, packed ``<f4``)."""
    raw = hashlib.shake_256(f"{seed}\x00{text}".encode()).digest(dims * 2)
    ints = struct.unpack(f"<{dims}H", raw)
    values = [(x - 32767.5) / 32767.5 for x in ints]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    packed = struct.pack(f"<{dims}f", *(v / norm for v in values))
    return struct.unpack(f"<{dims}f", packed), packed


def _png(rgb: tuple[int, int, int], size: int = 8) -> bytes:
    """A tiny valid PNG: a *size* x *size* square of one color."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    row = b"\x00" + bytes(rgb) * size
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * size))
        + chunk(b"IEND", b"")
    )


def _wav(seconds: float, key: bytes, rate: int = 24000) -> bytes:
    """A valid mono 16-bit PCM WAV file with a quiet deterministic tone."""
    count = max(1, int(seconds * rate))
    pitch = 220 + key[0] * 2
    samples = struct.pack(
        f"<{count}h",
        *(int(3000 * math.sin(2 * math.pi * pitch * i / rate)) for i in range(count)),
    )
    head = b"RIFF" + struct.pack("<I", 36 + len(samples)) + b"WAVE"
    fmt = b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
    return head + fmt + b"data" + struct.pack("<I", len(samples)) + samples


_AUDIO_TYPES: Final = {
    "mp3": "audio/mpeg",
    "opus": "audio/ogg",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
}

# --------------------------------------------------------------------------------------
# Static data

_MODELS: Final = (
    ("gpt-4o-mini", 1721172741, "system"),
    ("gpt-4o", 1715367049, "system"),
    ("gpt-4.1", 1744316542, "system"),
    ("gpt-4.1-mini", 1744318173, "system"),
    ("gpt-5.4", 1767225600, "system"),
    ("gpt-3.5-turbo-instruct", 1692901427, "system"),
    ("text-embedding-3-small", 1705948997, "system"),
    ("text-embedding-3-large", 1705953180, "system"),
    ("text-embedding-ada-002", 1671217299, "openai-internal"),
    ("omni-moderation-latest", 1731689265, "system"),
    ("dall-e-2", 1698798177, "system"),
    ("dall-e-3", 1698785189, "system"),
    ("gpt-image-1", 1745517030, "system"),
    ("tts-1", 1681940951, "openai-internal"),
    ("whisper-1", 1677532384, "openai-internal"),
    ("gpt-4o-mini-transcribe", 1742068463, "system"),
    ("ft:gpt-4o-mini-2024-07-18:mock-org::abc123", 1722000000, "user-mock"),
)

_MODERATION_CATEGORIES: Final = (
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/intent",
    "self-harm/instructions",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)
_IMAGE_CATEGORIES: Final = frozenset(
    {
        "self-harm",
        "self-harm/intent",
        "self-harm/instructions",
        "sexual",
        "violence",
        "violence/graphic",
    }
)
# Words that make the moderation endpoint flag its input (deterministic, for tests).
_FLAG_WORDS: Final = {
    "kill": ("violence",),
    "murder": ("violence",),
    "attack": ("violence",),
    "gore": ("violence", "violence/graphic"),
    "hate": ("hate", "harassment"),
    "idiot": ("harassment",),
    "threaten": ("harassment", "harassment/threatening"),
    "suicide": ("self-harm", "self-harm/intent"),
    "bomb": ("illicit", "illicit/violent", "violence"),
    "steal": ("illicit",),
}

_FILE_PURPOSES: Final = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")
_BATCH_ENDPOINTS: Final = (
    "/v1/responses",
    "/v1/chat/completions",
    "/v1/embeddings",
    "/v1/completions",
    "/v1/moderations",
    "/v1/images/generations",
)
_MESSAGE_ROLES: Final = ("system", "assistant", "user", "function", "tool", "developer")
_TERMINAL_BATCH: Final = frozenset({"completed", "failed", "expired", "cancelled"})

# --------------------------------------------------------------------------------------
# Internal request/answer objects


@dataclass(slots=True)
class _Call:
    """What an endpoint function gets."""

    record: RequestRecord
    args: tuple[str, ...] = ()
    body: dict[str, Any] = field(default_factory=dict)
    allow_stream: bool = True
    pad: int = 0  # oversized_event: size of the big SSE event to add (0: none)


@dataclass(slots=True)
class _Reply:
    """What an endpoint function answers (turned into a Response by the server)."""

    payload: Any = None  # JSON-encodable
    status: int = 200
    raw: bytes | None = None  # a pre-encoded body (then content_type applies)
    content_type: str = _JSON_CT
    events: list[bytes] | None = None  # SSE events, framed
    chunks: list[bytes] | None = None  # a non-SSE body sent chunked
    headers: list[tuple[str, str]] | None = None


def _sse(obj: Any) -> bytes:
    data: bytes = _encode(obj)
    return b"data: " + data + b"\n\n"


def _typed_sse(obj: dict[str, Any]) -> bytes:
    name: str = obj["type"]
    data: bytes = _encode(obj)
    return b"event: " + name.encode() + b"\ndata: " + data + b"\n\n"


_DONE: Final = b"data: [DONE]\n\n"


@dataclass
class _FileEntry:
    id: str
    data: bytes
    filename: str
    purpose: str
    created_at: int
    expires_at: int | None

    def obj(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "file",
            "bytes": len(self.data),
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": "processed",
        }


@dataclass
class _ResponseEntry:
    obj: dict[str, Any]
    input_items: list[dict[str, Any]]
    final: dict[str, Any] | None = None  # a background response's result, once run


def _page(
    items: list[dict[str, Any]], after: str | None, limit: int, *, with_ids: bool = True
) -> dict[str, Any]:
    """A cursor page over *items* (already in the requested order)."""
    start = 0
    if after is not None:
        for i, item in enumerate(items):
            if item.get("id") == after:
                start = i + 1
                break
    data = items[start : start + limit]
    page: dict[str, Any] = {"object": "list", "data": data}
    if with_ids:
        page["first_id"] = data[0]["id"] if data else None
        page["last_id"] = data[-1]["id"] if data else None
    page["has_more"] = start + limit < len(items)
    return page


def _batch_view(batch: dict[str, Any]) -> dict[str, Any]:
    """A batch as sent: unset fields are left out.

    (The spec's examples show them as null, but its schema types them without null;
    clients must accept both, and leaving them out satisfies the schema.)
    """
    return {k: v for k, v in batch.items() if v is not None}


# --------------------------------------------------------------------------------------
# Multipart


_DISPOSITION_PARAM = re.compile(r';\s*([\w*-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')


def _content_type_param(content_type: str, name: str) -> str | None:
    for match in _DISPOSITION_PARAM.finditer(content_type):
        if match.group(1).lower() == name:
            value = match.group(2).strip()
            if value.startswith('"') and value.endswith('"'):
                value = value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
            return value
    return None


def _parse_multipart(body: bytes, content_type: str) -> dict[str, Any] | None:
    """Parse ``multipart/form-data``; None when it is malformed."""
    boundary = _content_type_param(content_type, "boundary")
    if not boundary:
        return None
    delimiter = b"--" + boundary.encode("latin-1")
    pieces = body.split(delimiter)
    if len(pieces) < 2:
        return None
    form: dict[str, Any] = {}
    for piece in pieces[1:]:
        if piece.startswith(b"--"):
            break
        if piece.startswith(b"\r\n"):
            piece = piece[2:]
        if piece.endswith(b"\r\n"):
            piece = piece[:-2]
        head, sep, data = piece.partition(b"\r\n\r\n")
        if not sep:
            return None
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, colon, text = line.partition(":")
            if colon:
                headers[key.strip().lower()] = text.strip()
        disposition = headers.get("content-disposition", "")
        name = _content_type_param(disposition, "name")
        if name is None:
            return None
        filename = _content_type_param(disposition, "filename")
        value: Any
        if filename is not None:
            value = UploadedFile(filename, headers.get("content-type"), data)
        else:
            value = data.decode("utf-8", "replace")
        if name in form:
            previous = form[name]
            form[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            form[name] = value
    return form


# --------------------------------------------------------------------------------------
# Routing

_JSON_BODY: Final = 1
_MULTIPART_BODY: Final = 2
_RATE_LIMITED: Final = 4

_Endpoint = Callable[["MockOpenAIServer", _Call], _Reply]

# Endpoint functions for batch lines, by URL.
_BATCH_TARGETS: Final[dict[str, str]] = {
    "/v1/chat/completions": "_chat_completions",
    "/v1/completions": "_completions",
    "/v1/embeddings": "_embeddings",
    "/v1/moderations": "_moderations",
    "/v1/images/generations": "_images_generations",
    "/v1/responses": "_responses_create",
}


def _route(method: str, parts: list[str]) -> tuple[str, tuple[str, ...], int] | None:
    """Map ``(method, path segments after /v1)`` to (endpoint name, path args, flags)."""
    post = method == "POST"
    get = method == "GET"
    delete = method == "DELETE"
    n = len(parts)
    head = parts[0] if parts else ""
    if head == "chat" and n == 2 and parts[1] == "completions" and post:
        return "_chat_completions", (), _JSON_BODY | _RATE_LIMITED
    if head == "completions" and n == 1 and post:
        return "_completions", (), _JSON_BODY | _RATE_LIMITED
    if head == "embeddings" and n == 1 and post:
        return "_embeddings", (), _JSON_BODY | _RATE_LIMITED
    if head == "moderations" and n == 1 and post:
        return "_moderations", (), _JSON_BODY | _RATE_LIMITED
    if head == "models":
        if n == 1 and get:
            return "_models_list", (), 0
        if n == 2 and get:
            return "_models_retrieve", (parts[1],), 0
        if n == 2 and delete:
            return "_models_delete", (parts[1],), 0
        return None
    if head == "files":
        if n == 1 and post:
            return "_files_create", (), _MULTIPART_BODY
        if n == 1 and get:
            return "_files_list", (), 0
        if n == 2 and get:
            return "_files_retrieve", (parts[1],), 0
        if n == 2 and delete:
            return "_files_delete", (parts[1],), 0
        if n == 3 and parts[2] == "content" and get:
            return "_files_content", (parts[1],), 0
        return None
    if head == "batches":
        if n == 1 and post:
            return "_batches_create", (), _JSON_BODY
        if n == 1 and get:
            return "_batches_list", (), 0
        if n == 2 and get:
            return "_batches_retrieve", (parts[1],), 0
        if n == 3 and parts[2] == "cancel" and post:
            return "_batches_cancel", (parts[1],), 0
        return None
    if head == "images" and n == 2 and parts[1] == "generations" and post:
        return "_images_generations", (), _JSON_BODY | _RATE_LIMITED
    if head == "audio" and n == 2 and post:
        if parts[1] == "speech":
            return "_audio_speech", (), _JSON_BODY | _RATE_LIMITED
        if parts[1] == "transcriptions":
            return "_audio_transcriptions", (), _MULTIPART_BODY | _RATE_LIMITED
        return None
    if head == "responses":
        if n == 1 and post:
            return "_responses_create", (), _JSON_BODY | _RATE_LIMITED
        if n == 2 and get:
            return "_responses_retrieve", (parts[1],), 0
        if n == 2 and delete:
            return "_responses_delete", (parts[1],), 0
        if n == 3 and parts[2] == "cancel" and post:
            return "_responses_cancel", (parts[1],), 0
        if n == 3 and parts[2] == "input_items" and get:
            return "_responses_input_items", (parts[1],), 0
        return None
    return None


# --------------------------------------------------------------------------------------
# The server


class MockOpenAIServer:
    """A running mock OpenAI server; get one from :func:`open_mock_server`.

    Attributes:
        base_url: e.g. ``"http://127.0.0.1:PORT/v1"`` (``https`` with TLS).
        api_key: the key clients must send (None: any key is accepted).
        requests: every :class:`RequestRecord`, in order.
        faults: the current :class:`FaultPlan` (or None); may be replaced any time.
        rate_limits: the current :class:`RateLimitSim` (or None); may be replaced.
        seed: the seed of all generated content and ids.
        latency: seconds to wait before answering each request.
        batch_delay: seconds each batch stage and line takes (0: as fast as possible).
        background_delay: seconds a ``background: true`` response stays queued.
        stream_interval: seconds between SSE events (0: no pause).
        max_body_size: larger request bodies get a 400.
        ca: the ``trustme.CA`` of a TLS server (None without TLS).
        http: the underlying :class:`HTTPServer` (connection statistics, options).
    """

    def __init__(
        self,
        *,
        api_key: str | None,
        seed: int,
        faults: FaultPlan | None,
        rate_limits: RateLimitSim | None,
        latency: float,
        batch_delay: float,
        background_delay: float,
        stream_interval: float,
        max_body_size: int,
        record_requests: bool,
    ) -> None:
        self.api_key = api_key
        self.seed = seed
        self.faults = faults
        self.rate_limits = rate_limits
        self.latency = latency
        self.batch_delay = batch_delay
        self.background_delay = background_delay
        self.stream_interval = stream_interval
        self.max_body_size = max_body_size
        self.record_requests = record_requests
        self.requests: list[RequestRecord] = []
        self.ca: trustme.CA | None = None
        self.base_url = ""
        self.origin = ""
        self._http: HTTPServer | None = None
        self._nursery: trio.Nursery | None = None
        self._errors: list[Exception] = []
        self._request_count = 0  # request ids handed out (batch lines get one too)
        self._received = 0  # HTTP requests received
        self._id_count = 0
        self._per_path: dict[str, int] = {}
        self._statuses: dict[int, int] = {}
        self._rate_limited = 0
        self._faults_fired: dict[str, int] = {}
        self._models: dict[str, dict[str, Any]] = {
            mid: {"id": mid, "object": "model", "created": created, "owned_by": owner}
            for mid, created, owner in _MODELS
        }
        self._models_body: bytes | None = None
        self._files: dict[str, _FileEntry] = {}
        self._batches: dict[str, dict[str, Any]] = {}
        self._responses: dict[str, _ResponseEntry] = {}
        self._images: dict[str, bytes] = {}

    def __repr__(self) -> str:
        return f"<MockOpenAIServer {self.base_url} requests={self._received}>"

    # -- public helpers ---------------------------------------------------------------

    @property
    def http(self) -> HTTPServer:
        """The underlying HTTP server."""
        if self._http is None:
            raise RuntimeError("the mock server is not running")
        return self._http

    @property
    def errors(self) -> list[Exception]:
        """Exceptions raised by endpoint code or background tasks (should stay empty)."""
        http_errors = self._http.errors if self._http is not None else []
        return [*http_errors, *self._errors]

    @property
    def stats(self) -> MockStats:
        """A snapshot of the counters (see :class:`MockStats`)."""
        conn = self.http.statistics()
        return MockStats(
            connections_opened=conn.connections_opened,
            connections_open=conn.connections_open,
            requests=self._received,
            requests_per_path=dict(self._per_path),
            statuses=dict(self._statuses),
            rate_limited=self._rate_limited,
            too_many_requests=self._statuses.get(429, 0),
            faults_fired=dict(self._faults_fired),
        )

    def client_ssl_context(self) -> ssl.SSLContext:
        """A verifying client SSL context that trusts this server's CA.

        Raises:
            RuntimeError: the server does not use TLS.
        """
        if self.ca is None:
            raise RuntimeError("this mock server was opened without tls=True")
        return client_context(self.ca)

    def add_fault(
        self,
        fault: Fault,
        *,
        path: str | None = None,
        method: str | None = None,
        match: Callable[[RequestRecord], bool] | None = None,
        when: Schedule | None = None,
    ) -> FaultRule:
        """Add one fault rule to the current plan (creating a plan if there is none).

        Returns:
            The new :class:`FaultRule` (its ``seen``/``fired`` counters are live).
        """
        if self.faults is None:
            self.faults = FaultPlan()
        self.faults.add(fault, path=path, method=method, match=match, when=when)
        return self.faults.rules[-1]

    def add_file(
        self, data: bytes, *, filename: str = "upload.jsonl", purpose: str = "batch"
    ) -> str:
        """Store a file directly (as if uploaded); return its id."""
        return self._store_file(data, filename, purpose, None).id

    def file_content(self, file_id: str) -> bytes:
        """The bytes of a stored file (e.g. a batch output file).

        Raises:
            KeyError: no such file.
        """
        return self._files[file_id].data

    # -- ids --------------------------------------------------------------------------

    def _new_id(self, prefix: str, size: int = 12) -> str:
        self._id_count += 1
        digest = hashlib.blake2b(
            f"{self.seed}:{prefix}:{self._id_count}".encode(), digest_size=size
        ).hexdigest()
        return prefix + digest

    def _new_request_id(self) -> str:
        self._request_count += 1
        digest = hashlib.blake2b(
            f"{self.seed}:req:{self._request_count}".encode(), digest_size=16
        ).hexdigest()
        return "req_" + digest

    # -- the handler ------------------------------------------------------------------

    async def _handle(self, request: Request) -> Response | Misbehaviour:
        start = trio.current_time()
        record = self._record(request)
        plan = self.faults
        selection = plan.select(record) if plan is not None else None
        outcome: Fault | None = None
        trickle: float | None = None
        if selection is not None:
            trickle = await self._apply_modifiers(selection)
            outcome = selection.outcome
            if outcome is not None:
                early = self._early_fault(outcome, record, start)
                if early is not None:
                    return early
        if self.latency > 0:
            await trio.sleep(self.latency)
        pad = outcome.size if outcome is not None and outcome.kind == "oversized_event" else 0
        reply, extra = self._serve(record, pad)
        response = self._respond(record, reply, extra, start)
        if outcome is not None:
            response = self._late_fault(outcome, reply, response)
        if trickle is not None:
            response.trickle = trickle
        return response

    def _record(self, request: Request) -> RequestRecord:
        headers = dict(request.headers)
        body = request.body
        json_value: Any = None
        form: dict[str, Any] | None = None
        if body and len(body) <= self.max_body_size:
            ctype = headers.get("content-type", "")
            if ctype.startswith("multipart/form-data"):
                form = _parse_multipart(body, ctype)
            elif not ctype or "json" in ctype:
                try:
                    json_value = _decode(body)
                except msgspec.DecodeError:
                    json_value = None
        record = RequestRecord(
            request.method,
            request.path,
            request.query,
            headers,
            body,
            self._new_request_id(),
            json_value,
            form,
            trio.current_time(),
        )
        if self.record_requests:
            self.requests.append(record)
        path = request.path
        self._received += 1
        self._per_path[path] = self._per_path.get(path, 0) + 1
        return record

    def _fired(self, kind: str) -> None:
        self._faults_fired[kind] = self._faults_fired.get(kind, 0) + 1

    async def _apply_modifiers(self, selection: Selection) -> float | None:
        trickle: float | None = None
        for fault in selection.modifiers:
            self._fired(fault.kind)
            if fault.kind == "latency":
                await trio.sleep(fault.seconds)
            elif fault.kind == "trickle":
                trickle = fault.seconds
            elif fault.kind == "close_idle_after":
                self.http.close_idle_after = fault.seconds
        return trickle

    def _early_fault(
        self, fault: Fault, record: RequestRecord, start: float
    ) -> Response | Misbehaviour | None:
        kind = fault.kind
        if kind == "reset":
            self._fired(kind)
            return Reset()
        if kind == "stall":
            self._fired(kind)
            return Stall()
        if kind == "invalid_json":
            self._fired(kind)
            return self._respond(record, _Reply(raw=fault.body), None, start)
        if kind == "status":
            self._fired(kind)
            code = fault.status_code
            defaults = _STATUS_ERRORS.get(code)
            if defaults is None:
                try:
                    phrase = HTTPStatus(code).phrase + "."
                except ValueError:  # an unregistered code: no standard phrase
                    phrase = f"Error {code}."
                kind_of = "server_error" if code >= 500 else "invalid_request_error"
                defaults = (phrase, kind_of, None)
            message, type_, err_code = defaults
            body = {
                "error": {
                    "message": fault.message if fault.message is not None else message,
                    "type": fault.error_type if fault.error_type is not None else type_,
                    "param": None,
                    "code": fault.error_code if fault.error_code is not None else err_code,
                }
            }
            headers: list[tuple[str, str]] = []
            if fault.retry_after is not None:
                headers.append(("retry-after", _number_text(fault.retry_after)))
            if fault.retry_after_ms is not None:
                headers.append(("retry-after-ms", _number_text(fault.retry_after_ms)))
            if fault.should_retry is not None:
                headers.append(("x-should-retry", "true" if fault.should_retry else "false"))
            return self._respond(record, _Reply(body, status=code, headers=headers), None, start)
        return None

    def _late_fault(self, fault: Fault, reply: _Reply, response: Response) -> Response:
        kind = fault.kind
        if kind == "oversized_event":
            if reply.events is not None:
                self._fired(kind)
        elif kind == "drop_mid_stream":
            if reply.events is not None:
                self._fired(kind)
                response.body = self._events_body(
                    reply.events, cut=fault.after_events, rst=fault.rst
                )
        elif kind == "drop_mid_body":
            self._fired(kind)
            body = response.body
            if isinstance(body, bytes):
                response.headers.append(("content-length", str(len(body))))
                response.body = _cut_bytes(body, min(fault.after_bytes, len(body) - 1), fault.rst)
            else:
                response.body = _cut_stream(body, fault.after_bytes, fault.rst)
        return response

    def _respond(
        self,
        record: RequestRecord,
        reply: _Reply,
        extra: list[tuple[str, str]] | None,
        start: float,
    ) -> Response:
        status = reply.status
        record.status = status
        self._statuses[status] = self._statuses.get(status, 0) + 1
        elapsed = int((trio.current_time() - start) * 1000)
        content_type = _SSE_CT if reply.events is not None else reply.content_type
        headers = [
            ("content-type", content_type),
            ("x-request-id", record.request_id),
            ("openai-version", OPENAI_VERSION),
            ("openai-processing-ms", str(elapsed)),
        ]
        if reply.events is not None:
            headers.append(("cache-control", "no-cache"))
        if reply.headers:
            headers += reply.headers
        if extra:
            headers += extra
        body: bytes | AsyncIterable[bytes]
        if reply.events is not None:
            body = self._events_body(reply.events)
        elif reply.chunks is not None:
            body = self._chunks_body(reply.chunks)
        elif reply.raw is not None:
            body = reply.raw
        else:
            body = _encode(reply.payload)
        return Response(status, headers, body)

    async def _events_body(
        self, events: list[bytes], cut: int | None = None, rst: bool = False
    ) -> AsyncIterator[bytes]:
        interval = self.stream_interval
        for i, event in enumerate(events):
            if cut is not None and i >= cut:
                raise Reset() if rst else CloseWithoutResponse()
            if interval > 0 and i:
                await trio.sleep(interval)
            yield event

    async def _chunks_body(self, chunks: list[bytes]) -> AsyncIterator[bytes]:
        interval = self.stream_interval
        for i, chunk in enumerate(chunks):
            if interval > 0 and i:
                await trio.sleep(interval)
            yield chunk

    # -- auth, routing, body checks ---------------------------------------------------

    def _serve(
        self, record: RequestRecord, pad: int
    ) -> tuple[_Reply, list[tuple[str, str]] | None]:
        """Everything after the faults: auth, route, checks, rate limits, endpoint."""
        path = record.path
        if record.method == "GET" and path.startswith("/images/"):
            return self._image_file(path[len("/images/") :]), None
        try:
            self._check_auth(record)
            route = _route(record.method, path[4:].split("/")) if path.startswith("/v1/") else None
            if route is None:
                raise _not_found(f"Invalid URL ({record.method} {path})")
        except _APIError as exc:
            return _Reply(exc.body, status=exc.status), None
        name, args, flags = route
        extra: list[tuple[str, str]] | None = None
        try:
            sim = self.rate_limits
            if flags & _RATE_LIMITED and sim is not None:
                # Charged before the body is checked: a malformed request still counts,
                # and every answer of a rate-limited endpoint carries the headers.
                extra = self._charge(sim, record)
            body = self._check_body(record, flags)
            endpoint: _Endpoint = getattr(MockOpenAIServer, name)
            reply = endpoint(self, _Call(record, args, body, True, pad))
        except _RateLimited as exc:
            return _Reply(exc.body, status=429, headers=exc.headers), None
        except _APIError as exc:
            return _Reply(exc.body, status=exc.status), extra
        return reply, extra

    def _check_auth(self, record: RequestRecord) -> None:
        auth = record.headers.get("authorization")
        key = ""
        if auth is not None:
            scheme, _, value = auth.partition(" ")
            if scheme.lower() == "bearer":
                key = value.strip()
        if not key:
            raise _APIError(401, _NO_KEY_MESSAGE)
        expected = self.api_key
        if expected is not None and not hmac.compare_digest(key.encode(), expected.encode()):
            raise _APIError(
                401,
                f"Incorrect API key provided: {_mask_key(key)}. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
                code="invalid_api_key",
            )

    def _check_body(self, record: RequestRecord, flags: int) -> dict[str, Any]:
        body = record.body
        if len(body) > self.max_body_size:
            raise _APIError(
                400,
                f"Request body too large: {len(body)} bytes; the limit is "
                f"{self.max_body_size} bytes.",
                code="request_too_large",
            )
        if flags & _JSON_BODY:
            ctype = record.headers.get("content-type")
            if ctype is not None and ctype.split(";")[0].strip().lower() != _JSON_CT:
                raise _APIError(
                    400,
                    f"Unsupported content type: '{ctype}'. This API method only accepts "
                    f"'application/json' requests, but you specified the header "
                    f"'Content-Type: {ctype}'. Please try again with a supported content type.",
                    code="unsupported_content_type",
                )
            value = record.json
            if value is None:
                raise _APIError(400, _BAD_JSON_MESSAGE)
            if not isinstance(value, dict):
                raise _APIError(
                    400,
                    "Invalid type for request body: expected an object, but got "
                    f"{_type_name(value)} instead.",
                    code="invalid_type",
                )
            return value
        if flags & _MULTIPART_BODY:
            ctype = record.headers.get("content-type", "")
            if not ctype.startswith("multipart/form-data"):
                raise _APIError(
                    400,
                    f"Unsupported content type: '{ctype}'. This API method only accepts "
                    "'multipart/form-data' requests, but you specified the header "
                    f"'Content-Type: {ctype}'. Please try again with a supported content type.",
                    code="unsupported_content_type",
                )
            if record.form is None:
                raise _APIError(400, "Could not parse multipart form data.")
            return record.form
        return {}

    def _charge(self, sim: RateLimitSim, record: RequestRecord) -> list[tuple[str, str]]:
        body = record.json if record.json is not None else record.form
        if isinstance(body, dict):
            model = body.get("model")
            tokens = estimate_tokens(body)
        else:
            model = None
            tokens = max(1, len(record.body) // 4)
        decision = sim.check(
            trio.current_time(),
            tokens=tokens,
            model=model if isinstance(model, str) else "unknown",
        )
        if decision.allowed:
            return decision.headers
        self._rate_limited += 1
        raise _RateLimited(decision.error or {}, decision.headers)

    # -- models -----------------------------------------------------------------------

    def _models_list(self, call: _Call) -> _Reply:
        if self._models_body is None:
            self._models_body = _encode({"object": "list", "data": list(self._models.values())})
        return _Reply(raw=self._models_body)

    def _models_retrieve(self, call: _Call) -> _Reply:
        model_id = unquote(call.args[0])
        model = self._models.get(model_id)
        if model is None:
            raise _not_found(
                f"The model '{model_id}' does not exist", param="model", code="model_not_found"
            )
        return _Reply(model)

    def _models_delete(self, call: _Call) -> _Reply:
        model_id = unquote(call.args[0])
        if not model_id.startswith("ft:"):
            # OpenAI lets an organization delete only the fine-tuned models it owns.
            raise _APIError(
                403,
                f"You have insufficient permissions to delete the model '{model_id}'. Only "
                "fine-tuned models owned by your organization can be deleted.",
                param="model",
                code="model_not_deletable",
            )
        if self._models.pop(model_id, None) is None:
            raise _not_found(
                f"The model '{model_id}' does not exist", param="model", code="model_not_found"
            )
        self._models_body = None
        return _Reply({"id": model_id, "object": "model", "deleted": True})

    # -- chat completions -------------------------------------------------------------

    def _chat_completions(self, call: _Call) -> _Reply:
        body = call.body
        model = _get_str(body, "model", required=True)
        assert model is not None
        messages = _get_list(body, "messages", required=True, non_empty=True)
        assert messages is not None
        prompt = ""
        last_role = ""
        prompt_tokens = 3
        for i, message in enumerate(messages):
            if not isinstance(message, dict):
                raise _bad_type(f"messages[{i}]", "an object", message)
            role = message.get("role")
            if role is None:
                raise _missing(f"messages[{i}].role")
            if role not in _MESSAGE_ROLES:
                raise _bad_value(f"messages[{i}].role", role, _MESSAGE_ROLES)
            text = _text_of(message.get("content"))
            prompt_tokens += _count_tokens(text) + 3
            last_role = role
            if role == "user":
                prompt = text
        n = _get_int(body, "n", 1, lo=1, hi=128) or 1
        _check_number(body, "temperature", 0, 2)
        _check_number(body, "top_p", 0, 1)
        _check_number(body, "frequency_penalty", -2, 2)
        _check_number(body, "presence_penalty", -2, 2)
        stream = _get_bool(body, "stream") and call.allow_stream
        stream_options = _get_dict(body, "stream_options")
        if stream_options is not None and not _get_bool(body, "stream"):
            raise _APIError(
                400,
                "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                param="stream_options",
                code="invalid_value",
            )
        include_usage = stream_options is not None and stream_options.get("include_usage") is True
        logprobs = _get_bool(body, "logprobs")
        top_logprobs = _get_int(body, "top_logprobs", None, lo=0, hi=20)
        if top_logprobs is not None and not logprobs:
            raise _APIError(
                400,
                "Invalid value for 'top_logprobs': 'logprobs' must be set to true when "
                "'top_logprobs' is used.",
                param="top_logprobs",
                code="invalid_value",
            )
        max_tokens = _get_int(body, "max_completion_tokens", None, lo=1)
        if max_tokens is None:
            max_tokens = _get_int(body, "max_tokens", None, lo=1)
        tools = _get_list(body, "tools")
        tool = None
        if tools and last_role != "tool":
            tool = _pick_tool(tools, body.get("tool_choice"), flat=False)
        response_format = _get_dict(body, "response_format")
        schema_key = f"{self.seed}:{prompt}"
        choices: list[_Choice] = []
        for index in range(n):
            if tool is not None:
                choices.append(self._tool_choice(tool, prompt, index, responses=False))
            else:
                choices.append(
                    _text_choice(self.seed, prompt, index, response_format, max_tokens, schema_key)
                )
        completion_tokens = sum(c.tokens for c in choices)
        usage = _chat_usage(prompt_tokens, completion_tokens)
        created = int(time.time())
        completion_id = self._new_id("chatcmpl-", 12)
        top = top_logprobs or 0
        if stream:
            return self._chat_stream(
                completion_id,
                created,
                model,
                choices,
                usage,
                include_usage,
                logprobs,
                top,
                call.pad,
            )
        out_choices = []
        for index, choice in enumerate(choices):
            answer: dict[str, Any] = {
                "role": "assistant",
                "content": choice.content,
                "refusal": None,
                "annotations": [],
            }
            if choice.tool_calls is not None:
                answer["tool_calls"] = choice.tool_calls
            lp = None
            if logprobs and choice.pieces:
                lp = {
                    "content": [_token_logprob(t, i, top) for i, t in enumerate(choice.pieces)],
                    "refusal": None,
                }
            out_choices.append(
                {
                    "index": index,
                    "message": answer,
                    "logprobs": lp,
                    "finish_reason": choice.finish_reason,
                }
            )
        return _Reply(
            {
                "id": completion_id,
                "object": "chat.completion",
                "created": created,
                "model": model,
                "choices": out_choices,
                "usage": usage,
                "service_tier": "default",
                "system_fingerprint": _FINGERPRINT,
            }
        )

    def _tool_choice(
        self, tool: dict[str, Any], prompt: str, index: int, *, responses: bool
    ) -> _Choice:
        name = tool["name"]
        call_id = self._new_id("call_", 12)
        if tool["type"] == "custom":
            text = "".join(_reply_tokens(self.seed, index, prompt))
            return _Choice(
                content=None,
                pieces=(),
                tokens=_count_tokens(text),
                finish_reason="tool_calls",
                tool_calls=[
                    {"id": call_id, "type": "custom", "custom": {"name": name, "input": text}}
                ],
                arguments=text,
                tool_name=name,
                call_id=call_id,
            )
        schema = tool.get("parameters")
        faker = _SchemaFaker(schema, f"{self.seed}:{index}:{name}:{prompt}")
        arguments = _encode(faker.value(schema) if isinstance(schema, dict) else {}).decode()
        return _Choice(
            content=None,
            pieces=(),
            tokens=_count_tokens(arguments),
            finish_reason="tool_calls",
            tool_calls=[
                {
                    "id": call_id,
                    "type": "function",
                    "function": {"name": name, "arguments": arguments},
                }
            ],
            arguments=arguments,
            tool_name=name,
            call_id=call_id,
        )

    def _chat_stream(
        self,
        completion_id: str,
        created: int,
        model: str,
        choices: list[_Choice],
        usage: dict[str, Any],
        include_usage: bool,
        logprobs: bool,
        top: int,
        pad: int,
    ) -> _Reply:
        prefix = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "service_tier": "default",
            "system_fingerprint": _FINGERPRINT,
        }

        def chunk(choice_delta: dict[str, Any]) -> bytes:
            obj = {**prefix, "choices": [choice_delta]}
            if include_usage:
                obj["usage"] = None
            return _sse(obj)

        per_choice: list[list[bytes]] = []
        for index, choice in enumerate(choices):
            events: list[bytes] = []
            first: dict[str, Any] = {"role": "assistant", "content": "", "refusal": None}
            if choice.tool_calls is not None:
                first["content"] = None
            events.append(
                chunk({"index": index, "delta": first, "logprobs": None, "finish_reason": None})
            )
            if pad and index == 0:
                events.append(
                    chunk(
                        {
                            "index": 0,
                            "delta": {"content": "x" * pad},
                            "logprobs": None,
                            "finish_reason": None,
                        }
                    )
                )
            if choice.tool_calls is not None:
                call = choice.tool_calls[0]
                kind = call["type"]
                first_call = {
                    "index": 0,
                    "id": call["id"],
                    "type": kind,
                    kind: {
                        "name": choice.tool_name,
                        "arguments" if kind == "function" else "input": "",
                    },
                }
                events.append(
                    chunk(
                        {
                            "index": index,
                            "delta": {"tool_calls": [first_call]},
                            "logprobs": None,
                            "finish_reason": None,
                        }
                    )
                )
                field_name = "arguments" if kind == "function" else "input"
                events.extend(
                    chunk(
                        {
                            "index": index,
                            "delta": {"tool_calls": [{"index": 0, kind: {field_name: piece}}]},
                            "logprobs": None,
                            "finish_reason": None,
                        }
                    )
                    for piece in _fragments(choice.arguments)
                )
            else:
                for position, piece in enumerate(choice.pieces):
                    lp = None
                    if logprobs:
                        lp = {"content": [_token_logprob(piece, position, top)], "refusal": None}
                    events.append(
                        chunk(
                            {
                                "index": index,
                                "delta": {"content": piece},
                                "logprobs": lp,
                                "finish_reason": None,
                            }
                        )
                    )
            events.append(
                chunk(
                    {
                        "index": index,
                        "delta": {},
                        "logprobs": None,
                        "finish_reason": choice.finish_reason,
                    }
                )
            )
            per_choice.append(events)
        events = _interleave(per_choice)
        if include_usage:
            events.append(_sse({**prefix, "choices": [], "usage": usage}))
        events.append(_DONE)
        return _Reply(events=events)

    # -- legacy completions -----------------------------------------------------------

    def _completions(self, call: _Call) -> _Reply:
        body = call.body
        model = _get_str(body, "model", required=True)
        assert model is not None
        raw_prompt = body.get("prompt", "<|endoftext|>")
        prompts: list[str]
        if isinstance(raw_prompt, str):
            prompts = [raw_prompt]
        elif isinstance(raw_prompt, list) and raw_prompt:
            if all(isinstance(p, str) for p in raw_prompt):
                prompts = list(raw_prompt)
            elif all(isinstance(p, int) and not isinstance(p, bool) for p in raw_prompt):
                prompts = [" ".join(map(str, raw_prompt))]
            elif all(isinstance(p, list) for p in raw_prompt):
                prompts = [" ".join(map(str, p)) for p in raw_prompt]
            else:
                raise _bad_type("prompt", "a string or an array of strings or tokens", raw_prompt)
        else:
            raise _bad_type("prompt", "a string or an array of strings or tokens", raw_prompt)
        n = _get_int(body, "n", 1, lo=1, hi=128) or 1
        _check_number(body, "temperature", 0, 2)
        max_tokens = _get_int(body, "max_tokens", 16, lo=0)
        logprobs = _get_int(body, "logprobs", None, lo=0, hi=5)
        echo = _get_bool(body, "echo")
        stream = _get_bool(body, "stream") and call.allow_stream
        stream_options = _get_dict(body, "stream_options")
        include_usage = stream and bool(stream_options and stream_options.get("include_usage"))
        created = int(time.time())
        completion_id = self._new_id("cmpl-", 12)
        results: list[tuple[int, str, tuple[str, ...], str]] = []
        prompt_tokens = 0
        completion_tokens = 0
        for p_index, prompt in enumerate(prompts):
            prompt_tokens += _count_tokens(prompt)
            for i in range(n):
                tokens = _reply_tokens(self.seed, i, prompt)
                finish = "stop"
                if max_tokens is not None and len(tokens) > max_tokens:
                    tokens = tokens[:max_tokens]
                    finish = "length"
                completion_tokens += len(tokens)
                text = (prompt if echo else "") + "".join(tokens)
                results.append((p_index * n + i, text, tokens, finish))
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
        prefix = {
            "id": completion_id,
            "object": "text_completion",
            "created": created,
            "model": model,
            "system_fingerprint": _FINGERPRINT,
        }
        if stream:
            per_choice: list[list[bytes]] = []
            for index, _text, tokens, finish in results:
                events: list[bytes] = []
                pieces = list(tokens)
                if call.pad and index == 0:
                    pieces.insert(0, "x" * call.pad)
                for position, piece in enumerate(pieces):
                    events.append(
                        _sse(
                            {
                                **prefix,
                                "choices": [
                                    {
                                        "text": piece,
                                        "index": index,
                                        "logprobs": _legacy_logprobs((piece,), logprobs, position)
                                        if logprobs is not None
                                        else None,
                                        "finish_reason": None,
                                    }
                                ],
                            }
                        )
                    )
                events.append(
                    _sse(
                        {
                            **prefix,
                            "choices": [
                                {
                                    "text": "",
                                    "index": index,
                                    "logprobs": None,
                                    "finish_reason": finish,
                                }
                            ],
                        }
                    )
                )
                per_choice.append(events)
            events = _interleave(per_choice)
            if include_usage:
                events.append(_sse({**prefix, "choices": [], "usage": usage}))
            events.append(_DONE)
            return _Reply(events=events)
        return _Reply(
            {
                **prefix,
                "choices": [
                    {
                        "text": text,
                        "index": index,
                        "logprobs": _legacy_logprobs(tokens, logprobs, 0)
                        if logprobs is not None
                        else None,
                        "finish_reason": finish,
                    }
                    for index, text, tokens, finish in results
                ],
                "usage": usage,
            }
        )

    # -- embeddings -------------------------------------------------------------------

    def _embeddings(self, call: _Call) -> _Reply:
        body = call.body
        model = _get_str(body, "model", required=True)
        assert model is not None
        if "input" not in body or body["input"] is None:
            raise _missing("input")
        raw = body["input"]
        texts: list[str]
        if isinstance(raw, str):
            texts = [raw]
        elif isinstance(raw, list) and raw:
            if all(isinstance(x, str) for x in raw):
                texts = list(raw)
            elif all(isinstance(x, int) and not isinstance(x, bool) for x in raw):
                texts = ["\x01" + ",".join(map(str, raw))]
            elif all(isinstance(x, list) and x and all(isinstance(t, int) for t in x) for x in raw):
                texts = ["\x01" + ",".join(map(str, x)) for x in raw]
            else:
                raise _bad_type("input", "a string or an array of strings or tokens", raw)
        elif isinstance(raw, list):
            raise _APIError(
                400,
                "Invalid 'input': empty array. Expected an array with minimum length 1, but "
                "got an empty array instead.",
                param="input",
                code="empty_array",
            )
        else:
            raise _bad_type("input", "a string or an array of strings or tokens", raw)
        if len(texts) > 2048:
            raise _APIError(
                400,
                f"Invalid 'input': array too long. Expected an array with maximum length 2048, "
                f"but got an array with length {len(texts)} instead.",
                param="input",
                code="array_above_max_length",
            )
        for i, text in enumerate(texts):
            if text == "":
                raise _APIError(
                    400,
                    f"'$.input' is invalid. Please check the API reference: "
                    f"https://platform.openai.com/docs/api-reference. (empty input at {i})",
                    param="input",
                    code="invalid_value",
                )
        default_dims = 3072 if model == "text-embedding-3-large" else 1536
        dims = _get_int(body, "dimensions", default_dims, lo=1, hi=default_dims) or default_dims
        encoding = _get_enum(body, "encoding_format", ("float", "base64"), "float")
        data = []
        prompt_tokens = 0
        for index, text in enumerate(texts):
            values, packed = _embedding(self.seed, text, dims)
            if text.startswith("\x01"):
                prompt_tokens += text.count(",") + 1
            else:
                prompt_tokens += _count_tokens(text)
            embedding: Any = (
                base64.b64encode(packed).decode("ascii") if encoding == "base64" else values
            )
            data.append({"object": "embedding", "index": index, "embedding": embedding})
        return _Reply(
            {
                "object": "list",
                "data": data,
                "model": model,
                "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens},
            }
        )

    # -- moderations ------------------------------------------------------------------

    def _moderations(self, call: _Call) -> _Reply:
        body = call.body
        if "input" not in body or body["input"] is None:
            raise _missing("input")
        raw = body["input"]
        model = _get_str(body, "model") or "omni-moderation-latest"
        inputs: list[tuple[str, bool]]  # (text, has an image)
        if isinstance(raw, str):
            inputs = [(raw, False)]
        elif isinstance(raw, list) and raw and all(isinstance(x, str) for x in raw):
            inputs = [(x, False) for x in raw]
        elif isinstance(raw, list) and raw and all(isinstance(x, dict) for x in raw):
            has_image = any(x.get("type") == "image_url" for x in raw)
            inputs = [(_text_of(raw), has_image)]
        else:
            raise _bad_type("input", "a string, an array of strings or content parts", raw)
        results = [self._moderation_result(text, image) for text, image in inputs]
        return _Reply({"id": self._new_id("modr-", 12), "model": model, "results": results})

    def _moderation_result(self, text: str, image: bool) -> dict[str, Any]:
        lowered = text.lower()
        hit: set[str] = set()
        for word, cats in _FLAG_WORDS.items():
            if word in lowered:
                hit.update(cats)
        categories: dict[str, Any] = {}
        scores: dict[str, float] = {}
        applied: dict[str, list[str]] = {}
        for cat in _MODERATION_CATEGORIES:
            flagged = cat in hit
            categories[cat] = flagged
            base = (zlib.crc32(f"{self.seed}\x00{cat}\x00{text}".encode()) % 1000) / 1e6
            scores[cat] = round(0.9 + base, 6) if flagged else round(base, 8)
            kinds = ["text"]
            if image and cat in _IMAGE_CATEGORIES:
                kinds.append("image")
            applied[cat] = kinds
        return {
            "flagged": bool(hit),
            "categories": categories,
            "category_scores": scores,
            "category_applied_input_types": applied,
        }

    # -- images -----------------------------------------------------------------------

    def _images_generations(self, call: _Call) -> _Reply:
        body = call.body
        prompt = _get_str(body, "prompt", required=True)
        assert prompt is not None
        model = _get_str(body, "model") or "dall-e-2"
        n = _get_int(body, "n", 1, lo=1, hi=10) or 1
        gpt_image = model.startswith("gpt-image")
        response_format = _get_enum(
            body, "response_format", ("url", "b64_json"), "b64_json" if gpt_image else "url"
        )
        if gpt_image:
            response_format = "b64_json"
        data = []
        for i in range(n):
            h = _digest(self.seed, "image", i, prompt)
            png = _png((h[0], h[1], h[2]))
            item: dict[str, Any] = {}
            if response_format == "b64_json":
                item["b64_json"] = base64.b64encode(png).decode("ascii")
            else:
                name = h[:12].hex()
                self._images[name] = png
                item["url"] = f"{self.origin}/images/{name}.png"
            if model == "dall-e-3":
                item["revised_prompt"] = prompt
            data.append(item)
        out: dict[str, Any] = {"created": int(time.time()), "data": data}
        if gpt_image:
            tokens = _count_tokens(prompt)
            out["usage"] = {
                "input_tokens": tokens,
                "input_tokens_details": {"text_tokens": tokens, "image_tokens": 0},
                "output_tokens": 272 * n,
                "total_tokens": tokens + 272 * n,
            }
        return _Reply(out)

    def _image_file(self, name: str) -> _Reply:
        data = self._images.get(name.removesuffix(".png"))
        if data is None:
            return _Reply(_not_found("Image not found.").body, status=404)
        return _Reply(raw=data, content_type="image/png")

    # -- audio ------------------------------------------------------------------------

    def _audio_speech(self, call: _Call) -> _Reply:
        body = call.body
        _get_str(body, "model", required=True)
        text = _get_str(body, "input", required=True)
        assert text is not None
        if "voice" not in body or body["voice"] is None:
            raise _missing("voice")
        if len(text) > 4096:
            raise _APIError(
                400,
                f"Invalid 'input': string too long. Expected a string with maximum length "
                f"4096, but got a string with length {len(text)} instead.",
                param="input",
                code="string_above_max_length",
            )
        fmt = _get_enum(body, "response_format", tuple(_AUDIO_TYPES), "mp3")
        _check_number(body, "speed", 0.25, 4.0)
        key = _digest(self.seed, "speech", text)
        seconds = min(0.5 + 0.25 * len(text.split()), 10.0)
        if fmt == "wav":
            audio = _wav(seconds, key)
        else:  # about 128 kbit/s, like OpenAI's mp3
            size = int(seconds * 16000)
            stream = hashlib.shake_256(key).digest(size)
            magic = {"mp3": b"ID3\x04\x00\x00", "flac": b"fLaC", "opus": b"OggS"}.get(fmt, b"")
            audio = magic + stream
        stream_format = _get_enum(body, "stream_format", ("audio", "sse"), "audio")
        if stream_format == "sse" and call.allow_stream:
            events = [
                _sse(
                    {
                        "type": "speech.audio.delta",
                        "audio": base64.b64encode(audio[i : i + 4096]).decode("ascii"),
                    }
                )
                for i in range(0, len(audio), 4096)
            ]
            tokens = _count_tokens(text)
            events.append(
                _sse(
                    {
                        "type": "speech.audio.done",
                        "usage": {
                            "input_tokens": tokens,
                            "output_tokens": len(audio) // 100,
                            "total_tokens": tokens + len(audio) // 100,
                        },
                    }
                )
            )
            return _Reply(events=events)
        chunks = [audio[i : i + 4096] for i in range(0, len(audio), 4096)]
        return _Reply(chunks=chunks, content_type=_AUDIO_TYPES[fmt])

    def _audio_transcriptions(self, call: _Call) -> _Reply:
        form = call.body
        upload = form.get("file")
        if not isinstance(upload, UploadedFile):
            raise _missing("file")
        model = form.get("model")
        if not isinstance(model, str) or not model:
            raise _missing("model")
        fmt = form.get("response_format", "json")
        allowed = ("json", "text", "srt", "verbose_json", "vtt")
        if fmt not in allowed:
            raise _bad_value("response_format", fmt, allowed)
        key = hashlib.sha256(upload.data).hexdigest()
        tokens = _reply_tokens(self.seed, 0, key)
        text = "".join(tokens)
        duration = round(max(1.0, len(upload.data) / 16000), 2)
        if fmt == "text":
            return _Reply(raw=text.encode() + b"\n", content_type="text/plain; charset=utf-8")
        if fmt in ("srt", "vtt"):
            end = _timestamp(duration, comma=fmt == "srt")
            begin = _timestamp(0.0, comma=fmt == "srt")
            if fmt == "srt":
                doc = f"1\n{begin} --> {end}\n{text}\n\n"
            else:
                doc = f"WEBVTT\n\n{begin} --> {end}\n{text}\n\n"
            return _Reply(raw=doc.encode(), content_type="text/plain; charset=utf-8")
        if model.startswith("whisper") or fmt == "verbose_json":
            usage: dict[str, Any] = {"type": "duration", "seconds": math.ceil(duration)}
        else:
            audio_tokens = int(duration * 10)
            usage = {
                "type": "tokens",
                "input_tokens": audio_tokens,
                "input_token_details": {"text_tokens": 0, "audio_tokens": audio_tokens},
                "output_tokens": len(tokens),
                "total_tokens": audio_tokens + len(tokens),
            }
        if fmt == "json":
            return _Reply({"text": text, "usage": usage})
        granularities = form.get("timestamp_granularities[]", [])
        if isinstance(granularities, str):
            granularities = [granularities]
        step = duration / len(tokens)
        out: dict[str, Any] = {
            "task": "transcribe",
            "language": form.get("language") or "english",
            "duration": duration,
            "text": text,
        }
        if "word" in granularities:
            out["words"] = [
                {
                    "word": token.strip(),
                    "start": round(i * step, 3),
                    "end": round((i + 1) * step, 3),
                }
                for i, token in enumerate(tokens)
            ]
        if not granularities or "segment" in granularities:
            out["segments"] = [
                {
                    "id": 0,
                    "seek": 0,
                    "start": 0.0,
                    "end": duration,
                    "text": text,
                    "tokens": [50364 + i for i in range(len(tokens))],
                    "temperature": 0.0,
                    "avg_logprob": -0.25,
                    "compression_ratio": 1.2,
                    "no_speech_prob": 0.01,
                }
            ]
        out["usage"] = usage
        return _Reply(out)

    # -- files ------------------------------------------------------------------------

    def _store_file(
        self, data: bytes, filename: str, purpose: str, expires_after: int | None
    ) -> _FileEntry:
        created = int(time.time())
        if expires_after is None and purpose == "batch":
            expires_after = 30 * _DAY
        entry = _FileEntry(
            id=self._new_id("file-", 12),
            data=data,
            filename=filename,
            purpose=purpose,
            created_at=created,
            expires_at=created + expires_after if expires_after is not None else None,
        )
        self._files[entry.id] = entry
        return entry

    def _files_create(self, call: _Call) -> _Reply:
        form = call.body
        upload = form.get("file")
        if not isinstance(upload, UploadedFile):
            raise _missing("file")
        purpose = form.get("purpose")
        if purpose is None:
            raise _missing("purpose")
        if purpose not in _FILE_PURPOSES:
            raise _APIError(
                400,
                f"'{purpose}' is not one of {list(_FILE_PURPOSES)} - 'purpose'",
                param="purpose",
            )
        expires_after: int | None = None
        anchor = form.get("expires_after[anchor]")
        seconds = form.get("expires_after[seconds]")
        if anchor is not None or seconds is not None:
            if anchor != "created_at":
                raise _bad_value("expires_after.anchor", anchor, ("created_at",))
            try:
                expires_after = int(seconds) if isinstance(seconds, str) else -1
            except ValueError:
                expires_after = -1
            if not 3600 <= expires_after <= 2592000:
                raise _APIError(
                    400,
                    "Invalid 'expires_after.seconds': expected an integer between 3600 and "
                    f"2592000, got {seconds!r}.",
                    param="expires_after.seconds",
                    code="invalid_value",
                )
        return _Reply(self._store_file(upload.data, upload.filename, purpose, expires_after).obj())

    def _file(self, file_id: str) -> _FileEntry:
        entry = self._files.get(file_id)
        if entry is None:
            raise _not_found(f"No such File object: {file_id}", param="id")
        return entry

    def _files_list(self, call: _Call) -> _Reply:
        query = call.record.query
        limit = _query_int(query, "limit", 10000, 1, 10000)
        order = _query_order(query, "desc")
        purpose = query.get("purpose")
        entries = [e for e in self._files.values() if purpose is None or e.purpose == purpose]
        if order == "desc":
            entries.reverse()
        return _Reply(_page([e.obj() for e in entries], query.get("after"), limit))

    def _files_retrieve(self, call: _Call) -> _Reply:
        return _Reply(self._file(call.args[0]).obj())

    def _files_delete(self, call: _Call) -> _Reply:
        entry = self._file(call.args[0])
        del self._files[entry.id]
        return _Reply({"id": entry.id, "object": "file", "deleted": True})

    def _files_content(self, call: _Call) -> _Reply:
        return _Reply(raw=self._file(call.args[0]).data, content_type="application/octet-stream")

    # -- batches ----------------------------------------------------------------------

    def _batches_create(self, call: _Call) -> _Reply:
        body = call.body
        input_file_id = _get_str(body, "input_file_id", required=True)
        assert input_file_id is not None
        endpoint = _get_str(body, "endpoint", required=True)
        window = _get_str(body, "completion_window", required=True)
        if endpoint not in _BATCH_ENDPOINTS:
            raise _bad_value("endpoint", endpoint, _BATCH_ENDPOINTS)
        if window != "24h":
            raise _bad_value("completion_window", window, ("24h",))
        metadata = _get_dict(body, "metadata")
        entry = self._files.get(input_file_id)
        if entry is None:
            raise _not_found(f"No such File object: {input_file_id}", param="input_file_id")
        if entry.purpose != "batch":
            raise _APIError(
                400,
                f"The input file {input_file_id} must have purpose 'batch', but has purpose "
                f"'{entry.purpose}'.",
                param="input_file_id",
                code="invalid_file_purpose",
            )
        created = int(time.time())
        batch: dict[str, Any] = {
            "id": self._new_id("batch_", 12),
            "object": "batch",
            "endpoint": endpoint,
            "model": None,
            "errors": None,
            "input_file_id": input_file_id,
            "completion_window": "24h",
            "status": "validating",
            "output_file_id": None,
            "error_file_id": None,
            "created_at": created,
            "in_progress_at": None,
            "expires_at": created + _DAY,
            "finalizing_at": None,
            "completed_at": None,
            "failed_at": None,
            "expired_at": None,
            "cancelling_at": None,
            "cancelled_at": None,
            "request_counts": {"total": 0, "completed": 0, "failed": 0},
            "usage": None,
            "metadata": metadata,
        }
        self._batches[batch["id"]] = batch
        if self._nursery is not None:
            self._nursery.start_soon(self._run_batch, batch, entry.data)
        return _Reply(_batch_view(batch))

    def _batch(self, batch_id: str) -> dict[str, Any]:
        batch = self._batches.get(batch_id)
        if batch is None:
            raise _not_found(f"No such Batch object: {batch_id}", param="batch_id")
        return batch

    def _batches_retrieve(self, call: _Call) -> _Reply:
        return _Reply(_batch_view(self._batch(call.args[0])))

    def _batches_list(self, call: _Call) -> _Reply:
        query = call.record.query
        limit = _query_int(query, "limit", 20, 1, 100)
        items = [_batch_view(b) for b in reversed(self._batches.values())]
        return _Reply(_page(items, query.get("after"), limit))

    def _batches_cancel(self, call: _Call) -> _Reply:
        batch = self._batch(call.args[0])
        status = batch["status"]
        if status in ("validating", "in_progress", "finalizing"):
            batch["status"] = "cancelling"
            batch["cancelling_at"] = int(time.time())
        elif status != "cancelling" and status != "cancelled":
            raise _APIError(
                400,
                f"Cannot cancel a batch with status '{status}'.",
                param="batch_id",
                code="batch_not_cancellable",
            )
        return _Reply(_batch_view(batch))

    async def _run_batch(self, batch: dict[str, Any], data: bytes) -> None:
        """Validate and run a batch in the background; never raises (but Cancelled)."""
        try:
            await self._run_batch_inner(batch, data)
        except Exception as exc:
            self._errors.append(exc)
            batch["status"] = "failed"
            batch["failed_at"] = int(time.time())

    async def _batch_pause(self) -> None:
        if self.batch_delay > 0:
            await trio.sleep(self.batch_delay)
        else:
            await trio.lowlevel.checkpoint()

    async def _run_batch_inner(self, batch: dict[str, Any], data: bytes) -> None:
        await self._batch_pause()
        lines, errors = _validate_batch_lines(data, batch["endpoint"])
        if batch["status"] == "cancelling":
            self._finish_cancel(batch, [], [])
            return
        if errors:
            batch["status"] = "failed"
            batch["failed_at"] = int(time.time())
            batch["errors"] = {"object": "list", "data": errors}
            return
        first_model = lines[0]["body"].get("model") if lines else None
        batch["model"] = first_model if isinstance(first_model, str) else None
        batch["status"] = "in_progress"
        batch["in_progress_at"] = int(time.time())
        counts = batch["request_counts"]
        counts["total"] = len(lines)
        outputs: list[bytes] = []
        failures: list[bytes] = []
        usage = {"input_tokens": 0, "output_tokens": 0}
        for line in lines:
            if batch["status"] == "cancelling":
                self._finish_cancel(batch, outputs, failures)
                return
            await self._batch_pause()
            if batch["status"] == "cancelling":
                self._finish_cancel(batch, outputs, failures)
                return
            result, ok = self._run_batch_line(line, usage)
            if ok:
                outputs.append(result)
                counts["completed"] += 1
            else:
                failures.append(result)
                counts["failed"] += 1
        batch["status"] = "finalizing"
        batch["finalizing_at"] = int(time.time())
        await self._batch_pause()
        self._write_batch_files(batch, outputs, failures)
        total = usage["input_tokens"] + usage["output_tokens"]
        batch["usage"] = {
            "input_tokens": usage["input_tokens"],
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": usage["output_tokens"],
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": total,
        }
        if batch["status"] == "cancelling":
            batch["status"] = "cancelled"
            batch["cancelled_at"] = int(time.time())
        else:
            batch["status"] = "completed"
            batch["completed_at"] = int(time.time())

    def _finish_cancel(
        self, batch: dict[str, Any], outputs: list[bytes], failures: list[bytes]
    ) -> None:
        self._write_batch_files(batch, outputs, failures)
        batch["status"] = "cancelled"
        batch["cancelled_at"] = int(time.time())

    def _write_batch_files(
        self, batch: dict[str, Any], outputs: list[bytes], failures: list[bytes]
    ) -> None:
        if outputs:
            entry = self._store_file(
                b"".join(outputs), f"batch_{batch['id']}_output.jsonl", "batch_output", None
            )
            batch["output_file_id"] = entry.id
        if failures:
            entry = self._store_file(
                b"".join(failures), f"batch_{batch['id']}_error.jsonl", "batch_output", None
            )
            batch["error_file_id"] = entry.id

    def _run_batch_line(self, line: dict[str, Any], usage: dict[str, int]) -> tuple[bytes, bool]:
        url = line["url"]
        request_id = self._new_request_id()
        record = RequestRecord(
            "POST", url, "", {"content-type": _JSON_CT}, b"", request_id, line["body"]
        )
        endpoint: _Endpoint = getattr(MockOpenAIServer, _BATCH_TARGETS[url])
        try:
            reply = endpoint(self, _Call(record, (), line["body"], False, 0))
            status, payload = reply.status, reply.payload
        except _APIError as exc:
            status, payload = exc.status, exc.body
        ok = 200 <= status < 300
        if ok and isinstance(payload, dict):
            u = payload.get("usage")
            if isinstance(u, dict):
                usage["input_tokens"] += int(u.get("prompt_tokens") or u.get("input_tokens") or 0)
                usage["output_tokens"] += int(
                    u.get("completion_tokens") or u.get("output_tokens") or 0
                )
        out = {
            "id": self._new_id("batch_req_", 12),
            "custom_id": line["custom_id"],
            "response": {"status_code": status, "request_id": request_id, "body": payload},
            "error": None,
        }
        return _encode(out) + b"\n", ok

    # -- responses --------------------------------------------------------------------

    def _responses_create(self, call: _Call) -> _Reply:
        body = call.body
        model = _get_str(body, "model", required=True)
        assert model is not None
        raw_input = body.get("input")
        if raw_input is None:
            raise _missing("input")
        items, prompt, last_type = _response_input_items(raw_input, self._new_id)
        instructions = _get_str(body, "instructions")
        _check_number(body, "temperature", 0, 2)
        _check_number(body, "top_p", 0, 1)
        max_output = _get_int(body, "max_output_tokens", None, lo=16)
        previous = _get_str(body, "previous_response_id")
        if previous is not None and previous not in self._responses:
            raise _not_found(
                f"Previous response with id '{previous}' not found.",
                param="previous_response_id",
            )
        stream = _get_bool(body, "stream") and call.allow_stream
        background = _get_bool(body, "background")
        store = _get_bool(body, "store", True)
        tools = _get_list(body, "tools")
        text_config = _get_dict(body, "text")
        tool = None
        if tools and last_type != "function_call_output":
            tool = _pick_tool(tools, body.get("tool_choice"), flat=True)
        response_id = self._new_id("resp_", 24)
        created = int(time.time())
        input_tokens = _count_tokens(prompt) + (_count_tokens(instructions) if instructions else 0)
        if tool is not None:
            choice = self._tool_choice(tool, prompt, 0, responses=True)
            item: dict[str, Any] = {
                "id": self._new_id("fc_", 24),
                "type": "function_call" if tool["type"] == "function" else "custom_tool_call",
                "status": "completed",
                "call_id": choice.call_id,
                "name": choice.tool_name,
            }
            item["arguments" if tool["type"] == "function" else "input"] = choice.arguments
        else:
            fmt = text_config.get("format") if text_config else None
            response_format = None
            if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
                response_format = {"type": "json_schema", "json_schema": fmt}
            elif isinstance(fmt, dict) and fmt.get("type") == "json_object":
                response_format = {"type": "json_object"}
            choice = _text_choice(
                self.seed, prompt, 0, response_format, max_output, f"{self.seed}:{prompt}"
            )
            item = {
                "id": self._new_id("msg_", 24),
                "type": "message",
                "status": "completed" if choice.finish_reason != "length" else "incomplete",
                "role": "assistant",
                "content": [
                    {
                        "type": "output_text",
                        "text": choice.content or "",
                        "annotations": [],
                        "logprobs": [],
                    }
                ],
            }
        usage = {
            "input_tokens": input_tokens,
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": choice.tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": input_tokens + choice.tokens,
        }
        incomplete = choice.finish_reason == "length"
        final = _response_object(
            body,
            response_id,
            created,
            model,
            status="incomplete" if incomplete else "completed",
            output=[item],
            usage=usage,
            completed_at=None if incomplete else created,
        )
        if incomplete:
            final["incomplete_details"] = {"reason": "max_output_tokens"}
        if background and not stream:
            queued = _response_object(
                body, response_id, created, model, status="queued", output=[], usage=None
            )
            entry = _ResponseEntry(queued, items, final)
            self._responses[response_id] = entry
            if self._nursery is not None:
                self._nursery.start_soon(self._run_background, entry)
            return _Reply(dict(queued))
        if store or background:
            self._responses[response_id] = _ResponseEntry(final, items)
        if not stream:
            return _Reply(final)
        return _Reply(events=self._response_events(body, final, item, choice, call.pad))

    def _response_events(
        self,
        body: dict[str, Any],
        final: dict[str, Any],
        item: dict[str, Any],
        choice: _Choice,
        pad: int,
    ) -> list[bytes]:
        seq = 0
        events: list[bytes] = []

        def emit(obj: dict[str, Any]) -> None:
            nonlocal seq
            obj["sequence_number"] = seq
            seq += 1
            events.append(_typed_sse(obj))

        running = {
            **final,
            "status": "in_progress",
            "output": [],
            "completed_at": None,
            "incomplete_details": None,
        }
        del running["usage"]
        emit({"type": "response.created", "response": running})
        emit({"type": "response.in_progress", "response": running})
        item_id = item["id"]
        if item["type"] == "message":
            text = item["content"][0]["text"]
            emit(
                {
                    "type": "response.output_item.added",
                    "output_index": 0,
                    "item": {**item, "status": "in_progress", "content": []},
                }
            )
            empty_part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
            emit(
                {
                    "type": "response.content_part.added",
                    "item_id": item_id,
                    "output_index": 0,
                    "content_index": 0,
                    "part": empty_part,
                }
            )
            pieces = list(choice.pieces) or _split_text(text)
            if pad:
                pieces.insert(0, "x" * pad)
            for piece in pieces:
                emit(
                    {
                        "type": "response.output_text.delta",
                        "item_id": item_id,
                        "output_index": 0,
                        "content_index": 0,
                        "delta": piece,
                        "logprobs": [],
                    }
                )
            emit(
                {
                    "type": "response.output_text.done",
                    "item_id": item_id,
                    "output_index": 0,
                    "content_index": 0,
                    "text": text,
                    "logprobs": [],
                }
            )
            emit(
                {
                    "type": "response.content_part.done",
                    "item_id": item_id,
                    "output_index": 0,
                    "content_index": 0,
                    "part": item["content"][0],
                }
            )
        else:
            function = item["type"] == "function_call"
            field_name = "arguments" if function else "input"
            emit(
                {
                    "type": "response.output_item.added",
                    "output_index": 0,
                    "item": {**item, "status": "in_progress", field_name: ""},
                }
            )
            prefix = (
                "response.function_call_arguments"
                if function
                else "response.custom_tool_call_input"
            )
            for piece in _fragments(item[field_name]):
                emit(
                    {
                        "type": f"{prefix}.delta",
                        "item_id": item_id,
                        "output_index": 0,
                        "delta": piece,
                    }
                )
            done: dict[str, Any] = {
                "type": f"{prefix}.done",
                "item_id": item_id,
                "output_index": 0,
                field_name: item[field_name],
            }
            if function:
                done["name"] = item["name"]
            emit(done)
        emit({"type": "response.output_item.done", "output_index": 0, "item": item})
        terminal = (
            "response.incomplete" if final["status"] == "incomplete" else "response.completed"
        )
        emit({"type": terminal, "response": final})
        return events

    async def _run_background(self, entry: _ResponseEntry) -> None:
        try:
            if self.background_delay > 0:
                await trio.sleep(self.background_delay / 2)
            else:
                await trio.lowlevel.checkpoint()
            if entry.obj["status"] == "queued":
                entry.obj = {**entry.obj, "status": "in_progress"}
            if self.background_delay > 0:
                await trio.sleep(self.background_delay / 2)
            if entry.obj["status"] != "cancelled" and entry.final is not None:
                entry.obj = entry.final
        except Exception as exc:
            self._errors.append(exc)

    def _response(self, response_id: str) -> _ResponseEntry:
        entry = self._responses.get(response_id)
        if entry is None:
            raise _not_found(f"Response with id '{response_id}' not found.")
        return entry

    def _responses_retrieve(self, call: _Call) -> _Reply:
        return _Reply(self._response(call.args[0]).obj)

    def _responses_delete(self, call: _Call) -> _Reply:
        entry = self._response(call.args[0])
        del self._responses[call.args[0]]
        return _Reply({"id": entry.obj["id"], "object": "response", "deleted": True})

    def _responses_cancel(self, call: _Call) -> _Reply:
        entry = self._response(call.args[0])
        if not entry.obj.get("background"):
            raise _APIError(
                400,
                "Only responses created with background=true can be cancelled.",
                param="response_id",
            )
        if entry.obj["status"] in ("queued", "in_progress"):
            entry.obj = {**entry.obj, "status": "cancelled"}
        return _Reply(entry.obj)

    def _responses_input_items(self, call: _Call) -> _Reply:
        entry = self._response(call.args[0])
        query = call.record.query
        limit = _query_int(query, "limit", 20, 1, 100)
        order = _query_order(query, "desc")
        items = list(entry.input_items)
        if order == "desc":
            items.reverse()
        return _Reply(_page(items, query.get("after"), limit))


class _RateLimited(_APIError):
    """A refusal of the rate-limit simulation (carries its headers)."""

    def __init__(self, body: dict[str, Any], headers: list[tuple[str, str]]) -> None:
        error = body.get("error", {})
        super().__init__(429, str(error.get("message", "")))
        self.body = body
        self.headers = headers


# --------------------------------------------------------------------------------------
# Endpoint helpers


@dataclass(slots=True)
class _Choice:
    """One generated answer (a chat choice, a response output, a tool call)."""

    content: str | None
    pieces: tuple[str, ...]  # the streamed fragments of `content`
    tokens: int
    finish_reason: str
    tool_calls: list[dict[str, Any]] | None = None
    arguments: str = ""
    tool_name: str = ""
    call_id: str = ""


def _text_choice(
    seed: int,
    prompt: str,
    index: int,
    response_format: dict[str, Any] | None,
    max_tokens: int | None,
    schema_key: str,
) -> _Choice:
    kind = response_format.get("type") if response_format else None
    if kind == "json_schema":
        assert response_format is not None
        spec = response_format.get("json_schema")
        schema = spec.get("schema") if isinstance(spec, dict) else None
        if not isinstance(schema, dict) or not schema:
            schema = {"type": "object"}
        text = _encode(_SchemaFaker(schema, f"{schema_key}:{index}").value(schema)).decode()
        return _Choice(text, tuple(_split_text(text)), _count_tokens(text), "stop")
    tokens = _reply_tokens(seed, index, prompt)
    if kind == "json_object":
        text = _encode({"answer": "".join(tokens)}).decode()
        return _Choice(text, tuple(_split_text(text)), _count_tokens(text), "stop")
    finish = "stop"
    if max_tokens is not None and len(tokens) > max_tokens:
        tokens = tokens[:max_tokens]
        finish = "length"
    return _Choice("".join(tokens), tokens, len(tokens), finish)


def _pick_tool(tools: list[Any], tool_choice: Any, *, flat: bool) -> dict[str, Any] | None:
    """The tool the mock calls: the one named by ``tool_choice``, else the first.

    ``flat`` is the Responses API's tool shape (``{"type": "function", "name": ...}``);
    otherwise Chat's (``{"type": "function", "function": {"name": ...}}``).
    """
    if tool_choice == "none":
        return None
    named: str | None = None
    if isinstance(tool_choice, dict):
        kind = tool_choice.get("type")
        if flat:
            value = tool_choice.get("name")
        else:
            inner = tool_choice.get(kind) if isinstance(kind, str) else None
            value = inner.get("name") if isinstance(inner, dict) else None
        named = value if isinstance(value, str) else None
    usable: list[dict[str, Any]] = []
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict):
            raise _bad_type(f"tools[{i}]", "an object", tool)
        kind = tool.get("type")
        if kind not in ("function", "custom"):
            continue  # built-in tools (web search...) are never called by the mock
        spec = tool if flat else tool.get(kind)
        where = f"tools[{i}]" if flat else f"tools[{i}].{kind}"
        if not isinstance(spec, dict):
            raise _missing(where)
        name = spec.get("name")
        if not isinstance(name, str) or not name:
            raise _missing(f"{where}.name")
        usable.append({"type": kind, "name": name, "parameters": spec.get("parameters")})
    if named is not None:
        for tool in usable:
            if tool["name"] == named:
                return tool
        raise _APIError(
            400,
            f"Invalid value for 'tool_choice': no function named '{named}' was specified in "
            "the 'tools' parameter.",
            param="tool_choice",
            code="invalid_value",
        )
    return usable[0] if usable else None


def _chat_usage(prompt_tokens: int, completion_tokens: int) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _fragments(text: str, parts: int = 4) -> list[str]:
    """Split tool-call arguments into a few fragments, as OpenAI streams them."""
    if not text:
        return [""]
    size = max(1, math.ceil(len(text) / parts))
    return [text[i : i + size] for i in range(0, len(text), size)]


def _interleave(lists: list[list[bytes]]) -> list[bytes]:
    if len(lists) == 1:
        return lists[0]
    out: list[bytes] = []
    for i in range(max(len(x) for x in lists)):
        out.extend(x[i] for x in lists if i < len(x))
    return out


def _legacy_logprobs(tokens: Sequence[str], top: int, position: int) -> dict[str, Any]:
    offsets: list[int] = []
    offset = 0
    for token in tokens:
        offsets.append(offset)
        offset += len(token)
    return {
        "tokens": list(tokens),
        "token_logprobs": [_logprob(t, position + i, 0) for i, t in enumerate(tokens)],
        "top_logprobs": [
            {
                e["token"]: e["logprob"]
                for e in _token_logprob(t, position + i, max(top, 1))["top_logprobs"]
            }
            for i, t in enumerate(tokens)
        ],
        "text_offset": offsets,
    }


def _timestamp(seconds: float, *, comma: bool) -> str:
    ms = round(seconds * 1000)
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    sep = "," if comma else "."
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{sep}{millis:03d}"


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


async def _cut_bytes(data: bytes, keep: int, rst: bool) -> AsyncIterator[bytes]:
    if keep > 0:
        yield data[:keep]
    raise Reset() if rst else CloseWithoutResponse()


async def _cut_stream(body: AsyncIterable[bytes], keep: int, rst: bool) -> AsyncIterator[bytes]:
    sent = 0
    async for chunk in body:
        if sent + len(chunk) >= keep:
            if keep > sent:
                yield chunk[: keep - sent]
            break
        sent += len(chunk)
        yield chunk
    raise Reset() if rst else CloseWithoutResponse()


def _batch_error(code: str, message: str, param: str | None, line: int | None) -> dict[str, Any]:
    return {"code": code, "message": message, "param": param, "line": line}


def _validate_batch_lines(
    data: bytes, endpoint: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Check a batch input file; return (good lines, validation errors)."""
    lines: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    seen: set[str] = set()
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            obj = _decode(raw)
        except msgspec.DecodeError:
            obj = None
        if not isinstance(obj, dict):
            errors.append(
                _batch_error(
                    "invalid_json_line", f"Line {number} is not a JSON object.", None, number
                )
            )
            continue
        problem: dict[str, Any] | None = None
        custom_id = obj.get("custom_id")
        url = obj.get("url")
        if not isinstance(custom_id, str) or not custom_id:
            problem = _batch_error(
                "missing_required_parameter",
                f"Line {number}: 'custom_id' must be a non-empty string.",
                "custom_id",
                number,
            )
        elif obj.get("method") != "POST":
            problem = _batch_error(
                "invalid_method",
                f"Line {number}: 'method' must be 'POST', got {obj.get('method')!r}.",
                "method",
                number,
            )
        elif not isinstance(url, str) or url not in _BATCH_TARGETS:
            problem = _batch_error(
                "invalid_url",
                f"Line {number}: 'url' must be one of {sorted(_BATCH_TARGETS)}, got {url!r}.",
                "url",
                number,
            )
        elif url != endpoint:
            problem = _batch_error(
                "mismatched_endpoint",
                f"Line {number}: the URL '{url}' does not match the batch endpoint '{endpoint}'.",
                "url",
                number,
            )
        elif not isinstance(obj.get("body"), dict):
            problem = _batch_error(
                "missing_required_parameter",
                f"Line {number}: 'body' must be a JSON object.",
                "body",
                number,
            )
        elif custom_id in seen:
            problem = _batch_error(
                "duplicate_custom_id",
                f"Line {number}: the custom_id '{custom_id}' is used more than once; "
                "custom_id values must be unique within a batch.",
                "custom_id",
                number,
            )
        if problem is not None:
            errors.append(problem)
            continue
        assert isinstance(custom_id, str)
        seen.add(custom_id)
        lines.append(obj)
    if not lines and not errors:
        errors.append(_batch_error("empty_file", "The input file is empty.", None, None))
    return lines, errors


def _response_input_items(
    raw: Any, new_id: Callable[[str, int], str]
) -> tuple[list[dict[str, Any]], str, str]:
    """Normalize a Responses ``input``; return (items with ids, prompt text, last type)."""
    if isinstance(raw, str):
        only: dict[str, Any] = {
            "id": new_id("msg_", 24),
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": raw}],
        }
        return [only], raw, "message"
    if not isinstance(raw, list):
        raise _bad_type("input", "a string or an array of input items", raw)
    items: list[dict[str, Any]] = []
    prompt = ""
    last_type = ""
    for i, element in enumerate(raw):
        if not isinstance(element, dict):
            raise _bad_type(f"input[{i}]", "an object", element)
        item: dict[str, Any] = dict(element)
        kind = item.get("type") or ("message" if "role" in item else None)
        if kind is None:
            raise _missing(f"input[{i}].type")
        item["type"] = kind
        if kind == "message":
            role = item.get("role")
            if role not in ("user", "assistant", "system", "developer"):
                raise _bad_value(
                    f"input[{i}].role", role, ("user", "assistant", "system", "developer")
                )
            content = item.get("content")
            if isinstance(content, str):
                part_type = "output_text" if role == "assistant" else "input_text"
                item["content"] = [{"type": part_type, "text": content}]
            if role == "user":
                prompt = _text_of(item.get("content"))
        elif kind == "function_call_output":
            prompt = _text_of(item.get("output"))
        item.setdefault("id", new_id("msg_" if kind == "message" else "item_", 24))
        items.append(item)
        last_type = kind
    return items, prompt, last_type


def _echo_tools(tools: Any) -> list[Any]:
    if not isinstance(tools, list):
        return []
    out: list[Any] = []
    for tool in tools:
        if isinstance(tool, dict) and tool.get("type") == "function":
            out.append(
                {
                    "type": "function",
                    "name": tool.get("name"),
                    "description": tool.get("description"),
                    "parameters": tool.get("parameters"),
                    "strict": tool.get("strict", True),
                }
            )
        else:
            out.append(tool)
    return out


def _response_object(
    body: dict[str, Any],
    response_id: str,
    created: int,
    model: str,
    *,
    status: str,
    output: list[dict[str, Any]],
    usage: dict[str, Any] | None,
    completed_at: int | None = None,
) -> dict[str, Any]:
    text = body.get("text") if isinstance(body.get("text"), dict) else None
    obj: dict[str, Any] = {
        "id": response_id,
        "object": "response",
        "created_at": created,
        "status": status,
        "background": bool(body.get("background", False)),
        "completed_at": completed_at,
        "error": None,
        "incomplete_details": None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "max_tool_calls": body.get("max_tool_calls"),
        "model": model,
        "output": output,
        "parallel_tool_calls": body.get("parallel_tool_calls", True),
        "previous_response_id": body.get("previous_response_id"),
        "reasoning": {"effort": None, "summary": None},
        "service_tier": "default",
        "store": body.get("store", True),
        "temperature": body.get("temperature", 1.0),
        "text": text or {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": _echo_tools(body.get("tools")),
        "top_logprobs": body.get("top_logprobs", 0),
        "top_p": body.get("top_p", 1.0),
        "truncation": body.get("truncation", "disabled"),
        "metadata": body.get("metadata") or {},
    }
    if usage is not None:  # absent (not null) while running, as the schema wants
        obj["usage"] = usage
    user = body.get("user")
    if user is not None:  # deprecated; a string when present
        obj["user"] = user
    return obj


# --------------------------------------------------------------------------------------
# Opening


@asynccontextmanager
async def open_mock_server(
    *,
    tls: bool = False,
    faults: FaultPlan | Sequence[FaultRule] | Mapping[str, Any] | None = None,
    rate_limits: RateLimitSim | Mapping[str, Any] | None = None,
    seed: int = 0,
    api_key: str | None = "sk-test",
    host: str = "127.0.0.1",
    port: int = 0,
    latency: float = 0.0,
    batch_delay: float = 0.0,
    background_delay: float = 0.0,
    stream_interval: float = 0.0,
    max_body_size: int = DEFAULT_MAX_BODY_SIZE,
    record_requests: bool = True,
) -> AsyncIterator[MockOpenAIServer]:
    """Run a mock OpenAI API server for the duration of an ``async with`` block.

    Entering binds the port (known at once: ``server.base_url``); leaving cancels the
    background work (batches, background responses) and every connection, then closes
    the listener. Both checkpoint. An exception raised in the block comes out as
    itself (not wrapped in an exception group).

    Args:
        tls: serve HTTPS with a throwaway ``trustme`` CA (``server.ca``; clients use
            ``server.client_ssl_context()``).
        faults: a :class:`FaultPlan`, a list of :class:`FaultRule`, or the plan's JSON
            form (see :meth:`FaultPlan.from_dict`).
        rate_limits: a :class:`RateLimitSim` or a dict of its arguments
            (``{"rpm": 60, "tpm": 10000}``).
        seed: the seed of generated content and ids.
        api_key: the key clients must send as ``Authorization: Bearer <key>``; None
            accepts any non-empty key (a missing header is still a 401).
        host: the address to bind (loopback by default).
        port: 0 picks a free port.
        latency: seconds to wait before answering every request.
        batch_delay: seconds each batch stage and each line takes; set it to watch a
            batch move through its states (0: as fast as possible).
        background_delay: seconds a ``background: true`` response stays queued and in
            progress before it completes.
        stream_interval: seconds between the events of a streamed answer.
        max_body_size: requests with a larger body get a 400.
        record_requests: keep every :class:`RequestRecord` in ``server.requests``
            (turn off for long benchmarks).

    Yields:
        The running :class:`MockOpenAIServer`.

    Raises:
        OSError: the address could not be bound.
        TypeError, ValueError: a malformed ``faults`` or ``rate_limits``.
    """
    server = MockOpenAIServer(
        api_key=api_key,
        seed=seed,
        faults=FaultPlan.coerce(faults),
        rate_limits=RateLimitSim.from_value(rate_limits),
        latency=latency,
        batch_delay=batch_delay,
        background_delay=background_delay,
        stream_interval=stream_interval,
        max_body_size=max_body_size,
        record_requests=record_requests,
    )
    ssl_context: ssl.SSLContext | None = None
    if tls:
        ssl_context, server.ca = tls_contexts()
    body_error: BaseException | None = None
    try:
        async with trio.open_nursery() as nursery:
            server._nursery = nursery
            try:
                async with open_http_server(
                    server._handle,
                    ssl_context=ssl_context,
                    host=host,
                    port=port,
                    record_requests=False,
                ) as http:
                    server._http = http
                    server.origin = http.base_url
                    server.base_url = http.base_url + "/v1"
                    yield server
            finally:
                server._nursery = None
                nursery.cancel_scope.cancel()
    except BaseExceptionGroup as group:
        # Background tasks never raise, so the group holds what the body raised.
        if len(group.exceptions) != 1:
            raise
        body_error = group.exceptions[0]
    if body_error is not None:
        raise body_error
