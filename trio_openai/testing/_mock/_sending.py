"""How the mock server's answers go out: paced bodies, and the faults that change them.

Theory of operation: an endpoint's :class:`~._wire.Reply` becomes a ``Response`` of
the HTTP server; SSE events and binary chunks are sent by the async generators
:func:`events_body` and :func:`chunks_body`, ``stream_interval`` seconds apart. A
fault plan's outcome (``_faults``) acts at one of two moments:

- before the endpoint runs (:func:`early_answer`): ``reset`` and ``stall`` become the
  HTTP server's :class:`Reset` and :class:`Stall`, ``invalid_json`` a 200 with the
  garbage body, ``status`` an OpenAI error body with OpenAI's default message for
  the status and the retry headers the fault asks for;
- after it (:func:`apply_late_fault`): ``drop_mid_body`` cuts the body after a
  number of bytes, ``drop_mid_stream`` cuts an SSE body after a number of events
  (with a clean close or an RST), ``oversized_event`` has already padded the stream
  (the endpoint added the big event) and is only counted here.

Rules kept: a late fault that cannot apply (a stream fault on a JSON answer) does not
fire and is not counted; a cut JSON body keeps its true ``content-length``, so the
client sees a short body, not a shorter message.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from http import HTTPStatus
from typing import TYPE_CHECKING, Final

import trio

from .._http_messages import CloseWithoutResponse, Misbehaviour, Reset, Response, Stall
from ._wire import Reply

if TYPE_CHECKING:
    from .._faults import Fault

__all__ = ["apply_late_fault", "chunks_body", "early_answer", "events_body"]

# Default error bodies of the `status` fault: (message, type, code).
_STATUS_ERRORS: Final[dict[int, tuple[str, str, str | None]]] = {
    400: ("Bad request.", "invalid_request_error", None),
    401: ("Incorrect API key provided.", "invalid_request_error", "invalid_api_key"),
    403: ("You are not allowed to perform this request.", "invalid_request_error", None),
    404: ("The requested resource was not found.", "invalid_request_error", None),
    408: ("Request timed out.", "invalid_request_error", None),
    409: ("The request conflicts with another request.", "invalid_request_error", None),
    422: ("The request could not be processed.", "invalid_request_error", None),
    429: (
        "Rate limit reached for requests. Please try again later.",
        "requests",
        "rate_limit_exceeded",
    ),
    500: (
        "The server had an error while processing your request. Sorry about that!",
        "server_error",
        None,
    ),
    502: ("Bad gateway.", "server_error", None),
    503: ("The server is overloaded or not ready yet.", "server_error", None),
    504: ("Gateway timeout.", "server_error", None),
}


def early_answer(fault: Fault) -> Reply | Misbehaviour | None:
    """What an outcome fault answers instead of the endpoint, or None (a late fault)."""
    kind = fault.kind
    if kind == "reset":
        return Reset()
    if kind == "stall":
        return Stall()
    if kind == "invalid_json":
        return Reply(raw=fault.body)
    if kind == "status":
        code = fault.status_code
        defaults = _STATUS_ERRORS.get(code)
        if defaults is None:
            try:
                phrase = HTTPStatus(code).phrase + "."
            except ValueError:  # an unregistered code: no standard phrase
                phrase = f"Error {code}."
            kind_of = "server_error" if code >= 500 else "invalid_request_error"
            defaults = (phrase, kind_of, None)
        message, type_, err_code = defaults
        body = {
            "error": {
                "message": fault.message if fault.message is not None else message,
                "type": fault.error_type if fault.error_type is not None else type_,
                "param": None,
                "code": fault.error_code if fault.error_code is not None else err_code,
            }
        }
        headers: list[tuple[str, str]] = []
        if fault.retry_after is not None:
            headers.append(("retry-after", _number_text(fault.retry_after)))
        if fault.retry_after_ms is not None:
            headers.append(("retry-after-ms", _number_text(fault.retry_after_ms)))
        if fault.should_retry is not None:
            headers.append(("x-should-retry", "true" if fault.should_retry else "false"))
        return Reply(body, status=code, headers=headers)
    return None


def apply_late_fault(fault: Fault, reply: Reply, response: Response, interval: float) -> bool:
    """Change *response* as a late outcome fault says; return whether it fired.

    Args:
        fault: the outcome fault (early kinds are ignored).
        reply: what the endpoint answered.
        response: the response built from it (its body is replaced).
        interval: the server's ``stream_interval``, for a re-paced SSE body.
    """
    kind = fault.kind
    if kind == "oversized_event":
        return reply.events is not None
    if kind == "drop_mid_stream":
        if reply.events is None:
            return False
        response.body = events_body(reply.events, interval, cut=fault.after_events, rst=fault.rst)
        return True
    if kind == "drop_mid_body":
        body = response.body
        if isinstance(body, bytes):
            response.headers.append(("content-length", str(len(body))))
            response.body = _cut_bytes(body, min(fault.after_bytes, len(body) - 1), fault.rst)
        else:
            response.body = _cut_stream(body, fault.after_bytes, fault.rst)
        return True
    return False


async def events_body(
    events: list[bytes], interval: float, cut: int | None = None, rst: bool = False
) -> AsyncIterator[bytes]:
    """Yield SSE events *interval* seconds apart; stop after *cut* events with a close
    (or an RST)."""
    for i, event in enumerate(events):
        if cut is not None and i >= cut:
            raise Reset() if rst else CloseWithoutResponse()
        if interval > 0 and i:
            await trio.sleep(interval)
        yield event


async def chunks_body(chunks: list[bytes], interval: float) -> AsyncIterator[bytes]:
    """Yield the chunks of a binary body *interval* seconds apart."""
    for i, chunk in enumerate(chunks):
        if interval > 0 and i:
            await trio.sleep(interval)
        yield chunk


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


async def _cut_bytes(data: bytes, keep: int, rst: bool) -> AsyncIterator[bytes]:
    if keep > 0:
        yield data[:keep]
    raise Reset() if rst else CloseWithoutResponse()


async def _cut_stream(body: AsyncIterable[bytes], keep: int, rst: bool) -> AsyncIterator[bytes]:
    sent = 0
    async for chunk in body:
        if sent + len(chunk) >= keep:
            if keep > sent:
                yield chunk[: keep - sent]
            break
        sent += len(chunk)
        yield chunk
    raise Reset() if rst else CloseWithoutResponse()
