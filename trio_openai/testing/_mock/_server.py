"""The mock OpenAI server: the request pipeline, the public object, and its opening.

Theory of operation: :func:`open_mock_server` runs the generic HTTP/1.1 server of
``_http_server`` with one handler, :meth:`MockOpenAIServer._handle`, and owns a
nursery for the work that outlives a request (batches, background responses). Per
request the handler:

1. records it (:class:`~trio_openai.testing.RequestRecord`: method, path, query,
   headers with credentials redacted, decoded JSON or multipart fields) and counts
   it; ``server.requests`` keeps the last ``record_limit`` records;
2. consults the fault plan (``_faults``): an outcome fault (status, reset, stall,
   garbage) answers instead of the API, modifiers (latency, trickle, idle close)
   change how the real answer is sent (``_sending``);
3. finds the route in the route table (``_routes``); unless the route is public,
   checks ``Authorization: Bearer <key>`` of the request as read (401 with
   OpenAI's body; the record never holds the key) and answers 404
   ``Invalid URL (METHOD /path)`` for a request no route serves;
4. for the model endpoints, charges the rate-limit simulation (``_ratelimit_sim``):
   ``x-ratelimit-*`` headers on every answer, 429 with ``retry-after`` when over;
5. checks the body the route reads (content type, JSON syntax: 400s
   with OpenAI's messages, ``_validate``), in strict mode (the default) also its
   parameter names and model (``_routes.check_strict``), and runs the endpoint
   function with the shared :class:`~._state.MockState`;
6. adds ``x-request-id`` (``req_<hex>``, from the seed and a counter),
   ``openai-version``, ``openai-processing-ms`` and ``content-type``.

The endpoints live in one module per API area (``_chat``, ``_completions``,
``_embeddings``, ``_models``, ``_files``, ``_uploads``, ``_batches``,
``_moderations``, ``_images``, ``_audio``, ``_responses``, ``_conversations``,
``_vector_stores``, ``_fine_tuning``); deterministic content comes from
``_fakers``.

Rules kept:
- Deterministic: ids, request ids and content depend only on ``seed`` and the order
  of requests; timestamps (``created``) are wall-clock seconds, as OpenAI's are.
- Fast: endpoint functions are synchronous (no await per request beyond the HTTP
  server's), JSON goes through msgspec, generated text is cached per prompt, static
  payloads (the model list) are encoded once, static routes are one dict lookup.
- Faithful: response shapes follow the OpenAPI spec and the wire examples; error
  bodies are ``{"error": {"message", "type", "param", "code"}}`` with OpenAI's
  messages where they are known. Where the spec's examples show ``null`` for a field
  its schema does not let be null (unset batch timestamps, a running response's
  ``usage``), the field is left out: that satisfies the schema, and clients must
  accept both anyway.
- Bounded: what a long-running server keeps per request is bounded (the record by
  ``record_limit``, the per-path counts by ``_MAX_PATHS_COUNTED`` distinct paths);
  the HTTP server under it refuses a body over ``max_body_size`` from its declared
  length (413) and drops a client that sends a head or a body too slowly (408).
- Structured: no task outlives the ``async with``; background tasks never raise
  (their errors go to :attr:`MockOpenAIServer.errors`), so an exception from the body
  of the ``async with`` comes out as itself.

Options rejected: an ASGI app (the point is a dependency-free trio server that can
misbehave at the socket level); validating every request field against the spec
(only what clients get wrong in practice is checked, plus, in strict mode, the
names of the top-level parameters and the model); real audio or image encoders.
"""

from __future__ import annotations

import functools
import ssl
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import msgspec
import trio

from ..._compat import BaseExceptionGroup
from .._faults import FaultPlan, FaultRule, Schedule, Selection
from .._http_messages import Misbehaviour, Request, Response
from .._http_server import (
    DEFAULT_BODY_TIMEOUT,
    DEFAULT_HEAD_TIMEOUT,
    HTTPServer,
    open_http_server,
)
from .._ratelimit_sim import RateLimitSim, estimate_tokens
from .._records import RequestRecord
from .._request_log import DEFAULT_RECORD_LIMIT, RequestLog
from .._tls import client_context, tls_contexts
from . import _models
from ._azure import AzureMode, content_filter_results
from ._quirks import apply_quirks, quirk_set
from ._routes import BATCH_TARGETS, ROUTER, check_strict
from ._sending import apply_late_fault, chunks_body, early_answer, events_body
from ._state import MockState
from ._validate import APIError, RateLimited, check_auth, check_body, not_found
from ._wire import SSE_CT, Call, Reply, decode, encode, parse_multipart

if TYPE_CHECKING:
    import trustme

    from .._faults import Fault

__all__ = ["MockOpenAIServer", "MockStats", "open_mock_server"]

OPENAI_VERSION: Final = "2020-10-01"
DEFAULT_MAX_BODY_SIZE: Final = 32 * 1024 * 1024
_MAX_PATHS_COUNTED: Final = 1000
"""Distinct paths counted one by one in ``requests_per_path``; later ones share
``"<other>"`` (a client inventing paths must not grow the server without end)."""
_OTHER_PATHS: Final = "<other>"


@dataclass(frozen=True)
class MockStats:
    """A snapshot of the mock server's counters (``server.stats``).

    Attributes:
        connections_opened: TCP connections accepted so far.
        connections_open: connections currently open.
        requests: requests received.
        requests_per_path: requests per path (``"/v1/chat/completions"``...); past
            1000 distinct paths, new ones are counted together under ``"<other>"``.
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


class MockOpenAIServer:
    """A running mock OpenAI server; get one from :func:`open_mock_server`.

    Attributes:
        base_url: e.g. ``"http://127.0.0.1:PORT/v1"`` (``https`` with TLS).
        api_key: the key clients must send (None: any key is accepted).
        requests: the last ``record_limit`` :class:`RequestRecord`, in order (a
            ``list``; empty when ``record_requests`` is off). Credential headers
            are kept as ``"<redacted>"``.
        faults: the current :class:`FaultPlan` (or None); may be replaced any time.
        rate_limits: the current :class:`RateLimitSim` (or None); may be replaced.
        seed: the seed of all generated content and ids.
        latency: seconds to wait before answering each request.
        batch_delay: seconds each batch stage and line takes (0: as fast as possible).
        background_delay: seconds a ``background: true`` response stays queued.
        stream_interval: seconds between SSE events (0: no pause).
        max_body_size: a request declaring a larger body gets 413 (before it is read)
            and its connection is closed; may be changed any time.
        azure: the :class:`AzureMode` of a server playing Azure OpenAI, or None.
        quirks: the compatible-server quirks it plays (names); may be replaced.
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
        record_limit: int | None,
        strict: bool = True,
        azure: AzureMode | None = None,
        quirks: frozenset[str] = frozenset(),
    ) -> None:
        self.api_key = api_key
        self.azure = azure
        self.quirks = quirks
        self.faults = faults
        self.rate_limits = rate_limits
        self.latency = latency
        self.stream_interval = stream_interval
        self._max_body_size = max_body_size
        self.record_requests = record_requests
        self.requests: RequestLog[RequestRecord] = RequestLog(record_limit)
        self.ca: trustme.CA | None = None
        self.base_url = ""
        self._http: HTTPServer | None = None
        self._state = MockState(
            seed=seed,
            batch_delay=batch_delay,
            background_delay=background_delay,
            models=_models.catalogue(),
            batch_targets=BATCH_TARGETS,
            strict=strict,
        )
        self._received = 0  # HTTP requests received
        self._per_path: dict[str, int] = {}
        self._statuses: dict[int, int] = {}
        self._rate_limited = 0
        self._faults_fired: dict[str, int] = {}

    def __repr__(self) -> str:
        return f"<MockOpenAIServer {self.base_url} requests={self._received}>"

    # -- settings the endpoints read (kept in the shared state) -----------------------

    @property
    def seed(self) -> int:
        return self._state.seed

    @seed.setter
    def seed(self, value: int) -> None:
        self._state.seed = value

    @property
    def batch_delay(self) -> float:
        return self._state.batch_delay

    @batch_delay.setter
    def batch_delay(self, value: float) -> None:
        self._state.batch_delay = value

    @property
    def background_delay(self) -> float:
        return self._state.background_delay

    @background_delay.setter
    def background_delay(self, value: float) -> None:
        self._state.background_delay = value

    @property
    def max_body_size(self) -> int:
        return self._max_body_size

    @max_body_size.setter
    def max_body_size(self, value: int) -> None:
        # Enforced by the HTTP server, from the declared length, before the body is read.
        self._max_body_size = value
        if self._http is not None:
            self._http.max_body_size = value

    @property
    def strict(self) -> bool:
        """Refuse unknown models (404) and unknown body parameters (400) as OpenAI
        does; set ``False`` to accept both."""
        return self._state.strict

    @strict.setter
    def strict(self, value: bool) -> None:
        self._state.strict = value

    @property
    def origin(self) -> str:
        """``"http://127.0.0.1:PORT"``: :attr:`base_url` without ``/v1``."""
        return self._state.origin

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
        return [*http_errors, *self._state.errors]

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
        return self._state.store_file(data, filename, purpose, None).id

    def add_model(self, model_id: str, *, owned_by: str = "user") -> None:
        """Serve ``model_id``: listed by ``/v1/models`` and accepted by every endpoint
        (strict mode refuses models the server does not list)."""
        self._state.add_model(model_id, owned_by)

    def file_content(self, file_id: str) -> bytes:
        """The bytes of a stored file (e.g. a batch output file).

        Raises:
            KeyError: no such file.
        """
        return self._state.files[file_id].data

    # -- the handler ------------------------------------------------------------------

    async def _handle(self, request: Request) -> Response | Misbehaviour:
        start = trio.current_time()
        # The record keeps credentials redacted: the key is checked on the request.
        authorization = next((v for k, v in request.headers if k == "authorization"), None)
        api_key = None
        if self.azure is not None:
            api_key = next((v for k, v in request.headers if k == "api-key"), None)
        record = self._record(request)
        plan = self.faults
        selection = plan.select(record) if plan is not None else None
        outcome: Fault | None = None
        trickle: float | None = None
        if selection is not None:
            trickle = await self._apply_modifiers(selection)
            outcome = selection.outcome
            if outcome is not None:
                early = early_answer(outcome)
                if early is not None:
                    self._fired(outcome.kind)
                    if isinstance(early, Misbehaviour):
                        return early
                    return self._respond(record, early, None, start)
        if self.latency > 0:
            await trio.sleep(self.latency)
        pad = outcome.size if outcome is not None and outcome.kind == "oversized_event" else 0
        reply, extra = self._serve(record, pad, authorization, api_key)
        reply = apply_quirks(self.quirks, record, reply)
        response = self._respond(record, reply, extra, start)
        if outcome is not None and apply_late_fault(outcome, reply, response, self.stream_interval):
            self._fired(outcome.kind)
        if trickle is not None:
            response.trickle = trickle
        return response

    def _record(self, request: Request) -> RequestRecord:
        headers = dict(request.headers)
        body = request.body
        json_value: Any = None
        form: dict[str, Any] | None = None
        if body:  # within max_body_size: the HTTP server refused larger ones
            ctype = headers.get("content-type", "")
            if ctype.startswith("multipart/form-data"):
                form = parse_multipart(body, ctype)
            elif not ctype or "json" in ctype:
                try:
                    json_value = decode(body)
                except msgspec.DecodeError:
                    json_value = None
        record = RequestRecord(
            request.method,
            request.path,
            request.query,
            headers,
            body,
            self._state.new_request_id(),
            json_value,
            form,
            trio.current_time(),
        )
        if self.record_requests:
            self.requests.append(record)
        path = request.path
        self._received += 1
        per_path = self._per_path
        if path not in per_path and len(per_path) >= _MAX_PATHS_COUNTED:
            path = _OTHER_PATHS
        per_path[path] = per_path.get(path, 0) + 1
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

    def _serve(
        self, record: RequestRecord, pad: int, authorization: str | None, api_key: str | None
    ) -> tuple[Reply, list[tuple[str, str]] | None]:
        """Everything after the faults: route, auth, rate limits, body checks, endpoint."""
        state = self._state
        path, model = record.path, None
        azure = self.azure
        if azure is not None:  # Azure's front door: credential, api-version, path
            try:
                path, model = azure.admit(
                    record, authorization=authorization, api_key=api_key, expected_key=self.api_key
                )
            except APIError as exc:
                return Reply(exc.body, status=exc.status), None
        found = ROUTER.match(record.method, path)
        if found is not None and found[0].public:
            route, args = found
            return route.handler(state, Call(record, args)), None
        try:
            if azure is None:
                check_auth(authorization, self.api_key)
            if found is None:
                raise not_found(f"Invalid URL ({record.method} {record.path})")
        except APIError as exc:
            return Reply(exc.body, status=exc.status), None
        route, args = found
        extra: list[tuple[str, str]] | None = None
        try:
            sim = self.rate_limits
            if route.rate_limited and sim is not None:
                # Charged before the body is checked: a malformed request still counts,
                # and every answer of a rate-limited endpoint carries the headers.
                extra = self._charge(sim, record)
            body = check_body(record, route.body)
            if model is not None:  # Azure: the deployment decides the model
                body = {**body, "model": model}
                # A deployment's name is the user's choice: only parameters are checked.
                check_strict(route, {k: v for k, v in body.items() if k != "model"}, state)
            else:
                check_strict(route, body, state)
            reply = route.handler(state, Call(record, args, body, True, pad))
            if azure is not None and azure.content_filter:
                reply.payload = content_filter_results(reply.payload)
        except RateLimited as exc:
            return Reply(exc.body, status=429, headers=exc.headers), None
        except APIError as exc:
            return Reply(exc.body, status=exc.status), extra
        return reply, extra

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
        raise RateLimited(decision.error or {}, decision.headers)

    def _respond(
        self,
        record: RequestRecord,
        reply: Reply,
        extra: list[tuple[str, str]] | None,
        start: float,
    ) -> Response:
        status = reply.status
        record.status = status
        self._statuses[status] = self._statuses.get(status, 0) + 1
        elapsed = int((trio.current_time() - start) * 1000)
        content_type = SSE_CT if reply.events is not None else reply.content_type
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
        if reply.upgrade is not None:  # a WebSocket: the head, then the socket is its
            upgrade = functools.partial(reply.upgrade, self.stream_interval)
            return Response(status, headers[1:], upgrade=upgrade)  # (no content-type)
        body: bytes | AsyncIterable[bytes]
        if reply.events is not None:
            body = events_body(reply.events, self.stream_interval)
        elif reply.chunks is not None:
            body = chunks_body(reply.chunks, self.stream_interval)
        elif reply.raw is not None:
            body = reply.raw
        else:
            body = encode(reply.payload)
        return Response(status, headers, body)


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
    record_limit: int | None = DEFAULT_RECORD_LIMIT,
    head_timeout: float | None = DEFAULT_HEAD_TIMEOUT,
    body_timeout: float | None = DEFAULT_BODY_TIMEOUT,
    strict: bool = True,
    models: Sequence[str] = (),
    azure: AzureMode | bool = False,
    quirks: str | Iterable[str] | None = None,
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
        max_body_size: a request declaring a larger body (Content-Length, or chunks
            adding up past it) gets 413 before the body is read, and its connection
            is closed.
        record_requests: keep the :class:`RequestRecord` of each request in
            ``server.requests`` (credentials redacted); turn off for long runs.
        record_limit: how many records ``server.requests`` keeps (the oldest go
            first); None: no bound.
        head_timeout: seconds a client has to send a whole request head, from its
            first byte (or from the accept, for a new connection); past it, 408 and
            a close. None: no limit. The wait between keep-alive requests is not
            bounded by it.
        body_timeout: seconds a request body may go without a byte; past it, 408 and
            a close. None: no limit.
        strict: answer as OpenAI does to a model the server does not list (404
            ``model_not_found``) and to a body parameter the API does not know (400
            ``Unrecognized request argument supplied``); ``False`` accepts both.
        models: more model ids to serve besides the built-in list (``owned_by:
            "user"``); ``server.add_model`` adds one later.
        azure: play an Azure OpenAI resource (``True`` or an :class:`AzureMode`; see
            ``_azure``): ``server.origin`` is the ``azure_endpoint``, ``base_url`` ends
            in ``/openai``, the ``api-key`` header carries ``api_key``.
        quirks: answer as a compatible server does: a preset (``"litellm"``,
            ``"vllm"``, ``"ollama"``, ``"llama.cpp"``) or names from ``QUIRKS``.

    Yields:
        The running :class:`MockOpenAIServer`.

    Raises:
        OSError: the address could not be bound.
        TypeError, ValueError: a malformed ``faults``, ``rate_limits`` or ``quirks``.
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
        record_limit=record_limit,
        strict=strict,
        azure=AzureMode() if azure is True else (azure or None),
        quirks=quirk_set(quirks),
    )
    for model_id in models:
        server.add_model(model_id)
    state = server._state
    ssl_context: ssl.SSLContext | None = None
    if tls:
        ssl_context, server.ca = tls_contexts()
    body_error: BaseException | None = None
    try:
        async with trio.open_nursery() as nursery:
            state.nursery = nursery
            try:
                async with open_http_server(
                    server._handle,
                    ssl_context=ssl_context,
                    host=host,
                    port=port,
                    record_requests=False,
                    max_body_size=max_body_size,
                    head_timeout=head_timeout,
                    body_timeout=body_timeout,
                ) as http:
                    server._http = http
                    state.origin = http.base_url
                    server.base_url = http.base_url + ("/v1" if server.azure is None else "/openai")
                    yield server
            finally:
                state.nursery = None
                nursery.cancel_scope.cancel()
    except BaseExceptionGroup as group:
        # Background tasks never raise, so the group holds what the body raised.
        if len(group.exceptions) != 1:
            raise
        body_error = group.exceptions[0]
    if body_error is not None:
        raise body_error
