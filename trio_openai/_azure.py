"""``AzureClient``: the same client for Azure OpenAI (the SDK's ``AsyncAzureOpenAI``).

Theory of operation
-------------------
Azure OpenAI serves the OpenAI API from a resource's endpoint, with three differences
this module takes care of; everything else (services, types, streams, errors,
resilience, the pool) is :class:`~trio_openai.Client`'s, unchanged:

- **URLs.** The API lives under ``{endpoint}/openai``, and the model endpoints
  (:data:`DEPLOYMENT_ENDPOINTS`: chat, completions, embeddings, audio, images) under a
  deployment: ``{endpoint}/openai/deployments/{deployment}/chat/completions``. The
  deployment is ``azure_deployment`` when the client has one, else the request's
  ``model`` (read from the JSON body, or the multipart fields). The
  :class:`~trio_openai._request.RequestBuilder`'s ``route`` hook does this.
- **Version.** Every request carries ``?api-version=...`` (a default query parameter,
  first in the query, as the SDK sends it).
- **Credentials.** An ``api-key`` header (``api_key``), or ``Authorization: Bearer``
  with a Microsoft Entra ID token: a fixed ``azure_ad_token``, or one from
  ``azure_ad_token_provider`` (:class:`_TokenCache`), fetched per call through the
  client's ``_credentials`` seam (:class:`~trio_openai._client_base.CallCredentials`).

Token provider rules (where the SDK calls the provider on every request):

- A provider returning a ``str`` is called per request, as in the SDK (e.g.
  ``azure.identity.aio.get_bearer_token_provider``, which caches by itself).
- A provider returning an access token object (``token`` and ``expires_on`` in Unix
  seconds, as ``azure.core.credentials.AccessToken``; ``refresh_on`` too, as
  ``AccessTokenInfo``) is cached until ``refresh_on``, else until
  ``min(300 s, half its remaining life)`` before ``expires_on``. The expiry is turned
  into trio's clock once, when the token arrives, so a test's ``MockClock`` moves it.
- Refreshing holds a ``trio.Lock``: N calls that find the token stale wait for one
  refresh and share its result. A 401 drops the cached token, so the next call
  fetches a fresh one (a revoked token is not sent again). A provider that raises
  raises to the caller (nothing is sent); one that returns an empty token is a
  ``ValueError``.

Settings follow the SDK: ``AZURE_OPENAI_API_KEY``, ``AZURE_OPENAI_AD_TOKEN`` (which
wins over the key when neither is passed), ``AZURE_OPENAI_ENDPOINT`` and
``OPENAI_API_VERSION``; ``api_key``, ``azure_ad_token`` and ``azure_ad_token_provider``
are mutually exclusive, as are ``azure_endpoint`` and ``base_url``. With ``base_url``
the URL is used as given (model endpoints gain ``/deployments/{model}`` unless it names
a deployment already).

Options rejected: a separate client class hierarchy (the services take a client; one
subclass with two hooks keeps them all); refreshing tokens in a background task
(it would outlive nothing useful and need the nursery; a call that needs a token is
the right moment to fetch one); the SDK's realtime URL rules (no realtime service here).
"""

from __future__ import annotations

import inspect
import math
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Final, Protocol

import msgspec
import trio

from ._client import USER_AGENT, Client
from ._config import DEFAULT_MAX_EVENT_SIZE, ClientConfig, PoolLimits, Timeouts
from ._http import DEFAULT_MAX_RESPONSE_SIZE, DEFAULT_READ_BUFFER_SIZE
from ._multipart import MultipartBody
from ._request import RequestBuilder
from ._resilience import BreakerPolicy, RateLimits, RetryPolicy
from ._types import NOT_GIVEN, NotGiven
from .errors import OpenAIError
from .resources._base import path_id

if TYPE_CHECKING:
    from typing_extensions import Self

    from ._http import CertSpec, VerifySpec

__all__ = [
    "DEPLOYMENT_ENDPOINTS",
    "AccessTokenLike",
    "AzureADTokenProvider",
    "AzureClient",
]

#: The API paths Azure scopes to a deployment (the SDK's list); the others sit
#: directly under ``{endpoint}/openai``.
DEPLOYMENT_ENDPOINTS: Final = frozenset(
    {
        "/completions",
        "/chat/completions",
        "/embeddings",
        "/audio/transcriptions",
        "/audio/translations",
        "/audio/speech",
        "/images/generations",
        "/images/edits",
    }
)

_REFRESH_MARGIN: Final = 300.0
"""Seconds before expiry a cached token is refreshed (at most half its remaining life)."""

_NO_KEY: Final = "<missing API key>"
"""``api_key`` of a client that authenticates with Entra ID tokens (the SDK's value)."""

_DEFAULT_BREAKER: Final = BreakerPolicy()


class AccessTokenLike(Protocol):
    """An access token with its expiry (``azure.core.credentials.AccessToken``)."""

    @property
    def token(self) -> str: ...

    @property
    def expires_on(self) -> float: ...


#: What ``azure_ad_token_provider`` returns: a token, or an access token with its expiry.
TokenResult = str | AccessTokenLike
#: ``azure_ad_token_provider``: a function (async or not) returning a :data:`TokenResult`.
AzureADTokenProvider = Callable[[], TokenResult | Awaitable[TokenResult]]


class _ModelOnly(msgspec.Struct):
    """The ``model`` of a JSON request body (every other field skipped)."""

    model: str | None = None


_model_decoder: Final = msgspec.json.Decoder(_ModelOnly)


def _model_of(body: object) -> str | None:
    """The ``model`` a request body names: JSON bytes, or multipart text fields."""
    if isinstance(body, (bytes, bytearray, memoryview)):
        try:
            return _model_decoder.decode(body).model
        except msgspec.DecodeError:  # not JSON, or a model that is not a string
            return None
    if isinstance(body, MultipartBody):
        return next((value for name, value in body.fields if name == "model"), None)
    return None


class _TokenCache:
    """Entra ID tokens from a provider: cached with their expiry, one refresh at a time.

    Implements :class:`~trio_openai._client_base.CallCredentials` (see the module
    docstring for the rules). ``refreshes`` counts the provider's calls.
    """

    __slots__ = ("_lock", "_per_call", "_provider", "_refresh_at", "_token", "refreshes")

    def __init__(self, provider: AzureADTokenProvider) -> None:
        self._provider = provider
        self._lock = trio.Lock()
        self._token: str | None = None
        self._refresh_at = -math.inf  # trio time from which the cached token is stale
        self._per_call = False  # the provider returns plain strings: never cached
        self.refreshes = 0

    async def header(self) -> tuple[str, str]:
        return ("Authorization", f"Bearer {await self.token()}")

    def rejected(self) -> None:
        self._token = None

    async def token(self) -> str:
        """A valid token: the cached one, or a fresh one from the provider.

        Raises:
            ValueError: the provider returned an empty token or something else.
            Exception: whatever the provider raised (nothing is cached).
        """
        if self._per_call:
            return (await self._fetch())[0]
        cached = self._token
        if cached is not None and trio.current_time() < self._refresh_at:
            return cached
        async with self._lock:
            # Another task may have refreshed it while this one waited for the lock.
            cached = self._token
            if cached is not None and trio.current_time() < self._refresh_at:
                return cached
            token, refresh_at = await self._fetch()
            if refresh_at is None:
                self._per_call = True
                self._token = None
            else:
                self._token, self._refresh_at = token, refresh_at
            return token

    async def _fetch(self) -> tuple[str, float | None]:
        """Call the provider: the token, and the trio time to refresh it (None: never
        cache it)."""
        self.refreshes += 1
        result: object = self._provider()
        if inspect.isawaitable(result):
            result = await result
        if isinstance(result, str):
            token: object = result
            expires_on: object = None
            refresh_on: object = None
        else:
            token = getattr(result, "token", None)
            expires_on = getattr(result, "expires_on", None)
            refresh_on = getattr(result, "refresh_on", None)
        if not isinstance(token, str) or not token:
            raise ValueError(
                "azure_ad_token_provider must return a non-empty token: a str, or an "
                f"access token with .token and .expires_on (got {type(result).__name__})"
            )
        if not _seconds(expires_on):
            return token, None
        wall, now = time.time(), trio.current_time()
        remaining = float(expires_on) - wall  # type: ignore[arg-type]
        if remaining <= 0:
            return token, None  # already expired: use it once, fetch again next time
        if _seconds(refresh_on) and float(refresh_on) < wall + remaining:  # type: ignore[arg-type]
            return token, now + float(refresh_on) - wall  # type: ignore[arg-type]
        return token, now + remaining - min(_REFRESH_MARGIN, remaining / 2)


def _seconds(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _credential(
    api_key: str | None,
    azure_ad_token: str | None,
    azure_ad_token_provider: AzureADTokenProvider | None,
) -> tuple[str | None, str | None, AzureADTokenProvider | None]:
    """The one credential given, or the environment's (the SDK's rules)."""
    given = [x is not None for x in (api_key, azure_ad_token, azure_ad_token_provider)]
    if sum(given) > 1:
        raise ValueError(
            "api_key, azure_ad_token and azure_ad_token_provider are mutually exclusive; "
            "pass only one"
        )
    if not any(given):
        azure_ad_token = os.environ.get("AZURE_OPENAI_AD_TOKEN") or None
        if azure_ad_token is None:
            api_key = os.environ.get("AZURE_OPENAI_API_KEY") or None
    if api_key is None and azure_ad_token is None and azure_ad_token_provider is None:
        raise OpenAIError(
            "Missing credentials: pass api_key, azure_ad_token or azure_ad_token_provider, "
            "or set the AZURE_OPENAI_API_KEY or AZURE_OPENAI_AD_TOKEN environment variable"
        )
    for name, value in (("api_key", api_key), ("azure_ad_token", azure_ad_token)):
        if value is not None and not isinstance(value, str):
            raise TypeError(f"{name} must be a str, got {type(value).__name__}")
    if azure_ad_token_provider is not None and not callable(azure_ad_token_provider):
        raise TypeError(
            "azure_ad_token_provider must be a function returning a token, got "
            f"{type(azure_ad_token_provider).__name__}"
        )
    return api_key, azure_ad_token, azure_ad_token_provider


class AzureClient(Client):
    """The client for Azure OpenAI: the SDK's ``AsyncAzureOpenAI`` on trio.

    Use it as ``async with trio_openai.AzureClient(...) as client:``; the services,
    types, streams and errors are :class:`~trio_openai.Client`'s. Unset values come
    from ``AZURE_OPENAI_ENDPOINT``, ``OPENAI_API_VERSION`` and ``AZURE_OPENAI_AD_TOKEN``
    or ``AZURE_OPENAI_API_KEY``.

    Args:
        azure_endpoint: the resource's endpoint, e.g.
            ``https://my-resource.openai.azure.com``.
        azure_deployment: the deployment every model endpoint uses; None: the
            request's ``model`` names it.
        api_version: sent as ``?api-version=`` on every request.
        api_key: sent as the ``api-key`` header.
        azure_ad_token: a Microsoft Entra ID token, sent as ``Authorization: Bearer``.
        azure_ad_token_provider: a function (async or not) returning a token (called
            per request) or an access token with ``.token`` and ``.expires_on`` (cached
            and refreshed before it expires, once however many calls wait).
        base_url: instead of ``azure_endpoint``: the URL used as given.
        The other arguments are :class:`~trio_openai.Client`'s.

    Raises:
        OpenAIError: no credential was given or found in the environment.
        ValueError: no ``api_version`` / endpoint, or exclusive settings combined.
        TypeError: a setting of the wrong type (named).
    """

    def __init__(
        self,
        *,
        azure_endpoint: str | None = None,
        azure_deployment: str | None = None,
        api_version: str | None = None,
        api_key: str | None = None,
        azure_ad_token: str | None = None,
        azure_ad_token_provider: AzureADTokenProvider | None = None,
        base_url: str | None = None,
        organization: str | None = None,
        project: str | None = None,
        timeout: float | Timeouts | None = Timeouts(),  # noqa: B008  (frozen value)
        max_retries: int = 2,
        default_headers: Mapping[str, str] | None = None,
        default_query: Mapping[str, object] | None = None,
        verify: VerifySpec = True,
        cert: CertSpec = None,
        proxy: str | None = None,
        trust_env: bool = True,
        limits: PoolLimits | None = None,
        retry_policy: RetryPolicy | None = None,
        breaker: BreakerPolicy | None = _DEFAULT_BREAKER,
        rate_limits: RateLimits | None = None,
        follow_server_limits: bool = True,
        tracing: bool | None = None,
        max_response_size: int | None = DEFAULT_MAX_RESPONSE_SIZE,
        max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
        read_buffer_size: int = DEFAULT_READ_BUFFER_SIZE,
    ) -> None:
        api_key, azure_ad_token, provider = _credential(
            api_key, azure_ad_token, azure_ad_token_provider
        )
        version = api_version if api_version is not None else os.environ.get("OPENAI_API_VERSION")
        if not version:
            raise ValueError("pass api_version= or set the OPENAI_API_VERSION environment variable")
        if not isinstance(version, str):
            raise TypeError(f"api_version must be a str, got {type(version).__name__}")
        if base_url is not None and azure_endpoint is not None:
            raise ValueError("azure_endpoint and base_url are mutually exclusive")
        deployment = None
        if azure_deployment is not None:
            deployment = path_id(azure_deployment, "azure_deployment")
        if base_url is not None:
            root = _http_url("base_url", base_url)
            # A base URL naming a deployment serves the model endpoints as it is.
            deployment_url = root if "/deployments" in root.split("://", 1)[1] else None
            url = root
        else:
            endpoint = azure_endpoint or os.environ.get("AZURE_OPENAI_ENDPOINT")
            if not endpoint:
                raise ValueError(
                    "pass azure_endpoint= (or base_url=) or set the AZURE_OPENAI_ENDPOINT "
                    "environment variable"
                )
            root = _http_url("azure_endpoint", endpoint) + "/openai"
            deployment_url = f"{root}/deployments/{deployment}" if deployment else None
            url = deployment_url or root
        self._api_version = version
        self._root = root
        self._deployment_url = deployment_url
        self._auth_kind = (
            "api-key" if api_key is not None else "entra-id-provider" if provider else "entra-id"
        )
        self._static_auth: list[tuple[str, str]] = []
        if api_key is not None:
            self._static_auth = [("api-key", api_key)]
        elif azure_ad_token is not None:
            self._static_auth = [("Authorization", f"Bearer {azure_ad_token}")]
        if provider is not None:
            self._credentials = _TokenCache(provider)
        super().__init__(
            api_key=api_key if api_key is not None else _NO_KEY,
            organization=organization,
            project=project,
            base_url=url,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
            default_query={"api-version": version, **(default_query or {})},
            verify=verify,
            cert=cert,
            proxy=proxy,
            trust_env=trust_env,
            limits=limits,
            retry_policy=retry_policy,
            breaker=breaker,
            rate_limits=rate_limits,
            follow_server_limits=follow_server_limits,
            tracing=tracing,
            max_response_size=max_response_size,
            max_event_size=max_event_size,
            read_buffer_size=read_buffer_size,
        )

    def _builder(self, config: ClientConfig) -> RequestBuilder:
        return RequestBuilder(config, USER_AGENT, auth=self._static_auth, route=self._route)

    def _route(self, path: str, body: object) -> str:
        """The URL of ``path`` (see the module docstring)."""
        if path in DEPLOYMENT_ENDPOINTS:
            if self._deployment_url is not None:
                return self._deployment_url + path
            model = _model_of(body)
            if model is not None:
                return f"{self._root}/deployments/{path_id(model, 'model')}{path}"
        return self._root + path

    @property
    def api_version(self) -> str:
        """The ``api-version`` every request carries."""
        return self._api_version

    def with_options(self, *, api_version: str | NotGiven = NOT_GIVEN, **options: Any) -> Self:
        """A view with some settings changed (``api_version`` too, and every setting
        :meth:`Client.with_options` takes), sharing this client's pool, state and
        token cache. The view's default query always carries its ``api-version``."""
        version = self._api_version if isinstance(api_version, NotGiven) else api_version
        if not isinstance(version, str) or not version:
            raise TypeError(f"api_version must be a non-empty str, got {version!r}")
        view = super().with_options(**options)
        query = tuple((k, v) for k, v in view._config.default_query if k != "api-version")
        view._api_version = version
        view._config = msgspec.structs.replace(
            view._config, default_query=(("api-version", version), *query)
        )
        view._requests = view._builder(view._config)
        return view

    def __repr__(self) -> str:
        state = "closed" if self._state.closed else ("open" if self._state.entered else "new")
        return (
            f"<trio_openai.AzureClient {state} base_url={self._config.base_url!r} "
            f"api_version={self._api_version!r} auth={self._auth_kind} "
            f"max_retries={self._config.max_retries}>"
        )


def _http_url(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__}")
    url = value.rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"{name} must start with http:// or https://, got {value!r}")
    return url
