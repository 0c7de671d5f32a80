"""The sans-IO mappers: a failed exchange in, the matching exception out.

``map_error`` turns an HTTP error status, its headers and body into the
:class:`~trio_openai.errors.APIStatusError` subclass for that status (a 3xx into
:class:`~trio_openai.errors.UnexpectedRedirectError`, since the client never follows
redirects); ``map_stream_error`` does the same for an ``error`` event inside a 200
stream; ``map_transport_error`` turns a transport error from ``_http`` into
:class:`~trio_openai.errors.APIConnectionError` / ``APITimeoutError`` naming the phase;
``rate_limit_wait_error`` is the :class:`~trio_openai.errors.RateLimitError` for a wait
the client refuses to impose. They return the exception and never raise it, read a
clock or touch a socket; the caller raises it (``raise map_error(...)``), chaining the
cause. The hierarchy itself is :mod:`trio_openai.errors`, one layer down, so that the
error classes import nothing that builds them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._error_text import (
    ErrorHeaders,
    as_headers,
    decode_body,
    details,
    excerpt,
    scrub,
    server_message,
)
from ._http import (
    ConnectError,
    PoolDeadlock,
    ProxyError,
    ReadError,
    RemoteProtocolError,
    ResponseTooLarge,
    TLSError,
    TransportError,
    TransportTimeout,
    WriteError,
)
from .errors import (
    _STATUS_CLASSES,
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    InternalServerError,
    PoolDeadlockError,
    RateLimitError,
    ResponseTooLargeError,
    UnexpectedRedirectError,
    _code_text,
    _text,
)

if TYPE_CHECKING:
    from ._classify import HeadersLike

__all__ = ["map_error", "map_stream_error", "map_transport_error", "rate_limit_wait_error"]


def map_error(
    status: int,
    headers: HeadersLike,
    body: bytes,
    *,
    now: float | None = None,
) -> APIStatusError:
    """Turn an HTTP error response into the matching :class:`APIStatusError`.

    The class follows the status (400, 401, 403, 404, 409, 422, 429, >= 500, and 3xx:
    :class:`UnexpectedRedirectError`, naming the ``Location``; others get
    ``APIStatusError`` itself). The body is decoded as JSON when it is; an OpenAI error
    body ``{"error": {"message", "type", "param", "code"}}`` fills those attributes and
    ``body`` is the inner object; so does that object at the top level, marked
    ``"object": "error"`` (vLLM). Other JSON is kept as decoded; anything else as text.
    The message reads ``Error code: 429 - <server message> (type: ...; code: ...;
    request id: req_...)``.

    Args:
        status: the HTTP status code.
        headers: response headers (mapping or ``(name, value)`` pairs).
        body: the response body, possibly empty, truncated, not JSON or not UTF-8.
        now: wall-clock epoch seconds (``time.time()``) to turn an HTTP-date
            ``retry-after`` into a wait; ``None`` ignores that form.

    Returns:
        The exception, ready to ``raise``. Never raises itself.
    """
    view = as_headers(headers)
    request_id = view.get("x-request-id")
    if 300 <= status < 400:
        return _redirect_error(status, view, body, request_id)
    decoded, text = decode_body(body)

    payload: object = decoded
    message: str | None = None
    type_: str | None = None
    code: str | None = None
    param: str | None = None
    if isinstance(decoded, dict):
        inner = decoded.get("error")
        if not isinstance(inner, dict) and decoded.get("object") == "error":
            inner = decoded  # vLLM's form: the error object itself, at the top level
        if isinstance(inner, dict):
            payload = inner
            message = server_message(inner.get("message"))
            type_ = _text(inner.get("type"))
            code = _code_text(inner.get("code"))
            param = _text(inner.get("param"))
        else:
            for key in ("error", "message", "detail"):
                message = server_message(decoded.get(key))
                if message is not None:
                    break
    if message is None and text.strip():
        message = scrub(excerpt(text))

    if message:
        head = f"Error code: {status} - {message}"
    else:
        try:
            from http import HTTPStatus  # (an enum module: imported when first needed)

            head = f"Error code: {status} ({HTTPStatus(status).phrase})"
        except ValueError:
            head = f"Error code: {status}"
    full = head + details(type=type_, code=code, param=param, request_id=request_id)

    cls = _STATUS_CLASSES.get(status)
    if cls is None:
        cls = InternalServerError if status >= 500 else APIStatusError
    return cls(
        full,
        status_code=status,
        request_id=request_id,
        type=type_,
        code=code,
        param=param,
        body=payload,
        headers=view,
        now=now,
    )


def _redirect_error(
    status: int, view: ErrorHeaders, body: bytes, request_id: str | None
) -> UnexpectedRedirectError:
    """A 3xx final answer: the message names the status and where it pointed."""
    location = view.get("location")
    shown = scrub(excerpt(location)) if location else None
    where = f"a redirect to {shown!r}" if shown else "a redirect with no Location header"
    message = (
        f"Error code: {status} - the server answered with {where}; the client never "
        "follows redirects (check base_url, and any proxy in between)"
    )
    error = UnexpectedRedirectError(
        message + details(request_id=request_id),
        status_code=status,
        request_id=request_id,
        body=decode_body(body)[0],
        headers=view,
    )
    error.location = shown
    return error


def map_stream_error(
    payload: object,
    *,
    request_id: str | None = None,
    headers: HeadersLike | None = None,
) -> APIError:
    """Turn an error event received inside a stream into an :class:`APIError`.

    Accepted shapes: chat's ``{"error": {"message", "type", "param", "code"}}``; the
    Responses API's ``error`` event ``{"type": "error", "code", "message", "param"}``;
    and ``response.failed`` with ``response.error = {"code", "message"}``. Anything else
    still gives an ``APIError`` carrying the payload as ``body``. The status was 200, so
    ``status_code`` is ``None``; such errors are not retried (the response was already
    handed to the caller).

    Args:
        payload: the decoded JSON of the event's data.
        request_id: the ``x-request-id`` of the response; defaults to the header's.
        headers: the response headers (stored redacted).

    Returns:
        The exception, ready to ``raise``. Never raises itself.
    """
    inner: object = payload
    type_: str | None = None
    if isinstance(payload, dict):
        if isinstance(payload.get("error"), dict):
            inner = payload["error"]
            type_ = _text(inner.get("type")) if isinstance(inner, dict) else None
        elif payload.get("type") == "response.failed" and isinstance(payload.get("response"), dict):
            failed = payload["response"].get("error")
            if isinstance(failed, dict):
                inner = failed
    message: str | None = None
    code: str | None = None
    param: str | None = None
    if isinstance(inner, dict):
        message = server_message(inner.get("message"))
        code = _code_text(inner.get("code"))
        param = _text(inner.get("param"))
    view = as_headers(headers)
    rid = request_id if request_id is not None else view.get("x-request-id")
    full = f"Error during streaming: {message or 'the server reported an error'}"
    full += details(type=type_, code=code, param=param, request_id=rid)
    return APIError(
        full,
        request_id=rid,
        type=type_,
        code=code,
        param=param,
        body=inner,
        headers=view,
    )


def rate_limit_wait_error(wait: float, reason: str, bound: str) -> RateLimitError:
    """The error for a rate-limit wait the client refuses to impose on its caller.

    The request was not sent: it would have waited ``wait`` seconds (for a 429
    back-off, the server's limits or the client's budgets: ``reason``), past ``bound``
    (the caller's deadline, or the longest wait accepted). Like a server's 429 it is a
    :class:`RateLimitError` (``status_code`` 429) carrying ``retry_after``; unlike one
    it has no ``request_id`` and no headers.

    Args:
        wait: the projected wait, in seconds (becomes ``retry_after``).
        reason: what imposes it, e.g. ``"a 429 back-off (retry-after)"``.
        bound: what it would pass, e.g. ``"the longest wait accepted (60 s)"``.

    Returns:
        The exception, ready to ``raise``. Never raises itself.
    """
    error = RateLimitError(
        f"Rate limited (not sent): the request would wait {wait:.1f} s for {reason}, past {bound}"
    )
    error.retry_after = wait
    error.sent = False
    return error


def map_transport_error(exc: TransportError) -> APIError:
    """Turn a transport error from ``_http`` into the public exception.

    Timeouts become :class:`APITimeoutError` naming the phase and the limit
    (``Request timed out (read phase, limit 600 s)``); a body over the client's
    ``max_response_size`` :class:`ResponseTooLargeError` (a response came: not a
    connection failure, and not retried); everything else
    :class:`APIConnectionError` whose message says what failed (a TLS failure says it
    is a certificate or TLS problem). The result does not reference ``exc``: raise it
    with ``raise map_transport_error(exc) from exc`` so that ``__cause__`` keeps the
    original and its traceback.

    Args:
        exc: the transport error.

    Returns:
        The exception, ready to ``raise``. Never raises itself.
    """
    if isinstance(exc, ResponseTooLarge):  # a response came; it was too big to keep
        return ResponseTooLargeError(
            exc.limit, exc.size, declared=exc.declared, status_code=exc.status, headers=exc.headers
        )
    phase: str | None = getattr(exc, "phase", None)
    if isinstance(exc, PoolDeadlock):
        return PoolDeadlockError(scrub(str(exc)), holders=exc.holders)
    detail = excerpt(scrub(str(exc)))
    if isinstance(exc, TransportTimeout):
        limit = exc.limit
        return APITimeoutError(
            f"Request timed out ({phase} phase, limit {limit:g} s)", phase=phase, limit=limit
        )
    if isinstance(exc, TLSError):
        what = (
            "TLS handshake failed: a certificate or TLS problem "
            "(check verify=, the CA file, or an intercepting proxy)"
        )
    elif isinstance(exc, ProxyError):
        what = "the proxy refused or broke the tunnel"
    elif isinstance(exc, ConnectError):
        what = "could not connect"
    elif isinstance(exc, WriteError):
        what = "the connection broke while the request was being sent"
    elif isinstance(exc, RemoteProtocolError):
        what = "the server broke the HTTP/1.1 protocol"
    elif isinstance(exc, ReadError):
        what = "the connection broke while the response was being read"
    else:
        what = "the request could not be exchanged"
    message = f"Connection error: {what}"
    if detail:
        message += f" ({detail})"
    return APIConnectionError(message, phase=phase)
