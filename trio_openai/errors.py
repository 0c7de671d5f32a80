"""The exception hierarchy of trio_openai (the sans-IO mappers that build it from a
status, a stream event or a transport error live in ``_error_map``).

Theory of operation. Every failure a user can see is one exception from one tree::

    OpenAIError(Exception)
    +-- ValidationError(OpenAIError, ValueError)  bad input, raised before sending
    |   +-- SerializationError(.., TypeError)     a body value JSON cannot encode
    +-- APIError                                  the service or the way to it failed
        +-- APIStatusError                        an HTTP error status (map_error)
        |   +-- BadRequestError 400, AuthenticationError 401, PermissionDeniedError 403,
        |   |   NotFoundError 404, ConflictError 409, UnprocessableEntityError 422,
        |   |   RateLimitError 429, InternalServerError >= 500,
        |   |   UnexpectedRedirectError 3xx (the client never follows redirects)
        +-- APIConnectionError                    no HTTP response (map_transport_error)
        |   +-- APITimeoutError                   a phase's time limit expired
        |   +-- PoolDeadlockError                 the pool is held by the caller's own task
        +-- APIResponseValidationError            a 2xx body that does not decode
        |   +-- ResponseTooLargeError             a body over max_response_size
        +-- CircuitOpenError                      the breaker refused to send

A mid-stream ``{"error": {...}}`` event becomes a plain ``APIError``
(:func:`map_stream_error`): the status was already 200, so there is no status class.
Names follow the official SDK so that moving from it is a search-and-replace.

Every error carries the same attributes (``None`` where they do not apply):
``message``, ``status_code``, ``request_id``, ``type``, ``code``, ``param``, ``body``,
``headers``, ``is_retryable`` and ``retry_after``.

Rules kept:

- Sans-IO. The mappers take status, headers and body bytes (and ``now``, wall-clock epoch
  seconds, for HTTP-date ``retry-after`` values) and return an exception; they never raise
  it, read a clock or touch a socket. Imports: stdlib, the stdlib-only
  ``_http._exceptions`` and ``_http._models`` (the credential header names),
  ``_error_text`` (redaction, body decoding, bounded message text) and ``_classify``
  (the status retry rules). Nothing of ``_resilience``: that layer handles these
  errors, so it sits above them.
- Map once, at the seam, and chain: the caller writes ``raise map_error(...)`` or
  ``raise map_transport_error(exc) from exc`` so that ``__cause__`` keeps the transport
  error and its traceback.
- Retry classification follows one rule set, ``_classify.classify_response``, which the
  retry policy applies too, so what ``is_retryable`` says is what the client's own retry
  loop does with that failure (the loop may still stop early: retries used up, a server
  wait above its cap, or the caller's deadline).
- Secrets never show: ``headers`` replaces the values of credential headers
  (``authorization``, ``proxy-authorization``, ``api-key``, ``cookie``, ``set-cookie``:
  the transport's ``SENSITIVE_HEADERS``, one set for both) with ``"[redacted]"``;
  messages scrub bearer tokens, unmasked ``sk-...`` keys and URL user-info; ``repr``
  shows neither headers nor body. The raw ``body`` is kept as received (it is the
  server's data). How is ``_error_text``'s business.
- Any body is tolerated: JSON ``{"error": {...}}``, other JSON, HTML or plain text, invalid
  UTF-8, empty, or huge (only the first 1 MiB is looked at, like the transport's cap;
  messages hold a bounded excerpt).

Options rejected:

- A ``response`` attribute holding a live HTTP response (the SDK's ``.response``): it
  would tie an exception to a connection. ``status_code``, ``headers`` and ``body`` are
  copies.
- Letting the status pick the retry decision here as well: one rule set, in
  ``_classify``.
- Keeping a private retry decision on the error for the retry loop to read: the loop
  classifies the public fields itself (``_resilience._retry.classify_exception``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from trio_openai._http import (
    SENSITIVE_HEADERS,
)

from ._error_text import (
    REDACTED,
    ErrorHeaders,
    as_headers,
    details,
    excerpt,
    is_secret_field,
    scrub,
)

if TYPE_CHECKING:
    from ._classify import HeadersLike

__all__ = [
    "OpenAIError",
    "APIError",
    "APIStatusError",
    "BadRequestError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "ConflictError",
    "UnprocessableEntityError",
    "RateLimitError",
    "InternalServerError",
    "UnexpectedRedirectError",
    "APIConnectionError",
    "APITimeoutError",
    "PoolDeadlockError",
    "APIResponseValidationError",
    "ResponseTooLargeError",
    "CircuitOpenError",
    "LengthFinishReasonError",
    "ContentFilterFinishReasonError",
    "ValidationError",
    "SerializationError",
    "InvalidWebhookSignatureError",
    "Problem",
    "CONTENT_FILTER_CODES",
    "CREDENTIAL_HEADERS",
    "REDACTED",
]

CREDENTIAL_HEADERS = SENSITIVE_HEADERS
"""Header names whose values ``APIError.headers`` never keeps."""

CONTENT_FILTER_CODES = frozenset(
    {
        "content_filter",  # Azure OpenAI's prompt/completion filter (400, code)
        "content_policy_violation",  # images: rejected by the safety system
        "image_content_policy_violation",  # Responses API ResponseErrorCode
        "moderation_blocked",  # gpt-image: request blocked by moderation
        "bio_policy",  # Responses API ResponseErrorCode
    }
)
"""Error codes/types that mean "refused by a safety or content filter"."""


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _code_text(value: object) -> str | None:
    # ``code`` is a string in the spec; some compatible servers send a number.
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


# Bound for a value shown in a validation message.
_MAX_VALUE_REPR_CHARS = 80

_NO_HEADERS = ErrorHeaders()


def _restore(cls: Any, args: tuple[Any, ...], state: dict[str, Any]) -> OpenAIError:
    error: OpenAIError = Exception.__new__(cls, *args)
    error.args = args
    error.__dict__.update(state)
    return error


class OpenAIError(Exception):
    """Base of every error trio_openai raises.

    Attributes:
        message: the full human-readable message (also ``str(error)``).
        status_code: the HTTP status, if a response arrived.
        request_id: the server's ``x-request-id``; quote it when asking for support.
        type: ``error.type`` from the server (e.g. ``invalid_request_error``).
        code: ``error.code`` from the server (e.g. ``rate_limit_exceeded``).
        param: ``error.param``: the request field the server objected to.
        body: the inner ``error`` object when the body was ``{"error": {...}}``, else the
            decoded JSON, else the body text (``None`` when there was no body).
        headers: the response headers as a read-only, case-insensitive
            ``Mapping[str, str]`` with lower-case keys; credential headers' values are
            ``"[redacted]"``. Empty when there was no response.
        is_retryable: whether the retry policy counts this failure as transient.
        retry_after: the wait the server asked for, in seconds, or ``None``.
    """

    message: str
    status_code: int | None = None
    request_id: str | None = None
    type: str | None = None
    code: str | None = None
    param: str | None = None
    body: object = None
    headers: Mapping[str, str] = _NO_HEADERS
    is_retryable: bool = False
    retry_after: float | None = None
    _repr_fields: ClassVar[tuple[str, ...]] = (
        "status_code",
        "request_id",
        "type",
        "code",
        "param",
    )

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def is_content_filter(self) -> bool:
        """Whether a safety or content filter refused the request (see
        :data:`CONTENT_FILTER_CODES`)."""
        return self.code in CONTENT_FILTER_CODES or self.type in CONTENT_FILTER_CODES

    @property
    def is_insufficient_quota(self) -> bool:
        """Whether the account is out of quota (``insufficient_quota``); waiting won't help."""
        return "insufficient_quota" in (self.code, self.type)

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        parts = [repr(self.message)]
        for name in self._repr_fields:
            value = getattr(self, name)
            if value is not None:
                parts.append(f"{name}={value!r}")
        return f"{self.__class__.__name__}({', '.join(parts)})"

    def __reduce__(self) -> tuple[Any, ...]:
        # Exception's own pickling calls cls(*args), which keyword-only constructors
        # cannot take; rebuild from args and attributes instead.
        return (_restore, (self.__class__, self.args, dict(self.__dict__)))


class Problem:
    """One reason a request was rejected before it was sent (immutable).

    Attributes:
        field: the parameter, dotted for nested values (``messages[0].role``).
        rule: what it must satisfy, phrased to follow the field (``must be <= 2``).
        value_repr: a short ``repr`` of the offending value, or ``None`` to not show it.
            For secret-looking fields (``api_key``, ``*_secret``, ``password``, ``token``,
            ...) it is replaced by ``"[redacted]"``.
    """

    __slots__ = ("field", "rule", "value_repr")

    field: str
    rule: str
    value_repr: str | None

    def __init__(self, field: str, rule: str, value_repr: str | None = None) -> None:
        if value_repr is not None and is_secret_field(field):
            value_repr = REDACTED
        object.__setattr__(self, "field", field)
        object.__setattr__(self, "rule", rule)
        object.__setattr__(self, "value_repr", value_repr)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Problem is immutable: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Problem is immutable: cannot delete {name!r}")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Problem):
            return NotImplemented
        return (self.field, self.rule, self.value_repr) == (
            other.field,
            other.rule,
            other.value_repr,
        )

    def __hash__(self) -> int:
        return hash((self.field, self.rule, self.value_repr))

    def __repr__(self) -> str:
        return f"Problem(field={self.field!r}, rule={self.rule!r}, value_repr={self.value_repr!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Problem, (self.field, self.rule, self.value_repr))

    def __str__(self) -> str:
        text = f"{self.field}: {self.rule}"
        if self.value_repr is not None:
            shown = self.value_repr
            if len(shown) > _MAX_VALUE_REPR_CHARS:
                shown = shown[: _MAX_VALUE_REPR_CHARS - 1] + "\u2026"
            text += f" (got {shown})"
        return text


class ValidationError(OpenAIError, ValueError):
    """The request is invalid; nothing was sent.

    The message lists every problem, one per line, each naming the field and the rule,
    e.g. ``temperature: must be <= 2 (got 3.5)``.

    Attributes:
        problems: every :class:`Problem` found (at least one).
    """

    _repr_fields: ClassVar[tuple[str, ...]] = ()

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        lines = [str(problem) for problem in self.problems]
        if not lines:
            message = "invalid request"
        elif len(lines) == 1:
            message = lines[0]
        else:
            message = f"{len(lines)} problems in the request:\n" + "\n".join(
                f"  {line}" for line in lines
            )
        super().__init__(message)


class SerializationError(ValidationError, TypeError):
    """A request body holds a value that cannot be encoded as JSON; nothing was sent.

    Raised for the first such value, found by walking the body: an object msgspec
    cannot encode, a string that is not valid UTF-8 (a lone surrogate), a dict key
    JSON cannot hold, or a container that contains itself. A :class:`ValidationError`
    (bad input, rejected before sending) and, for code written against the encoder's
    bare error, a ``TypeError``.

    Attributes:
        field: where the value is, e.g. ``extra_body.foo[2]`` (``body...`` for
            :meth:`Client.request`); also the one problem's ``field``.
    """

    def __init__(self, field: str, rule: str, value_repr: str | None = None) -> None:
        self.field = field
        super().__init__([Problem(field, rule, value_repr)])


class InvalidWebhookSignatureError(OpenAIError, ValueError):
    """A webhook request is not proven to come from OpenAI: a ``webhook-*`` header
    is missing or malformed, its timestamp is outside the tolerance, or no
    signature matches (``client.webhooks.unwrap`` / ``verify_signature``).

    A ``ValueError``, as in the official SDK; the message says which check failed.
    """


class APIError(OpenAIError):
    """The API, or the way to it, failed. Raised as is for an error inside a stream.

    Args:
        message: the full message.
        status_code, request_id, type, code, param, body: see :class:`OpenAIError`.
        headers: response headers (mapping or pairs); stored redacted. When
            ``request_id`` is not given it is read from ``x-request-id``.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        request_id: str | None = None,
        type: str | None = None,
        code: str | None = None,
        param: str | None = None,
        body: object = None,
        headers: HeadersLike | None = None,
    ) -> None:
        super().__init__(message)
        self.headers = as_headers(headers)
        self.status_code = status_code
        self.request_id = request_id if request_id is not None else self.headers.get("x-request-id")
        self.type = type
        self.code = code
        self.param = param
        self.body = body
        self.is_retryable = False
        self.retry_after = None


class APIStatusError(APIError):
    """The server answered with an error status (4xx/5xx). Built by :func:`map_error`.

    The subclass says which status; statuses without one (408, 418, ...) raise this class.
    ``is_retryable`` and ``retry_after`` come from the status retry rules' reading of
    the status, ``x-should-retry``, ``retry-after(-ms)`` and the error code (the rules
    the retry policy applies too).

    Args:
        message: the full message.
        status_code: the HTTP status; may be omitted for the classes of one status
            (``RateLimitError("...")`` means 429, ``InternalServerError`` 500).
        now: wall-clock epoch seconds, to read an HTTP-date ``retry-after``.
        Others: as :class:`APIError`.

    Raises:
        TypeError: ``status_code`` omitted where the class has no single status.
    """

    _default_status: ClassVar[int | None] = None
    status_code: int

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        request_id: str | None = None,
        type: str | None = None,
        code: str | None = None,
        param: str | None = None,
        body: object = None,
        headers: HeadersLike | None = None,
        now: float | None = None,
    ) -> None:
        status = status_code if status_code is not None else self._default_status
        if status is None:
            raise TypeError(f"{self.__class__.__name__} needs a status_code")
        super().__init__(
            message,
            status_code=status,
            request_id=request_id,
            type=type,
            code=code,
            param=param,
            body=body,
            headers=headers,
        )
        from ._classify import classify_response  # (the retry rules load with an error)

        decision = classify_response(
            status, self.headers, error_code=code, error_type=type, now=now
        )
        self.is_retryable = decision.retry
        self.retry_after = decision.retry_after


class BadRequestError(APIStatusError):
    """400: the request was malformed or a parameter was invalid (see ``param``)."""

    _default_status = 400


class AuthenticationError(APIStatusError):
    """401: the API key (or token) is missing, wrong or revoked."""

    _default_status = 401


class PermissionDeniedError(APIStatusError):
    """403: the key may not use this resource, model or region."""

    _default_status = 403


class NotFoundError(APIStatusError):
    """404: no such resource (or model), or no access to it."""

    _default_status = 404


class ConflictError(APIStatusError):
    """409: a conflicting concurrent change; retried by default."""

    _default_status = 409


class UnprocessableEntityError(APIStatusError):
    """422: the request was well-formed but could not be processed."""

    _default_status = 422


class RateLimitError(APIStatusError):
    """429: too many requests or tokens, or no quota left (``is_insufficient_quota``).

    Attributes:
        sent: False when the client refused the request itself, without sending it,
            because the wait the rate limits imposed would pass the caller's deadline
            or the longest wait accepted; ``retry_after`` then says how long it was.
    """

    _default_status = 429
    sent: bool = True


class InternalServerError(APIStatusError):
    """Any status >= 500: the service failed; retried by default."""

    _default_status = 500


class UnexpectedRedirectError(APIStatusError):
    """3xx: the server answered with a redirect, which the client never follows.

    The API does not redirect; a redirect means the request went somewhere else than
    meant (a wrong ``base_url``, a proxy or captive portal, an HTTP-to-HTTPS rewrite).
    Following it could send the API key to another host, so it is reported instead,
    and never retried: the next attempt would be redirected the same way.

    Attributes:
        location: the ``Location`` header (credentials in it scrubbed), or ``None``.
    """

    _default_status = 302
    _repr_fields: ClassVar[tuple[str, ...]] = ("status_code", "location", "request_id")
    location: str | None = None


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


class APIConnectionError(APIError):
    """No HTTP response: connecting, TLS, the proxy, sending or receiving failed.

    Built by :func:`map_transport_error`, which the caller raises ``from`` the transport
    error, so ``__cause__`` holds the original. Retryable.

    Attributes:
        phase: where it failed (``pool``, ``connect``, ``tls``, ``proxy``, ``write``,
            ``read``, ``total``), or ``None`` if unknown.
    """

    _repr_fields: ClassVar[tuple[str, ...]] = ("phase", "request_id")

    def __init__(
        self,
        message: str = "Connection error.",
        *,
        phase: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message, request_id=request_id)
        self.phase = phase
        self.is_retryable = True


class APITimeoutError(APIConnectionError):
    """A time limit expired; ``phase`` names which one and ``limit`` its length (s)."""

    _repr_fields: ClassVar[tuple[str, ...]] = ("phase", "limit", "request_id")

    def __init__(
        self,
        message: str = "Request timed out.",
        *,
        phase: str | None = None,
        limit: float | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message, phase=phase, request_id=request_id)
        self.limit = limit


class PoolDeadlockError(APIConnectionError):
    """No connection could ever come: the calling task holds all of them itself.

    Typically a call made inside the loop of a stream that the same task holds open,
    on a client whose ``PoolLimits.max_connections`` that stream (and others like it)
    fills. Raised at once, instead of waiting for the pool timeout; nothing was sent.
    Finish or close the stream (leave its ``async with``) before the call, or use a
    larger pool. It is an :class:`APIConnectionError` with ``phase="pool"``, like the
    pool timeout the same program met before, so handlers of that still catch it; but
    it is a usage error, so ``is_retryable`` is ``False`` and the client does not retry
    it or count it against the circuit breaker.

    Attributes:
        holders: the requests whose unfinished responses hold the connections, as
            ``"METHOD /path"`` (never the query).
    """

    _repr_fields: ClassVar[tuple[str, ...]] = ("phase", "holders")

    def __init__(self, message: str, *, holders: tuple[str, ...] = ()) -> None:
        super().__init__(message, phase="pool")
        self.holders = holders
        self.is_retryable = False


class APIResponseValidationError(APIError):
    """A successful (2xx) response whose body does not decode into the expected type.

    Args:
        detail: what did not match (e.g. msgspec's ``Expected `int`, got `str` - at
            `$.created```), or ``None``.
        status_code: the (2xx) status.
        headers: response headers; ``request_id`` defaults to ``x-request-id``.
        body: the body as received.
    """

    def __init__(
        self,
        detail: str | None = None,
        *,
        status_code: int,
        headers: HeadersLike | None = None,
        body: object = None,
        request_id: str | None = None,
    ) -> None:
        view = as_headers(headers)
        rid = request_id if request_id is not None else view.get("x-request-id")
        message = "Response body did not match the expected type"
        if detail:
            message += f": {excerpt(scrub(detail))}"
        message += details(status=status_code, request_id=rid)
        super().__init__(message, status_code=status_code, request_id=rid, body=body, headers=view)


class ResponseTooLargeError(APIResponseValidationError):
    """A response body larger than the client's ``max_response_size``; not kept.

    Raised before the body is read when its Content-Length announces it, else as soon
    as the bytes received pass the limit. The connection is closed, and the call is
    not retried (the next answer would be as large). Raise the limit with
    ``Client(max_response_size=...)``.

    Attributes:
        limit: the limit in bytes.
        size: the announced Content-Length, or the bytes received when the limit
            was passed.
    """

    _repr_fields: ClassVar[tuple[str, ...]] = ("status_code", "limit", "size", "request_id")

    def __init__(
        self,
        limit: int,
        size: int,
        *,
        declared: bool,
        status_code: int,
        headers: HeadersLike | None = None,
        request_id: str | None = None,
    ) -> None:
        what = f"announces {size} bytes" if declared else f"passed it ({size} bytes received)"
        view = as_headers(headers)
        rid = request_id if request_id is not None else view.get("x-request-id")
        message = (
            f"Response body too large: the body {what}, over max_response_size={limit}; "
            "pass a larger Client(max_response_size=...), or stream the response"
            + details(status=status_code, request_id=rid)
        )
        APIError.__init__(self, message, status_code=status_code, request_id=rid, headers=view)
        self.limit = limit
        self.size = size


class LengthFinishReasonError(OpenAIError):
    """Structured output could not be parsed: the model hit its token limit
    (``finish_reason == "length"``), so the JSON is cut short. Raised by
    ``parse()`` and by parsing streams, as the official SDK does.

    Attributes:
        completion: the completion (while streaming: as accumulated so far, so
            ``usage`` may be missing). Raise ``max_completion_tokens`` and retry.
    """

    completion: Any

    def __init__(self, *, completion: Any) -> None:
        message = "Could not parse response content as the length limit was reached"
        usage = getattr(completion, "usage", None)
        if usage is not None:
            message += f" - {usage!r}"
        super().__init__(message)
        self.completion = completion
        self.request_id = getattr(completion, "request_id", None)


class ContentFilterFinishReasonError(OpenAIError):
    """Structured output could not be parsed: the content filter stopped the model
    (``finish_reason == "content_filter"``). Raised by ``parse()`` and by parsing
    streams, as the official SDK does.

    Attributes:
        completion: the completion (while streaming: as accumulated so far), or
            ``None``.
    """

    completion: Any

    def __init__(self, *, completion: Any = None) -> None:
        super().__init__(
            "Could not parse response content as the request was rejected by the content filter"
        )
        self.completion = completion
        self.request_id = getattr(completion, "request_id", None)

    @property
    def is_content_filter(self) -> bool:
        return True


class CircuitOpenError(APIError):
    """The circuit breaker for ``origin`` is open: the request was not sent.

    Attributes:
        origin: the origin whose breaker is open (``https://api.openai.com:443``).
        retry_in: seconds until the breaker lets the next probe through.
    """

    _repr_fields: ClassVar[tuple[str, ...]] = ("origin", "retry_in")

    def __init__(self, origin: str, retry_in: float) -> None:
        self.origin = origin
        self.retry_in = max(float(retry_in), 0.0)
        super().__init__(
            f"Circuit open for {scrub(origin)} after repeated failures; "
            f"next probe in {self.retry_in:.1f} s"
        )
