"""What every view of a client shares, and the bookkeeping of each answered request.

Theory of operation
-------------------
:class:`ClientState` is the part of a client that ``with_options`` views share: the
connection pool, the circuit breakers, the rate limiter, the observer (metrics,
hooks, spans), the orchestrator that drives them, and the open/closed flags of the
``async with`` block. It is built once, by the first :class:`~trio_openai.Client`.

Every answered request has bookkeeping that must happen exactly once, whatever
happens after the response head arrived: the in-flight count goes down, the
metrics record the call (with its tokens, or the name of the failure), and, when a
token budget is in force, the budget's estimate is corrected from the reply's
``usage``. Two shapes cover every call:

- A JSON call is an :class:`Exchange`: a context manager around decoding the body.
  :meth:`Exchange.settle` records success with the usage; leaving the block
  unsettled (a decode failure, any exception, or the caller simply not settling)
  records a failure named after the exception. The JSONL runner uses the same
  seam (``Client._exchange``), so its calls are counted as the services' are.
- A stream's call is recorded when its head arrives (the orchestrator's ``finish``);
  its tokens come later, item by item: :func:`stream_usage_counter` is the
  ``on_usage`` hook a :class:`~trio_openai.Stream` calls for the item that reports
  usage (the usage chunk, the terminal Responses event).

Usage is read by :func:`usage_of` from either spelling the API uses
(``prompt_tokens``/``completion_tokens``, ``input_tokens``/``output_tokens``).

Options rejected: settling in ``__del__`` (bookkeeping must not wait for the garbage
collector), and letting the client rewrite a stream's accumulator to count usage (a
higher layer reaching into a lower one's private state).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, final

from ._resilience import Orchestrator

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import TracebackType

    from typing_extensions import Self

    from ._http import Pool, Response
    from ._observe import Observer
    from ._resilience import Attempted, BreakerRegistry, RateLimiter, RetryPolicy

__all__ = ["ClientState", "Exchange", "Lifecycle", "stream_usage_counter", "usage_of"]


@final
class Lifecycle:
    """The ``async with`` state of one client, shared by every view and every state
    derived from it (see :class:`ClientState`).

    Invariants: ``closed`` implies no new request starts; ``entered`` is set by the
    first ``async with`` and never cleared; ``pools`` are the pools made for views
    with their own transport settings, closed with the client's own.
    """

    __slots__ = ("closed", "entered", "pools")

    def __init__(self) -> None:
        self.entered = False
        self.closed = False
        self.pools: list[Pool] = []


@final
class ClientState:
    """What the views of one client share: pool, breakers, limiter, observer.

    A client has one; ``with_options`` with transport or resilience settings of its
    own (or another account or server) makes a *derived* state, which may share some
    parts and has its own others, but always shares the :class:`Lifecycle`: it opens
    and closes with the client.
    """

    __slots__ = (
        "breakers",
        "life",
        "limiter",
        "observer",
        "orchestrator",
        "pool",
        "settings",
    )

    def __init__(
        self,
        *,
        pool: Pool,
        breakers: BreakerRegistry | None,
        limiter: RateLimiter | None,
        observer: Observer,
        retry_policy: RetryPolicy,
        follow_server_limits: bool,
        settings: object = None,
        life: Lifecycle | None = None,
    ) -> None:
        self.pool = pool
        self.breakers = breakers
        self.limiter = limiter
        self.observer = observer
        self.orchestrator = Orchestrator(
            pool,
            retry_policy=retry_policy,
            breakers=breakers,
            limiter=limiter,
            observer=observer,
            follow_server_limits=follow_server_limits,
        )
        self.settings = settings  # what built it, for deriving (owned by _client)
        self.life = life if life is not None else Lifecycle()

    @property
    def entered(self) -> bool:
        return self.life.entered

    @entered.setter
    def entered(self, value: bool) -> None:
        self.life.entered = value

    @property
    def closed(self) -> bool:
        return self.life.closed

    @closed.setter
    def closed(self, value: bool) -> None:
        self.life.closed = value

    def wants_token_estimate(self) -> bool:
        """Whether a token budget is in force (client TPM or server token limits)."""
        limiter = self.limiter
        if limiter is None:
            return False
        budget = limiter.budget
        if budget.limits.tokens_per_minute is not None:
            return True
        server = budget.server_limits
        return server is not None and server.limit_tokens is not None


@final
class Exchange:
    """One answered request whose bookkeeping must pair: the in-flight count, the
    metrics record and the token budget's correction are settled exactly once.

    Use as a context manager: call :meth:`settle` with the reply's usage once it is
    decoded; leaving the block unsettled (any exception, a decode failure included)
    records the call as failed with that exception's type name.
    """

    __slots__ = ("_attempted", "_estimated", "_method", "_path", "_settled", "_state", "response")

    def __init__(
        self, state: ClientState, attempted: Attempted, method: str, path: str, estimated: int
    ) -> None:
        self._state = state
        self._attempted = attempted
        self._method = method
        self._path = path
        self._estimated = estimated
        self._settled = False
        self.response: Response = attempted.response

    def settle(self, tokens_in: int = 0, tokens_out: int = 0, *, error: str | None = None) -> None:
        """Record the call (once; later calls do nothing) and correct the token budget."""
        if self._settled:
            return
        self._settled = True
        state = self._state
        limiter = state.limiter
        if error is None and self._estimated and limiter is not None and (tokens_in or tokens_out):
            limiter.record_usage(self._estimated, tokens_in + tokens_out)
        state.orchestrator.finish(
            self._attempted,
            method=self._method,
            path=self._path,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            error=error,
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._settled:
            if exc_type is None:
                error = "abandoned"
            else:
                from .errors import APIResponseValidationError  # (a failure loads errors)

                error = exc_type.__name__
                if issubclass(exc_type, APIResponseValidationError):
                    error = "APIResponseValidationError"
            self.settle(error=error)


def stream_usage_counter(state: ClientState, estimated: int) -> Callable[[object], None]:
    """The ``on_usage`` hook of one stream: feed the usage its items report to the
    metrics and, when ``estimated`` tokens were reserved, to the rate limiter, as a
    non-streaming call's usage is.

    A stream's usage is a running total, not a per-item amount: OpenAI reports it once
    (the usage chunk), but some servers report the total so far on every chunk (vLLM's
    ``continuous_usage_stats``) or on a chunk that also carries a choice. So each report
    adds only what it grew by since the last one, and corrects the limiter from the
    previous total; a stream counts its usage once however often it is reported.
    """
    return _UsageCounter(state, estimated)


class _UsageCounter:
    """:func:`stream_usage_counter`'s hook (an object: every open stream holds one)."""

    __slots__ = ("_held", "_in", "_out", "_state", "_track")

    def __init__(self, state: ClientState, estimated: int) -> None:
        self._state = state
        self._track = bool(estimated)
        self._in = 0  # tokens in counted so far
        self._out = 0  # tokens out counted so far
        self._held = estimated  # tokens the limiter holds for this stream

    def __call__(self, carrier: object) -> None:
        state = self._state
        tokens_in, tokens_out = usage_of(carrier)
        grew_in = max(0, tokens_in - self._in)
        grew_out = max(0, tokens_out - self._out)
        if grew_in or grew_out:
            state.observer.metrics.add_tokens(grew_in, grew_out)
            self._in += grew_in
            self._out += grew_out
        if self._track and state.limiter is not None:
            total = self._in + self._out
            state.limiter.record_usage(self._held, total)
            self._held = total


def usage_of(result: object) -> tuple[int, int]:
    """``(tokens_in, tokens_out)`` of an object's ``usage``, in either spelling; zeros
    when it has none."""
    usage = getattr(result, "usage", None)
    if usage is None:
        return 0, 0
    tokens_in = getattr(usage, "prompt_tokens", None)
    if tokens_in is None:
        tokens_in = getattr(usage, "input_tokens", 0)
    tokens_out = getattr(usage, "completion_tokens", None)
    if tokens_out is None:
        tokens_out = getattr(usage, "output_tokens", 0)
    return (
        tokens_in if isinstance(tokens_in, int) else 0,
        tokens_out if isinstance(tokens_out, int) else 0,
    )
