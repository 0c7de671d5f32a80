"""The sender: one input line in, one output line out, whatever happens on the way.

Theory of operation
-------------------
:class:`Sender` is the function the run loop maps over the pending lines. It sends a
line's body through ``client._exchange`` (the body bytes exactly as they are in
INPUT, not re-encoded), so the client's retries, circuit breaker and rate limiter
apply (client-side budgets come from ``Client(rate_limits=RateLimits(...))``), and
the :class:`~._pacing.Pacer`, when there is one, holds it until the server's buckets
can pay. It never raises an ``Exception``: every outcome becomes a :class:`Result`
holding the output line to write.

What is written for each request
--------------------------------
- **2xx**: ``response`` with the status, ``x-request-id`` and the body as received.
- **An error status after the client's retries** (400, 401, 404, 5xx ...): ``response``
  with the error status and the error body (``{"error": {...}}``), ``error`` null.
  This is what the Batch API does (its error file keeps ``response`` for every
  failure that got an HTTP answer; ``error`` is for failures without one), and it
  makes the line *done*: a resume does not send it again.
- **No HTTP answer** (connection failure or timeout after retries) or a 2xx body that
  is not JSON (or is nested too deeply to decode): ``response`` null and ``error``
  ``{"code", "message"}`` with codes ``connection_error``, ``timeout``,
  ``invalid_response_body``, ``invalid_request``, ``internal_error``. Also done.
- **Not written, sent again**: a 429 that outlived the client's retries (except
  ``insufficient_quota``, which no wait fixes and is written as an error status) and a
  request refused by an open circuit breaker: the line waits (``retry-after`` or the
  breaker's probe time) and goes again, up to :data:`MAX_REQUEUES` times. Rate
  limiting is the normal state of a big job, not a failure.

A 2xx body is written as received, except that a body spread over several lines (a
pretty-printing server) is put on one line: see ``one_line`` in :mod:`._formats`.

Rules kept: the sender reaches the client only through its seam for higher layers
(``_exchange``, whose :class:`~trio_openai._client.Exchange` settles the in-flight
count, the metrics record and the token budget exactly once; ``_limits_requests``;
``_wants_token_estimate``). ``trio.Cancelled`` and other ``BaseException`` s pass
through untouched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import msgspec
import trio

from .._resilience import estimate_tokens
from ..errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    CircuitOpenError,
    RateLimitError,
    ValidationError,
)
from ._formats import answer_line, check_json, encode, error_line

if TYPE_CHECKING:
    from .._client import Client, Exchange
    from ._pacing import Pacer

__all__ = ["MAX_REQUEUES", "Pending", "Result", "Sender", "api_path"]


MAX_REQUEUES: Final = 100
"""How many times one line is sent again after a 429 or an open circuit."""


class _Usage(msgspec.Struct):
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None


class _Reply(msgspec.Struct):
    """Enough of a 2xx body to count tokens (decoding it also proves it is JSON)."""

    usage: _Usage | None = None


_decode_reply = msgspec.json.Decoder(_Reply).decode


@dataclass(slots=True)
class Pending:
    """An input line to send: its id, the client path and batch ``url``, the body bytes."""

    custom_id: str
    path: str
    url: str
    body: bytes


@dataclass(slots=True)
class Result:
    """What became of one line: the output line to write and what to count."""

    line: bytes
    ok: bool
    status: int  # 0: no HTTP answer
    error_code: str | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    requeued: int = 0
    rate_limited: int = 0  # 429s that ended an exchange (re-sent, or final)


def _error_body(exc: APIStatusError) -> object:
    """The error body as the server sent it, as closely as the exception keeps it.

    ``APIStatusError.body`` is the *inner* object of ``{"error": {...}}``; an object
    with the error fields is put back inside ``{"error": ...}``.
    """
    body = exc.body
    if (
        isinstance(body, dict)
        and "error" not in body
        and any(k in body for k in ("message", "type", "code", "param"))
    ):
        return {"error": body}
    return body


class Sender:
    """Sends one pending line; never raises an ``Exception`` (every outcome is a line)."""

    __slots__ = ("_client", "_max_retries", "_pacer")

    def __init__(self, client: Client, max_retries: int | None, pacer: Pacer | None) -> None:
        self._client = client
        self._max_retries = max_retries
        self._pacer = pacer

    async def __call__(self, pending: Pending) -> Result:
        client = self._client
        pacer = self._pacer
        requeued = limited = 0
        probe = pacer is not None and await pacer.wait_for_limits()
        estimated = 0
        if client._wants_token_estimate() or (pacer is not None and pacer.wants_tokens):
            estimated = _estimate(pending)
        while True:
            try:
                ticket = (0.0, 0.0)
                if pacer is not None and not probe:
                    ticket = await pacer.acquire(estimated)
                probe = False
                try:
                    exchange = await client._exchange(
                        "POST",
                        pending.path,
                        json=pending.body,
                        max_retries=self._max_retries,
                        estimated_tokens=estimated,
                    )
                except APIError as exc:
                    if pacer is not None:
                        pacer.observe(exc.headers, ticket)
                    raise
                finally:
                    if pacer is not None:
                        pacer.open_gate()  # whatever became of the probe, the others may go
            except RateLimitError as exc:
                limited += 1
                if exc.is_insufficient_quota or requeued >= MAX_REQUEUES:
                    return self._status_result(pending, exc, requeued, limited)
                requeued += 1
                # The client's limiter and the pacer already hold every sender back
                # after a 429; this wait covers a client with neither, and a wait the
                # client refused to impose on one call (a long retry-after): a batch
                # job waits it out, as the Batch API would.
                if not exc.sent or (pacer is None and not client._limits_requests):
                    await trio.sleep(exc.retry_after if exc.retry_after is not None else 1.0)
                continue
            except CircuitOpenError as exc:
                if requeued >= MAX_REQUEUES:
                    return self._error(pending, "circuit_open", str(exc), requeued, limited)
                requeued += 1
                await trio.sleep(max(exc.retry_in, 0.05))
                continue
            except APIStatusError as exc:
                return self._status_result(pending, exc, requeued, limited)
            except APITimeoutError as exc:
                return self._error(pending, "timeout", str(exc), requeued, limited)
            except APIConnectionError as exc:
                return self._error(pending, "connection_error", str(exc), requeued, limited)
            except ValidationError as exc:
                return self._error(pending, "invalid_request", str(exc), requeued, limited)
            except Exception as exc:  # a bug or an unexpected failure: one failed line
                message = f"{type(exc).__name__}: {exc}"
                return self._error(pending, "internal_error", message, requeued, limited)
            with exchange:  # settled whatever happens from here on
                if pacer is not None:
                    pacer.observe(exchange.response.headers, ticket)
                try:
                    return self._success(pending, exchange, requeued, limited)
                except Exception as exc:  # a bug: one failed line (the exchange settles)
                    message = f"{type(exc).__name__}: {exc}"
                    return self._error(pending, "internal_error", message, requeued, limited)

    @staticmethod
    def _error(pending: Pending, code: str, message: str, requeued: int, limited: int) -> Result:
        line = error_line(pending.custom_id, code, message)
        return Result(line, False, 0, code, requeued=requeued, rate_limited=limited)

    @staticmethod
    def _status_result(
        pending: Pending, exc: APIStatusError, requeued: int, limited: int
    ) -> Result:
        body = encode(_error_body(exc))
        line = answer_line(pending.custom_id, exc.status_code, exc.request_id, body)
        return Result(line, False, exc.status_code, requeued=requeued, rate_limited=limited)

    def _success(self, pending: Pending, exchange: Exchange, requeued: int, limited: int) -> Result:
        response = exchange.response
        status = response.status
        content = response.content
        request_id = response.headers.get("x-request-id")
        usage: _Usage | None = None
        try:
            try:
                usage = _decode_reply(content).usage
            except RecursionError:
                raise msgspec.DecodeError("JSON is nested too deeply") from None
            except msgspec.ValidationError:
                # Another shape (not an object, an odd ``usage``): kept as it is if it
                # is JSON at all (a type error stops msgspec before the end).
                check_json(content)
        except msgspec.DecodeError as exc:
            exchange.settle(error="APIResponseValidationError")
            message = (
                f"status {status}, request id {request_id}: "
                f"the body cannot be decoded as JSON ({exc})"
            )
            return self._error(pending, "invalid_response_body", message, requeued, limited)
        tokens_in = tokens_out = 0
        if usage is not None:
            tokens_in = usage.prompt_tokens or usage.input_tokens or 0
            tokens_out = usage.completion_tokens or usage.output_tokens or 0
        exchange.settle(tokens_in, tokens_out)
        line = answer_line(pending.custom_id, status, request_id, content)
        ok = 200 <= status < 300
        return Result(line, ok, status, None, tokens_in, tokens_out, requeued, limited)


def _estimate(pending: Pending) -> int:
    """The token estimate of a request body (0 for one that cannot be read).

    INPUT was validated, so a failure here is unexpected; it must not stop the run.
    """
    try:
        body = msgspec.json.decode(pending.body)
    except (msgspec.DecodeError, RecursionError):
        return 0
    return estimate_tokens(body, endpoint=pending.url) if isinstance(body, dict) else 0


def api_path(url: str) -> str:
    """``/v1/chat/completions`` -> ``/chat/completions`` (joined to the base URL)."""
    return url[3:] if url.startswith("/v1/") else url
