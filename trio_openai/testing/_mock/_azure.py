"""The mock server's Azure OpenAI mode: deployment paths, ``api-version``, Azure's auth.

Theory of operation: with ``open_mock_server(azure=...)`` every request passes
:meth:`AzureMode.admit` before the route table sees it. Azure OpenAI serves the API
under ``/openai`` on the resource's endpoint, with the model endpoints scoped to a
deployment and every request naming the API version in its query::

    POST /openai/deployments/{deployment}/chat/completions?api-version=2024-10-21
    GET  /openai/models?api-version=2024-10-21

:meth:`AzureMode.admit` checks, in Azure's order, the credential (an ``api-key``
header, or ``Authorization: Bearer <Entra ID token>``), the ``api-version`` and the
path, and answers the ``/v1`` path the route table knows plus the model the
deployment serves (which then replaces the body's ``model``, as Azure ignores it).
Failures are Azure's answers, ``{"error": {"code", "message"}}``: 401 for a missing
or wrong credential, 404 ``Resource not found`` for a missing ``api-version`` or an
unknown path, 400 for an ``api-version`` not served, 404 ``DeploymentNotFound``.
:func:`content_filter_results` adds the content-filter annotations Azure puts on chat
completions, fields an OpenAI client must ignore.

Rules kept: sans-IO (no trio, no clock); the credentials are compared, never kept:
:attr:`AzureMode.credentials` records only which kind each admitted request used.

Options rejected: a second route table (the ``/v1`` one is the only source of what
is served); checking the ``api-version`` against real release dates (any
``YYYY-MM-DD[-preview]`` is served unless the mode lists the versions it serves).
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from ._validate import APIError

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping

    from .._records import RequestRecord

__all__ = ["DEPLOYMENT_ENDPOINTS", "AzureMode", "content_filter_results"]

#: The API paths Azure scopes to a deployment (the others live under ``/openai``).
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
_VERSION: Final = re.compile(r"\d{4}-\d{2}-\d{2}(-preview)?")
_KEY_MESSAGE: Final = (
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to "
    "provide a valid key for an active subscription and use a correct regional API "
    "endpoint for your resource."
)
_TOKEN_MESSAGE: Final = (
    "Unauthorized. Access token is missing, invalid, audience is incorrect "
    "(https://cognitiveservices.azure.com), or have expired."
)
_DEPLOYMENT_MESSAGE: Final = (
    "The API deployment for this resource does not exist. If you created the deployment "
    "within the last 5 minutes, please wait a moment and try again."
)


def _error(status: int, code: str, message: str) -> APIError:
    """An error in Azure's shape: ``{"error": {"code", "message"}}``."""
    error = APIError(status, message, code=code)
    error.body = {"error": {"code": code, "message": message}}
    return error


@dataclass
class AzureMode:
    """How the mock server plays an Azure OpenAI resource (``open_mock_server(azure=)``).

    Attributes:
        api_versions: the ``api-version`` values served; None: any well-formed one
            (``YYYY-MM-DD`` or ``YYYY-MM-DD-preview``).
        deployments: deployment name -> the model it serves; None: any name, serving
            the model of the same name.
        tokens: the Entra ID bearer tokens accepted (a set a test may change at any
            time, to expire a token); None: any non-empty token. The ``api-key``
            header must equal the server's ``api_key`` (None: any non-empty key).
        content_filter: add Azure's content-filter annotations to chat completions.
        credentials: the kind of credential of each admitted request, in order:
            ``"api-key"`` or ``"bearer"`` (never the secret).
    """

    api_versions: Collection[str] | None = None
    deployments: Mapping[str, str] | None = None
    tokens: set[str] | None = None
    content_filter: bool = True
    credentials: list[str] = field(default_factory=list)

    def admit(
        self,
        record: RequestRecord,
        *,
        authorization: str | None,
        api_key: str | None,
        expected_key: str | None,
    ) -> tuple[str, str | None]:
        """Check one request as Azure would; say what the ``/v1`` route table serves.

        Args:
            record: the request (its path and query).
            authorization: its ``Authorization`` header as received, or None.
            api_key: its ``api-key`` header as received, or None.
            expected_key: the key the server requires (None: any non-empty key).

        Returns:
            The ``/v1`` path to route, and the model of the deployment it names (None
            for paths outside a deployment).

        Raises:
            APIError: Azure's answer to a request it refuses (see the module docstring).
        """
        kind = self._check_credential(authorization, api_key, expected_key)
        version = record.query.get("api-version")
        if not version:
            raise _error(404, "404", "Resource not found")
        served = self.api_versions
        if (served is not None and version not in served) or (
            served is None and not _VERSION.fullmatch(version)
        ):
            raise _error(400, "BadRequest", "API version not supported")
        path, model = self._route(record.path)
        self.credentials.append(kind)
        return path, model

    def _check_credential(
        self, authorization: str | None, api_key: str | None, expected_key: str | None
    ) -> str:
        if api_key is not None:
            if not api_key or (
                expected_key is not None
                and not hmac.compare_digest(api_key.encode(), expected_key.encode())
            ):
                raise _error(401, "401", _KEY_MESSAGE)
            return "api-key"
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise _error(401, "401", _TOKEN_MESSAGE)
        tokens = self.tokens
        if tokens is not None and not any(
            hmac.compare_digest(token.encode(), known.encode()) for known in tokens
        ):
            raise _error(401, "401", _TOKEN_MESSAGE)
        return "bearer"

    def _route(self, path: str) -> tuple[str, str | None]:
        rest = path.removeprefix("/openai")
        if rest == path or not rest.startswith("/"):
            raise _error(404, "404", "Resource not found")
        if rest.startswith("/deployments/"):
            name, slash, endpoint = rest.removeprefix("/deployments/").partition("/")
            if not slash or "/" + endpoint not in DEPLOYMENT_ENDPOINTS:
                raise _error(404, "404", "Resource not found")
            deployments = self.deployments
            if deployments is None:
                return "/v1/" + endpoint, name
            model = deployments.get(name)
            if model is None:
                raise _error(404, "DeploymentNotFound", _DEPLOYMENT_MESSAGE)
            return "/v1/" + endpoint, model
        if rest in DEPLOYMENT_ENDPOINTS:
            raise _error(404, "404", "Resource not found")
        return "/v1" + rest, None


_SAFE: Final = {"filtered": False, "severity": "safe"}
_FILTERS: Final = ("hate", "self_harm", "sexual", "violence")


def content_filter_results(payload: Any) -> Any:
    """A chat completion with Azure's content-filter annotations added (a new dict).

    Anything that is not a chat completion is returned as it is.
    """
    if not isinstance(payload, dict) or payload.get("object") != "chat.completion":
        return payload
    results = {name: dict(_SAFE) for name in _FILTERS}
    choices = [
        {**choice, "content_filter_results": results} if isinstance(choice, dict) else choice
        for choice in payload.get("choices", ())
    ]
    return {
        **payload,
        "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": results}],
        "choices": choices,
    }
