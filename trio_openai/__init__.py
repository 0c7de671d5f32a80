"""trio_openai: the OpenAI API client for trio programs.

Structured concurrency all the way down, cancellation that never leaks a
connection, resilience built in, and fast::

    async with trio_openai.Client() as client:
        completion = await client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "Hello"}]
        )

``import trio_openai`` loads the client and what constructing one needs; the rest
(the exceptions, ``AzureClient``, ``Stream``, the chat types, ``trio_openai.jobs``,
``trio_openai.testing``, every other type) loads on first use: an exception class
when it is first raised, caught or named, the types with the first call of a
service.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._client import Client as Client
from ._config import PoolLimits as PoolLimits
from ._config import Secret as Secret
from ._config import Timeouts as Timeouts
from ._http import InsecureRequestWarning as InsecureRequestWarning
from ._resilience import BreakerPolicy as BreakerPolicy
from ._resilience import CircuitState as CircuitState
from ._resilience import RateLimits as RateLimits
from ._resilience import RetryPolicy as RetryPolicy
from ._types import NOT_GIVEN as NOT_GIVEN
from ._types import NotGiven as NotGiven
from ._types import Omit as Omit
from ._types import omit as omit
from ._version import __version__ as __version__

if TYPE_CHECKING:
    from . import errors as errors
    from . import jobs as jobs
    from . import sse as sse
    from . import testing as testing
    from . import types as types
    from ._azure import AzureClient as AzureClient
    from ._parsing import pydantic_function_tool as pydantic_function_tool
    from ._resilience import LockOrderError as LockOrderError
    from ._response import RawAPIResponse as RawAPIResponse
    from ._response import StreamAlreadyConsumed as StreamAlreadyConsumed
    from ._response import StreamedAPIResponse as StreamedAPIResponse
    from ._streaming import Stream as Stream
    from ._streaming import StreamState as StreamState
    from .errors import APIConnectionError as APIConnectionError
    from .errors import APIError as APIError
    from .errors import APIResponseValidationError as APIResponseValidationError
    from .errors import APIStatusError as APIStatusError
    from .errors import APITimeoutError as APITimeoutError
    from .errors import AuthenticationError as AuthenticationError
    from .errors import BadRequestError as BadRequestError
    from .errors import CircuitOpenError as CircuitOpenError
    from .errors import ConflictError as ConflictError
    from .errors import ContentFilterFinishReasonError as ContentFilterFinishReasonError
    from .errors import InternalServerError as InternalServerError
    from .errors import InvalidWebhookSignatureError as InvalidWebhookSignatureError
    from .errors import LengthFinishReasonError as LengthFinishReasonError
    from .errors import NotFoundError as NotFoundError
    from .errors import OpenAIError as OpenAIError
    from .errors import PermissionDeniedError as PermissionDeniedError
    from .errors import PoolDeadlockError as PoolDeadlockError
    from .errors import RateLimitError as RateLimitError
    from .errors import ResponseTooLargeError as ResponseTooLargeError
    from .errors import SerializationError as SerializationError
    from .errors import UnexpectedRedirectError as UnexpectedRedirectError
    from .errors import UnprocessableEntityError as UnprocessableEntityError
    from .errors import ValidationError as ValidationError


# The exceptions, loaded with the first one raised, caught or named (or by the first
# call of a service, which loads them).
_ERRORS = frozenset(
    {
        "APIConnectionError",
        "APIError",
        "APIResponseValidationError",
        "APIStatusError",
        "APITimeoutError",
        "AuthenticationError",
        "BadRequestError",
        "CircuitOpenError",
        "ConflictError",
        "ContentFilterFinishReasonError",
        "InternalServerError",
        "InvalidWebhookSignatureError",
        "LengthFinishReasonError",
        "NotFoundError",
        "OpenAIError",
        "PermissionDeniedError",
        "PoolDeadlockError",
        "RateLimitError",
        "ResponseTooLargeError",
        "SerializationError",
        "UnexpectedRedirectError",
        "UnprocessableEntityError",
        "ValidationError",
    }
)


def __dir__() -> list[str]:
    # The lazily loaded public names are listed before they are loaded.
    return sorted({*globals(), *__all__})


def __getattr__(name: str) -> object:
    if name in _ERRORS:
        from . import errors

        # Bound here once, so later lookups skip this function.
        globals().update({error: getattr(errors, error) for error in _ERRORS})
        return getattr(errors, name)
    # Rarely used submodules load on first use, keeping ``import trio_openai`` light.
    if name in ("errors", "jobs", "testing", "types", "sse"):
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    if name == "pydantic_function_tool":  # structured output loads the chat types
        from ._parsing import pydantic_function_tool

        return pydantic_function_tool
    if name in ("RawAPIResponse", "StreamedAPIResponse", "StreamAlreadyConsumed"):
        from . import _response  # raw responses load with their first use

        return getattr(_response, name)
    if name in ("Stream", "StreamState"):
        from . import _streaming  # streams load with the first streaming call

        return getattr(_streaming, name)
    if name == "LockOrderError":  # the lock-order checks load in debug mode
        from ._resilience import LockOrderError

        return LockOrderError
    if name == "AzureClient":
        from ._azure import AzureClient

        return AzureClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "__version__",
    "Client",
    "AzureClient",
    "NOT_GIVEN",
    "NotGiven",
    "omit",
    "Omit",
    "pydantic_function_tool",
    "Timeouts",
    "PoolLimits",
    "Secret",
    "BreakerPolicy",
    "CircuitState",
    "RateLimits",
    "RetryPolicy",
    "Stream",
    "StreamState",
    "RawAPIResponse",
    "StreamedAPIResponse",
    "StreamAlreadyConsumed",
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
    "InsecureRequestWarning",
    "LockOrderError",
    "InvalidWebhookSignatureError",
]
