"""Request building: the URL, headers, time limits and retry count of one call (sans-IO).

Theory of operation
-------------------
A :class:`RequestBuilder` is made once per client view from its frozen
:class:`~trio_openai._config.ClientConfig`: the headers every request carries
(``Authorization``, ``Accept``, ``User-Agent``, ``OpenAI-Organization``,
``OpenAI-Project``, then the view's default headers, which win over the built-in
ones by name) are computed there, once, in two lists: with and without
``Content-Type: application/json``. A call then costs a list lookup when it adds
nothing of its own, and one copy when it does.

Per call it turns the caller's options into what the transport takes:

- :meth:`url`: ``base_url`` + ``path`` + the default query, the call's query and
  ``extra_query``, in that order, in the API's bracket scheme (:mod:`._qs`).
- :meth:`headers`: the base list, plus ``Content-Type`` / ``Accept`` when the service
  sets them, a fresh ``Idempotency-Key`` on every POST, then ``extra_headers``,
  which replace any header of the same name.
- :meth:`timeouts` and :meth:`max_retries`: the view's defaults unless the call
  gives its own, checked with an error naming the option.

Bodies: :func:`encode_json` encodes a JSON body with the one shared encoder; a
value it cannot encode is a :class:`~trio_openai.errors.SerializationError` naming
where it is (``body.foo[2]``; the services name ``extra_body.foo[2]`` through
:func:`serialization_error`), found by :func:`~trio_openai._validate.unencodable`
only once encoding failed, so a good body costs one encode.

Two hooks let a client for another deployment of the API reuse all of this (the Azure
client, :mod:`._azure`): ``auth`` replaces the ``Authorization: Bearer <key>`` header
with the credential headers it gives (none, when a token is fetched per call), and
``route`` maps an API path and the request's body to the URL to send it to (Azure puts
the model endpoints under a deployment named by the body's ``model``).

Rules kept: nothing here awaits or touches a socket, and a bad option raises before
anything is sent. Options rejected: rebuilding the base headers per call (they only
change with the view), and a header ``dict`` (the order and the duplicates a
caller gives in ``default_headers`` are kept as given).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Final, final

from ._config import ClientConfig, Timeouts
from ._http import InvalidRequestError
from ._qs import encode_query
from ._resilience import IDEMPOTENCY_HEADER, new_idempotency_key
from ._types import NotGiven

if TYPE_CHECKING:
    from ._validate import encode_json as encode_json

__all__ = ["JSON_TYPE", "RequestBuilder", "Route", "encode_json"]

JSON_TYPE: Final = "application/json"


def __getattr__(name: str) -> object:
    if name == "encode_json":  # (re-exported; the validation modules load on first use)
        from ._validate import encode_json

        return encode_json
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: ``route(path, body) -> url``: the URL (no query) of an API path such as
#: ``"/chat/completions"`` for a request with ``body`` (JSON bytes, a multipart body, or
#: None). It may raise :class:`~trio_openai.errors.ValidationError` (nothing is sent).
Route = Callable[[str, object], str]


@final
class RequestBuilder:
    """The request-building rules of one client view (see the module docstring).

    Args:
        config: the view's configuration.
        user_agent: the ``User-Agent`` header value.
        auth: the credential headers every request carries; None:
            ``Authorization: Bearer <config.api_key>``.
        route: where a path goes (see :data:`Route`); None: ``base_url`` + path.
    """

    __slots__ = ("_config", "_headers", "_json_headers", "_route")

    def __init__(
        self,
        config: ClientConfig,
        user_agent: str,
        *,
        auth: Sequence[tuple[str, str]] | None = None,
        route: Route | None = None,
    ) -> None:
        self._config = config
        self._route = route
        if auth is None:
            auth = [("Authorization", f"Bearer {config.api_key.get_secret_value()}")]
        headers = [*auth, ("Accept", JSON_TYPE), ("User-Agent", user_agent)]
        if config.organization:
            headers.append(("OpenAI-Organization", config.organization))
        if config.project:
            headers.append(("OpenAI-Project", config.project))
        names = {n.lower() for n, _ in config.default_headers}
        headers = [h for h in headers if h[0].lower() not in names]
        headers.extend(config.default_headers)
        self._headers = headers
        self._json_headers = [*headers, ("Content-Type", JSON_TYPE)]

    def __repr__(self) -> str:
        return f"<RequestBuilder base_url={self._config.base_url!r}>"

    def url(
        self,
        path: str,
        query: Mapping[str, object] | None = None,
        extra_query: Mapping[str, object] | None = None,
        body: object = None,
    ) -> str:
        """The full URL of ``path`` with the default, call and extra query parameters.

        ``body`` is the request's body, which only a ``route`` hook reads.

        Raises:
            InvalidRequestError: ``path`` is not a non-empty str.
            TypeError: a query value the bracket scheme cannot encode.
            ValidationError: the ``route`` hook refused the request.
        """
        if not isinstance(path, str) or not path:
            raise InvalidRequestError(f"path must be a non-empty str, got {path!r}")
        if self._route is None:
            url = f"{self._config.base_url}/{path.lstrip('/')}"
        else:
            url = self._route("/" + path.lstrip("/"), body)
        default = self._config.default_query
        if query or extra_query or default:
            pairs: list[tuple[str, object]] = list(default)
            if query:
                pairs.extend(query.items())
            if extra_query:
                pairs.extend(extra_query.items())
            qs = encode_query(pairs)
            if qs:
                url = f"{url}?{qs}"
        return url

    def headers(
        self,
        method: str,
        *,
        json: bool,
        content_type: str | None = None,
        accept: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> list[tuple[str, str]]:
        """The headers of one request. The shared base list is returned as is when the
        call adds nothing (callers must not mutate the result)."""
        base = self._json_headers if json else self._headers
        if not (content_type or accept or extra_headers) and method != "POST":
            return base
        headers = list(base)
        if content_type is not None:
            headers.append(("Content-Type", content_type))
        if accept is not None:
            headers = [h for h in headers if h[0] != "Accept"]
            headers.append(("Accept", accept))
        if method == "POST":
            headers.append((IDEMPOTENCY_HEADER, new_idempotency_key()))
        if extra_headers:
            names = {k.lower() for k in extra_headers}
            headers = [h for h in headers if h[0].lower() not in names]
            headers.extend(extra_headers.items())
        return headers

    def timeouts(self, timeout: float | Timeouts | NotGiven | None) -> Timeouts:
        """The call's time limits: the view's unless ``timeout`` is given.

        Raises:
            ValidationError: ``timeout`` is not a positive number, ``None`` or
                :class:`Timeouts`.
        """
        if isinstance(timeout, NotGiven):
            return self._config.timeouts
        try:
            return Timeouts.from_value(timeout)
        except (TypeError, ValueError) as exc:
            from .errors import Problem, ValidationError  # (the errors load with the first one)

            raise ValidationError([Problem("timeout", str(exc), repr(timeout))]) from None

    def max_retries(self, max_retries: int | None) -> int:
        """The call's retry count: the view's unless ``max_retries`` is given.

        Raises:
            ValidationError: ``max_retries`` is not an int >= 0.
        """
        if max_retries is None:
            return self._config.max_retries
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            from .errors import Problem, ValidationError

            raise ValidationError(
                [Problem("max_retries", "must be an int >= 0", repr(max_retries))]
            )
        return max_retries
