"""Test helpers: a real HTTP/1.1 server, a CONNECT proxy and throwaway TLS.

``trio_openai`` itself never imports this package. It imports trio, h11 and msgspec
(all runtime dependencies) and nothing heavier; ``trustme``, a development
dependency, is imported only when :func:`tls_contexts` runs.
"""

from __future__ import annotations

from ._faults import Fault, FaultPlan, FaultRule, Schedule
from ._http_messages import (
    CloseWithoutResponse,
    Handler,
    Misbehaviour,
    Request,
    Reset,
    Response,
    Stall,
    canned_handler,
    echo_handler,
)
from ._http_server import HTTPServer, ServerStatistics, open_http_server
from ._mock._azure import AzureMode
from ._mock._quirks import PRESETS as QUIRK_PRESETS
from ._mock._quirks import QUIRKS
from ._mock._server import MockOpenAIServer, MockStats, open_mock_server
from ._proxy_server import ConnectProxy, ProxyStatistics, open_connect_proxy
from ._ratelimit_sim import RateDecision, RateLimitSim, estimate_tokens, format_go_duration
from ._records import RequestRecord, UploadedFile
from ._tls import client_context, server_context, tls_contexts

# Every name above is re-exported through __all__ (mypy and pyright honour it).
__all__ = [
    # HTTP server
    "open_http_server",
    "HTTPServer",
    "ServerStatistics",
    "Handler",
    "Request",
    "Response",
    "echo_handler",
    "canned_handler",
    # scripted misbehaviour
    "Misbehaviour",
    "Stall",
    "Reset",
    "CloseWithoutResponse",
    # proxy
    "open_connect_proxy",
    "ConnectProxy",
    "ProxyStatistics",
    # TLS (trustme)
    "tls_contexts",
    "server_context",
    "client_context",
    # mock OpenAI server
    "open_mock_server",
    "MockOpenAIServer",
    "MockStats",
    "RequestRecord",
    "UploadedFile",
    "AzureMode",
    "QUIRKS",
    "QUIRK_PRESETS",
    # fault plans
    "Fault",
    "FaultPlan",
    "FaultRule",
    "Schedule",
    # rate-limit simulation
    "RateLimitSim",
    "RateDecision",
    "estimate_tokens",
    "format_go_duration",
]
