"""Rate-limit simulation for the mock server: OpenAI-style token buckets (sans-IO).

Theory of operation: a :class:`RateLimitSim` holds up to two token buckets, one for
requests per minute and one for tokens per minute. Each starts full and refills
continuously at ``limit / window`` per second (the window is 60 s, as OpenAI's
``x-ratelimit-*`` values describe). :meth:`RateLimitSim.check` is given the current
time and a request's estimated token cost; it answers with a :class:`RateDecision`:
admitted (both buckets are charged) or refused (nothing is charged), and in both cases
the ``x-ratelimit-*`` headers to send. The mock server sends those headers on every
response of a rate-limited endpoint and turns a refusal into a 429 with the real
OpenAI error body, ``retry-after`` (whole seconds, at least 1) and ``retry-after-ms``.

Rules kept:
- Sans-IO: no trio, no clock. The caller passes ``now`` (the server passes
  ``trio.current_time()``), so tests can drive the buckets with plain numbers.
- Header values follow OpenAI: ``x-ratelimit-limit-*`` and ``-remaining-*`` are
  integers (remaining is rounded down), ``x-ratelimit-reset-*`` is the time until the
  bucket is full again as a Go ``time.Duration`` string (``1s``, ``6m0s``, ``20ms``),
  made by :func:`format_go_duration`.
- The token cost of a request is estimated as OpenAI's limiter does in spirit:
  characters of the prompt / 4, plus ``max_tokens`` (or ``max_completion_tokens`` /
  ``max_output_tokens``) — :func:`estimate_tokens`.
- ``insufficient_quota`` mode answers every rate-limited request with the quota error
  (429, code ``insufficient_quota``, no ``retry-after``: no wait will fix it).

Options rejected: per-key or per-model buckets (one organization, one set of limits is
what tests need); a "request too large" limit separate from the buckets (a request
costing more than the whole token budget gets OpenAI's "Request too large" 429 at
once, without ``retry-after``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "RateDecision",
    "RateLimitSim",
    "estimate_tokens",
    "format_go_duration",
]

_RATE_LIMITS_DOCS = "Visit https://platform.openai.com/account/rate-limits to learn more."
_QUOTA_MESSAGE = (
    "You exceeded your current quota, please check your plan and billing details. For "
    "more information on this error, read the docs: "
    "https://platform.openai.com/docs/guides/error-codes/api-errors."
)


def format_go_duration(seconds: float) -> str:
    """Format a duration the way Go's ``time.Duration.String`` does (as OpenAI sends it).

    Values of one millisecond and more are rounded to whole milliseconds (OpenAI's
    headers never show finer steps there); smaller ones keep microsecond or nanosecond
    precision.

    Args:
        seconds: the duration; zero or negative gives ``"0s"``.

    Returns:
        e.g. ``"0s"``, ``"250µs"``, ``"20ms"``, ``"1.5s"``, ``"6m0s"``, ``"1h0m0s"``.
    """
    if not seconds > 0:  # also catches NaN
        return "0s"
    if math.isinf(seconds):
        seconds = 2562047 * 3600.0  # Go's largest duration, about 292 years
    ns = round(seconds * 1e9)
    if ns <= 0:
        return "0s"
    if ns < 1000:
        return f"{ns}ns"
    if ns < 1_000_000:
        whole, frac = divmod(ns, 1000)
        return _with_fraction(whole, frac, 3) + "µs"
    ms = round(seconds * 1000)
    if ms < 1000:
        return f"{ms}ms"
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, frac = divmod(rest, 1000)
    out = _with_fraction(secs, frac, 3) + "s"
    if hours or minutes:
        out = f"{minutes}m{out}"
    if hours:
        out = f"{hours}h{out}"
    return out


def _with_fraction(whole: int, frac: int, digits: int) -> str:
    if not frac:
        return str(whole)
    return f"{whole}.{frac:0{digits}d}".rstrip("0")


def _text_chars(value: object) -> int:
    """Count the characters of the prompt-like text inside a request value."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, list):
        total = 0
        for item in value:
            if isinstance(item, int):
                total += 4  # a token id counts as one token
            else:
                total += _text_chars(item)
        return total
    if isinstance(value, dict):
        total = 0
        for key in ("content", "text", "input", "output", "arguments", "refusal"):
            inner = value.get(key)
            if inner is not None:
                total += _text_chars(inner)
        return total
    return 0


def estimate_tokens(body: object) -> int:
    """Estimate the token cost of a request body, as the rate limiter charges it.

    Args:
        body: the decoded JSON body (anything; non-objects cost nothing) or multipart
            fields.

    Returns:
        ``ceil(characters of messages/prompt/input/instructions / 4)`` plus the
        requested output budget (``max_tokens``, ``max_completion_tokens`` or
        ``max_output_tokens``, whichever is given), at least 1 for an object body.
    """
    if not isinstance(body, Mapping):
        return 0
    chars = 0
    for key in ("messages", "prompt", "input", "instructions", "suffix"):
        value = body.get(key)
        if value is not None:
            chars += _text_chars(value)
    cost = (chars + 3) // 4
    for key in ("max_tokens", "max_completion_tokens", "max_output_tokens"):
        value = body.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            cost += value
            break
    return max(cost, 1)


@dataclass
class _Bucket:
    """A token bucket that starts full and refills continuously."""

    capacity: int
    window: float
    level: float = 0.0
    last: float | None = None  # None: never used, so full

    def refill(self, now: float) -> None:
        if self.last is None:
            self.level = float(self.capacity)
            self.last = now
        elif now > self.last:  # a clock that goes back refills nothing
            rate = self.capacity / self.window
            self.level = min(float(self.capacity), self.level + (now - self.last) * rate)
            self.last = now

    def wait_for(self, amount: float) -> float:
        """Seconds until ``amount`` is available (after :meth:`refill`)."""
        missing = amount - self.level
        if missing <= 0:
            return 0.0
        return missing * self.window / self.capacity

    def until_full(self) -> float:
        return (self.capacity - self.level) * self.window / self.capacity

    def remaining(self) -> int:
        return max(0, math.floor(self.level + 1e-9))

    def headers(self, kind: str) -> list[tuple[str, str]]:
        return [
            (f"x-ratelimit-limit-{kind}", str(self.capacity)),
            (f"x-ratelimit-remaining-{kind}", str(self.remaining())),
            (f"x-ratelimit-reset-{kind}", format_go_duration(self.until_full())),
        ]


@dataclass(frozen=True)
class RateDecision:
    """The answer of :meth:`RateLimitSim.check`.

    Attributes:
        allowed: True when the request was admitted (and charged).
        headers: the ``x-ratelimit-*`` headers to send (also on a refusal), plus
            ``retry-after``/``retry-after-ms`` on a refusal that a wait can fix.
        limit_type: on a refusal, which budget ran out: ``"requests"``, ``"tokens"``,
            or ``"insufficient_quota"``.
        error: on a refusal, the OpenAI error body (``{"error": {...}}``).
        retry_after: on a refusal, the seconds until the request would be admitted,
            or None when waiting cannot help.
    """

    allowed: bool
    headers: list[tuple[str, str]]
    limit_type: Literal["requests", "tokens", "insufficient_quota"] | None = None
    error: dict[str, object] | None = None
    retry_after: float | None = None


@dataclass
class RateLimitSim:
    """Simulated OpenAI rate limits: requests and tokens per minute.

    Give one (or a dict of its arguments) to ``open_mock_server(rate_limits=...)``.
    The buckets are real: they refill continuously (``limit / 60`` per second) and
    refuse a request that does not fit. The object keeps its state; replace
    ``server.rate_limits`` with a fresh one to start over.

    Args:
        rpm: requests per minute, or None for no request limit (then no
            ``-requests`` headers are sent).
        tpm: tokens per minute, or None for no token limit (no ``-tokens`` headers).
        insufficient_quota: refuse every rate-limited request with the
            ``insufficient_quota`` error instead.
        window: the refill window in seconds (60, like OpenAI's per-minute limits).
        organization: shown in error messages.

    Raises:
        ValueError: a limit that is not a positive integer, or a bad window.
    """

    rpm: int | None = None
    tpm: int | None = None
    insufficient_quota: bool = False
    window: float = 60.0
    organization: str = "org-mock"
    _requests: _Bucket | None = field(init=False, repr=False, default=None)
    _tokens: _Bucket | None = field(init=False, repr=False, default=None)

    def __post_init__(self) -> None:
        for name in ("rpm", "tpm"):
            value = getattr(self, name)
            if value is not None and (
                not isinstance(value, int) or isinstance(value, bool) or value < 1
            ):
                raise ValueError(f"{name} must be a positive integer or None, got {value!r}")
        if not (isinstance(self.window, (int, float)) and self.window > 0):
            raise ValueError(f"window must be a positive number, got {self.window!r}")
        if self.rpm is not None:
            self._requests = _Bucket(self.rpm, float(self.window))
        if self.tpm is not None:
            self._tokens = _Bucket(self.tpm, float(self.window))

    @classmethod
    def from_value(cls, value: RateLimitSim | Mapping[str, object] | None) -> RateLimitSim | None:
        """Accept a :class:`RateLimitSim`, a dict of its arguments, or None.

        Raises:
            TypeError: anything else, or an unknown key in the dict.
        """
        if value is None or isinstance(value, RateLimitSim):
            return value
        if isinstance(value, Mapping):
            allowed = {"rpm", "tpm", "insufficient_quota", "window", "organization"}
            unknown = sorted(set(value) - allowed)
            if unknown:
                raise TypeError(
                    f"rate_limits: unknown key(s) {unknown}; allowed: {sorted(allowed)}"
                )
            return cls(**value)  # type: ignore[arg-type]
        raise TypeError(f"rate_limits must be a RateLimitSim, a dict or None, got {value!r}")

    def remaining(self, now: float) -> tuple[int | None, int | None]:
        """Return ``(requests, tokens)`` remaining at *now* (None for no limit)."""
        out: list[int | None] = []
        for bucket in (self._requests, self._tokens):
            if bucket is None:
                out.append(None)
            else:
                bucket.refill(now)
                out.append(bucket.remaining())
        return out[0], out[1]

    def check(self, now: float, *, tokens: int, model: str = "unknown") -> RateDecision:
        """Admit (and charge) one request of *tokens* estimated tokens, or refuse it.

        Args:
            now: the current time in seconds (any monotonic origin).
            tokens: the request's estimated token cost (see :func:`estimate_tokens`).
            model: named in the error message.

        Returns:
            The :class:`RateDecision`; on refusal nothing was charged.
        """
        req, tok = self._requests, self._tokens
        if req is not None:
            req.refill(now)
        if tok is not None:
            tok.refill(now)
        if self.insufficient_quota:
            return RateDecision(
                allowed=False,
                headers=self._headers(),
                limit_type="insufficient_quota",
                error=_error(_QUOTA_MESSAGE, "insufficient_quota", "insufficient_quota"),
            )
        if tok is not None and tokens > tok.capacity:
            message = (
                f"Request too large for {model} in organization {self.organization} on "
                f"tokens per min (TPM): Limit {tok.capacity}, Requested {tokens}. The "
                "input or output tokens must be reduced in order to run successfully. "
                f"{_RATE_LIMITS_DOCS}"
            )
            return RateDecision(
                allowed=False,
                headers=self._headers(),
                limit_type="tokens",
                error=_error(message, "tokens", "rate_limit_exceeded"),
            )
        refused: tuple[Literal["requests", "tokens"], _Bucket, int, str] | None = None
        if req is not None and req.wait_for(1) > 0:
            refused = ("requests", req, 1, "requests per min (RPM)")
        elif tok is not None and tok.wait_for(tokens) > 0:
            refused = ("tokens", tok, tokens, "tokens per min (TPM)")
        if refused is not None:
            kind, bucket, amount, label = refused
            wait = bucket.wait_for(amount)
            used = bucket.capacity - bucket.remaining()
            message = (
                f"Rate limit reached for {model} in organization {self.organization} on "
                f"{label}: Limit {bucket.capacity}, Used {used}, Requested {amount}. "
                f"Please try again in {format_go_duration(wait)}. {_RATE_LIMITS_DOCS}"
            )
            headers = self._headers()
            headers.append(("retry-after", str(max(1, math.ceil(wait)))))
            headers.append(("retry-after-ms", str(max(1, math.ceil(wait * 1000)))))
            return RateDecision(
                allowed=False,
                headers=headers,
                limit_type=kind,
                error=_error(message, kind, "rate_limit_exceeded"),
                retry_after=wait,
            )
        if req is not None:
            req.level -= 1
        if tok is not None:
            tok.level -= tokens
        return RateDecision(allowed=True, headers=self._headers())

    def _headers(self) -> list[tuple[str, str]]:
        headers: list[tuple[str, str]] = []
        if self._requests is not None:
            headers += self._requests.headers("requests")
        if self._tokens is not None:
            headers += self._tokens.headers("tokens")
        return headers


def _error(message: str, type_: str, code: str) -> dict[str, object]:
    return {"error": {"message": message, "type": type_, "param": None, "code": code}}
