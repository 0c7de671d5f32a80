"""The transport: HTTP/1.1 on trio, knowing nothing of OpenAI.

This package is the import surface for the layers above: they import from
``trio_openai._http``, never from its private modules.

Layers inside, from the bottom: ``_exceptions`` (transport errors, each naming its
phase) and ``_grammar`` (the header grammar); ``_url``, ``_headers``, ``_models``;
``_h1`` (sans-IO framing, checked against h11) and ``_request`` (preparing a request);
``_phase`` (phase time limits); ``_tls`` and ``_proxy``; ``_fallback`` (an exchange
read by h11) and ``_connection`` (one connection); ``_response`` (a response holding
its lease); ``_pool`` (the pool).

Loaded with the package: the pool, what constructing one needs and what every
request uses (``_response``, ``_models``). The request checks (``_request``,
``_headers``, ``_url``, ``_grammar``) and the framing (``_h1``) load with the first
request a pool prepares; the connection, its transports and the phase limits
(``_phase``) with its first connection (``Body``, ``HeaderInput``, ``Origin`` and
``PreparedRequest``, read from here, load theirs on first use).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._exceptions import ConnectError as ConnectError
from ._exceptions import ConnectTimeout as ConnectTimeout
from ._exceptions import InvalidRequestError as InvalidRequestError
from ._exceptions import PoolDeadlock as PoolDeadlock
from ._exceptions import PoolTimeout as PoolTimeout
from ._exceptions import ProxyError as ProxyError
from ._exceptions import ReadError as ReadError
from ._exceptions import ReadTimeout as ReadTimeout
from ._exceptions import RemoteProtocolError as RemoteProtocolError
from ._exceptions import ResponseTooLarge as ResponseTooLarge
from ._exceptions import TLSError as TLSError
from ._exceptions import TotalTimeout as TotalTimeout
from ._exceptions import TransportError as TransportError
from ._exceptions import TransportTimeout as TransportTimeout
from ._exceptions import WriteError as WriteError
from ._exceptions import WriteTimeout as WriteTimeout
from ._models import SENSITIVE_HEADERS as SENSITIVE_HEADERS
from ._models import Headers as Headers
from ._models import redact_pairs as redact_pairs
from ._pool import DEFAULT_MAX_RESPONSE_SIZE as DEFAULT_MAX_RESPONSE_SIZE
from ._pool import DEFAULT_READ_BUFFER_SIZE as DEFAULT_READ_BUFFER_SIZE
from ._pool import Pool as Pool
from ._pool import PoolStatistics as PoolStatistics
from ._response import Lease as Lease
from ._response import Response as Response
from ._tls import CertSpec as CertSpec
from ._tls import InsecureRequestWarning as InsecureRequestWarning
from ._tls import VerifySpec as VerifySpec

if TYPE_CHECKING:
    from ._headers import HeaderInput as HeaderInput
    from ._request import Body as Body
    from ._request import PreparedRequest as PreparedRequest
    from ._url import Origin as Origin


def __getattr__(name: str) -> object:
    # The request checks load with a pool's first request (see the module docstring).
    if name in ("Body", "PreparedRequest"):
        from . import _request

        return getattr(_request, name)
    if name == "HeaderInput":
        from ._headers import HeaderInput

        return HeaderInput
    if name == "Origin":
        from ._url import Origin

        return Origin
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    # the pool and what goes through it
    "Pool",
    "PoolStatistics",
    "DEFAULT_MAX_RESPONSE_SIZE",
    "DEFAULT_READ_BUFFER_SIZE",
    "Lease",
    "PreparedRequest",
    "Response",
    "Body",
    "HeaderInput",
    "Headers",
    "Origin",
    "SENSITIVE_HEADERS",
    "redact_pairs",
    "CertSpec",
    "VerifySpec",
    "InsecureRequestWarning",
    # errors
    "TransportError",
    "TransportTimeout",
    "ConnectError",
    "TLSError",
    "ProxyError",
    "WriteError",
    "ReadError",
    "RemoteProtocolError",
    "ResponseTooLarge",
    "PoolTimeout",
    "PoolDeadlock",
    "ConnectTimeout",
    "WriteTimeout",
    "ReadTimeout",
    "TotalTimeout",
    "InvalidRequestError",
]
