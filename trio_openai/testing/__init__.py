"""Test helpers: a real HTTP/1.1 server, a CONNECT proxy and throwaway TLS.

``trio_openai`` itself never imports this package. It imports trio, h11 and msgspec
(all runtime dependencies) and nothing heavier; ``trustme``, a development
dependency, is imported only when :func:`tls_contexts` runs.
"""

from __future__ import annotations

from ._faults import Fault, FaultPlan, FaultRule, Schedule
from ._http_server import (
    CloseWithoutResponse,
    Handler,
    HTTPServer,
    Misbehaviour,
    Request,
    Reset,
    Response,
    ServerStatistics,
    Stall,
    canned_handler,
    client_context,
    echo_handler,
    open_http_server,
    server_context,
    tls_contexts,
)
from ._mock_openai import (
    MockOpenAIServer,
    MockStats,
    RequestRecord,
    UploadedFile,
    open_mock_server,
)
from ._proxy_server import ConnectProxy, ProxyStatistics, open_connect_proxy
from ._ratelimit_sim import RateDecision, RateLimitSim, estimate_tokens, format_go_duration

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
