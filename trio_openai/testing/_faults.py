"""Fault plans for the mock server: which requests misbehave, how, and when (sans-IO).

Theory of operation: a :class:`FaultPlan` is an ordered list of :class:`FaultRule`.
A rule says *which* requests it concerns (a path or ``fnmatch`` pattern, an optional
method, or any predicate on the request record), *what* happens (a :class:`Fault`)
and *when* (a :class:`Schedule`: always, the first k matching requests, every n-th,
or at random with a seeded probability). For each request the server calls
:meth:`FaultPlan.select`, which walks the rules in order and returns a
:class:`Selection`: at most one *outcome* fault (the first rule that fires with one)
plus every *modifier* fault that fires.

Fault kinds (the server carries them out):

============== ========= ===========================================================
kind           sort      effect
============== ========= ===========================================================
status         outcome   answer ``status`` with a real OpenAI error body, optional
                         ``retry-after``, ``retry-after-ms``, ``x-should-retry``
reset          outcome   abort the connection with RST before any response byte
stall          outcome   read the request, never answer
invalid_json   outcome   200 with a body that is not valid JSON
drop_mid_body  outcome   serve the real response but cut it after ``after_bytes``
drop_mid_stream outcome  serve an SSE response but cut it after ``after_events``
                         events (no effect on non-SSE responses)
oversized_event outcome  add to an SSE response one event of about ``size`` bytes
                         (no effect on non-SSE responses)
latency        modifier  wait ``seconds`` before answering
trickle        modifier  send the body one byte at a time, ``seconds`` apart
close_idle_after modifier close the connection once it has been idle ``seconds``
                         (a server-wide setting from then on)
============== ========= ===========================================================

Rules kept:
- Sans-IO and deterministic: no clock, no global randomness. The random schedule
  draws from its own ``random.Random(seed)``, so a plan replays the same faults.
- A rule's counters (``seen``: matching requests; ``fired``) advance only when the
  rule is consulted; after an outcome has been chosen, later outcome rules are not
  consulted (their schedules do not advance), modifiers always are.
- Plans load from JSON (for the CLI): see :meth:`FaultPlan.from_dict` for the format.
  Unknown keys are errors that name the key.

Options rejected: probabilities without a seed (irreproducible failures); faults
keyed by request count across all paths (a ``match`` predicate can do it).
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Literal, cast, get_args

if TYPE_CHECKING:
    from ._records import RequestRecord

__all__ = [
    "Fault",
    "FaultKind",
    "FaultPlan",
    "FaultRule",
    "Schedule",
    "Selection",
]

FaultKind = Literal[
    "status",
    "latency",
    "reset",
    "drop_mid_body",
    "drop_mid_stream",
    "invalid_json",
    "stall",
    "trickle",
    "oversized_event",
    "close_idle_after",
]
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)
MODIFIER_KINDS = frozenset({"latency", "trickle", "close_idle_after"})

_DEFAULT_GARBAGE = b'{"id": "chatcmpl-garbage", "object": "chat.completion", "choices": [{"ind'


@dataclass(frozen=True)
class Fault:
    """One misbehaviour; build it with the class methods (``Fault.status(503)``...).

    Attributes:
        kind: see the module docstring.
        status_code: ``status``: the HTTP status.
        retry_after: ``status``: the ``retry-after`` header in seconds (sent as an
            integer when whole).
        retry_after_ms: ``status``: the ``retry-after-ms`` header.
        should_retry: ``status``: the ``x-should-retry`` header (``true``/``false``).
        message, error_type, error_code: ``status``: override the error body's fields
            (defaults are OpenAI's for the status).
        seconds: ``latency``, ``trickle`` (per byte), ``close_idle_after``.
        after_bytes: ``drop_mid_body``: body bytes sent before the cut.
        after_events: ``drop_mid_stream``: SSE events sent before the cut.
        size: ``oversized_event``: the size of the big event's data in bytes.
        rst: ``drop_mid_*``: cut with RST instead of a clean close.
        body: ``invalid_json``: the garbage body.
    """

    kind: FaultKind
    status_code: int = 500
    retry_after: float | None = None
    retry_after_ms: float | None = None
    should_retry: bool | None = None
    message: str | None = None
    error_type: str | None = None
    error_code: str | None = None
    seconds: float = 0.0
    after_bytes: int = 0
    after_events: int = 0
    size: int = 0
    rst: bool = False
    body: bytes = _DEFAULT_GARBAGE

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {FAULT_KINDS}")
        if self.kind == "status" and not 100 <= self.status_code <= 599:
            raise ValueError(f"status: status_code must be 100..599, got {self.status_code}")
        if self.seconds < 0 or self.after_bytes < 0 or self.after_events < 0 or self.size < 0:
            raise ValueError(f"{self.kind}: sizes and durations must be >= 0")

    @property
    def is_modifier(self) -> bool:
        """True for kinds that change how the real answer is sent, not what it is."""
        return self.kind in MODIFIER_KINDS

    # -- constructors ---------------------------------------------------------------

    @classmethod
    def status(
        cls,
        status_code: int,
        *,
        retry_after: float | None = None,
        retry_after_ms: float | None = None,
        should_retry: bool | None = None,
        message: str | None = None,
        error_type: str | None = None,
        error_code: str | None = None,
    ) -> Fault:
        """Answer *status_code* with an OpenAI error body (and retry hints if given)."""
        return cls(
            "status",
            status_code=status_code,
            retry_after=retry_after,
            retry_after_ms=retry_after_ms,
            should_retry=should_retry,
            message=message,
            error_type=error_type,
            error_code=error_code,
        )

    @classmethod
    def latency(cls, seconds: float) -> Fault:
        """Wait *seconds* before answering normally."""
        return cls("latency", seconds=seconds)

    @classmethod
    def reset(cls) -> Fault:
        """Abort the connection (RST) before any response byte."""
        return cls("reset")

    @classmethod
    def drop_mid_body(cls, after_bytes: int, *, rst: bool = False) -> Fault:
        """Send the first *after_bytes* of the real body, then close (or RST)."""
        return cls("drop_mid_body", after_bytes=after_bytes, rst=rst)

    @classmethod
    def drop_mid_stream(cls, after_events: int, *, rst: bool = False) -> Fault:
        """Send the first *after_events* SSE events, then close (or RST)."""
        return cls("drop_mid_stream", after_events=after_events, rst=rst)

    @classmethod
    def invalid_json(cls, body: bytes = _DEFAULT_GARBAGE) -> Fault:
        """Answer 200 with a body that does not parse as JSON."""
        return cls("invalid_json", body=body)

    @classmethod
    def stall(cls) -> Fault:
        """Read the request and never answer."""
        return cls("stall")

    @classmethod
    def trickle(cls, seconds_per_byte: float) -> Fault:
        """Send the real body one byte at a time, *seconds_per_byte* apart."""
        return cls("trickle", seconds=seconds_per_byte)

    @classmethod
    def oversized_event(cls, size: int) -> Fault:
        """Add an SSE event whose data is about *size* bytes (a huge content delta)."""
        return cls("oversized_event", size=size)

    @classmethod
    def close_idle_after(cls, seconds: float) -> Fault:
        """From now on, close connections idle for *seconds* (server-wide)."""
        return cls("close_idle_after", seconds=seconds)


@dataclass(frozen=True)
class Schedule:
    """When a matching request gets the fault; build with the class methods."""

    mode: Literal["always", "first", "every", "random"] = "always"
    n: int = 0
    probability: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.mode in ("first", "every") and self.n < 1:
            raise ValueError(f"schedule {self.mode}: n must be >= 1, got {self.n}")
        if self.mode == "random" and not 0.0 <= self.probability <= 1.0:
            raise ValueError(f"schedule random: probability must be 0..1, got {self.probability}")

    @classmethod
    def always(cls) -> Schedule:
        """Every matching request."""
        return cls("always")

    @classmethod
    def first(cls, k: int) -> Schedule:
        """The first *k* matching requests, then never."""
        return cls("first", n=k)

    @classmethod
    def every(cls, n: int) -> Schedule:
        """The n-th, 2n-th, ... matching request."""
        return cls("every", n=n)

    @classmethod
    def random(cls, probability: float, *, seed: int = 0) -> Schedule:
        """Each matching request with *probability*, drawn from ``Random(seed)``."""
        return cls("random", probability=probability, seed=seed)


@dataclass
class FaultRule:
    """A fault, the requests it concerns, and when it fires.

    Args:
        fault: what happens.
        path: the request path, exact or an ``fnmatch`` pattern (``"/v1/files/*"``);
            a path without the ``/v1`` prefix matches too (``"/chat/completions"``).
            None matches every path.
        method: e.g. ``"POST"``; None matches every method.
        match: an extra predicate on the :class:`RequestRecord` (its JSON body,
            headers...); the rule concerns the request only if it returns True.
        when: the :class:`Schedule` (default: always).

    Attributes:
        seen: matching requests so far.
        fired: times the fault was chosen.
    """

    fault: Fault
    path: str | None = None
    method: str | None = None
    match: Callable[[RequestRecord], bool] | None = None
    when: Schedule = field(default_factory=Schedule.always)
    seen: int = field(default=0, init=False)
    fired: int = field(default=0, init=False)
    _rng: random.Random = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.when.seed)
        if self.method is not None:
            self.method = self.method.upper()

    def matches(self, record: RequestRecord) -> bool:
        """Return True if this rule concerns *record* (its schedule aside)."""
        if self.method is not None and record.method != self.method:
            return False
        pattern = self.path
        if pattern is not None:
            path = record.path
            short = path[3:] if path.startswith("/v1/") else path
            if not (fnmatchcase(path, pattern) or fnmatchcase(short, pattern)):
                return False
        return self.match is None or bool(self.match(record))

    def consult(self, record: RequestRecord) -> bool:
        """Advance the schedule for *record*; return True if the fault fires."""
        if not self.matches(record):
            return False
        self.seen += 1
        when = self.when
        if when.mode == "always":
            hit = True
        elif when.mode == "first":
            hit = self.seen <= when.n
        elif when.mode == "every":
            hit = self.seen % when.n == 0
        else:
            hit = self._rng.random() < when.probability
        if hit:
            self.fired += 1
        return hit


@dataclass(frozen=True)
class Selection:
    """What :meth:`FaultPlan.select` chose for one request."""

    outcome: Fault | None = None
    modifiers: tuple[Fault, ...] = ()


_NOTHING = Selection()


class FaultPlan:
    """An ordered list of :class:`FaultRule`; give it to ``open_mock_server(faults=...)``.

    ``server.faults`` may be replaced (or set to None) at any time; the plan keeps its
    counters, so reuse one plan only when that is what you mean.

    Args:
        rules: the rules, consulted in order.
    """

    def __init__(self, rules: Iterable[FaultRule] = ()) -> None:
        self.rules: list[FaultRule] = list(rules)
        for rule in self.rules:
            if not isinstance(rule, FaultRule):
                raise TypeError(f"FaultPlan takes FaultRule objects, got {rule!r}")

    def __repr__(self) -> str:
        inner = ", ".join(f"{r.fault.kind}@{r.path or '*'}" for r in self.rules)
        return f"<FaultPlan [{inner}]>"

    def add(
        self,
        fault: Fault,
        *,
        path: str | None = None,
        method: str | None = None,
        match: Callable[[RequestRecord], bool] | None = None,
        when: Schedule | None = None,
    ) -> FaultPlan:
        """Append a rule; return the plan (so calls chain)."""
        self.rules.append(
            FaultRule(fault, path=path, method=method, match=match, when=when or Schedule())
        )
        return self

    def select(self, record: RequestRecord) -> Selection:
        """Consult the rules for one request (advancing their schedules).

        Returns:
            The first firing outcome fault (if any) and every firing modifier.
        """
        outcome: Fault | None = None
        modifiers: list[Fault] | None = None
        for rule in self.rules:
            fault = rule.fault
            if fault.kind in MODIFIER_KINDS:
                if rule.consult(record):
                    if modifiers is None:
                        modifiers = []
                    modifiers.append(fault)
            elif outcome is None and rule.consult(record):
                outcome = fault
        if outcome is None and modifiers is None:
            return _NOTHING
        return Selection(outcome, tuple(modifiers or ()))

    # -- loading --------------------------------------------------------------------

    @classmethod
    def coerce(
        cls, value: FaultPlan | Sequence[FaultRule] | Mapping[str, object] | None
    ) -> FaultPlan | None:
        """Accept a plan, a list of rules, a JSON-style dict (see :meth:`from_dict`), or None.

        Raises:
            TypeError, ValueError: anything else, or a malformed dict.
        """
        if value is None or isinstance(value, FaultPlan):
            return value
        if isinstance(value, Mapping):
            return cls.from_dict(value)
        if isinstance(value, (list, tuple)):
            if all(isinstance(item, FaultRule) for item in value):
                return cls(value)
            return cls.from_dict({"faults": list(value)})
        raise TypeError(f"faults must be a FaultPlan, a list of FaultRule or a dict, got {value!r}")

    @classmethod
    def from_dict(cls, data: Mapping[str, object] | Sequence[object]) -> FaultPlan:
        """Build a plan from its JSON form.

        The form is ``{"faults": [RULE, ...]}`` (or the bare list), each RULE an object
        with ``kind`` and, as needed: ``path``, ``method``, ``when`` (``"always"``,
        ``{"first": k}``, ``{"every": n}``, ``{"random": p, "seed": s}``), and the
        fault's parameters: ``status``, ``retry_after``, ``retry_after_ms``,
        ``should_retry``, ``message``, ``error_type``, ``error_code``, ``seconds``,
        ``after_bytes``, ``after_events``, ``size``, ``rst``, ``body`` (a string).

        Example::

            {"faults": [
              {"path": "/v1/chat/completions", "kind": "status", "status": 429,
               "retry_after": 1, "when": {"first": 2}},
              {"path": "/v1/embeddings", "kind": "latency", "seconds": 0.2,
               "when": {"random": 0.5, "seed": 7}}
            ]}

        Raises:
            ValueError: a malformed plan (the message names the rule and key).
        """
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - {"faults"})
            if unknown:
                raise ValueError(f"fault plan: unknown top-level key(s) {unknown}")
            items = data.get("faults", [])
        else:
            items = data
        if not isinstance(items, list):
            raise ValueError("fault plan: 'faults' must be a list of rules")
        return cls(_rule_from_dict(i, item) for i, item in enumerate(items))

    @classmethod
    def from_json(cls, text: str | bytes) -> FaultPlan:
        """Parse a plan from JSON text (see :meth:`from_dict`).

        Raises:
            ValueError: invalid JSON or a malformed plan.
        """
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"fault plan: invalid JSON: {exc}") from exc
        if not isinstance(data, (dict, list)):
            raise ValueError("fault plan: expected a JSON object or list")
        return cls.from_dict(data)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> FaultPlan:
        """Read a plan from a JSON file (see :meth:`from_dict`).

        Raises:
            OSError: the file cannot be read.
            ValueError: invalid JSON or a malformed plan.
        """
        with open(path, "rb") as f:
            return cls.from_json(f.read())


_FAULT_KEYS = {
    "status": "status_code",
    "retry_after": "retry_after",
    "retry_after_ms": "retry_after_ms",
    "should_retry": "should_retry",
    "message": "message",
    "error_type": "error_type",
    "error_code": "error_code",
    "seconds": "seconds",
    "after_bytes": "after_bytes",
    "after_events": "after_events",
    "size": "size",
    "rst": "rst",
    "body": "body",
}
_RULE_KEYS = {"kind", "path", "method", "when"}


def _rule_from_dict(index: int, item: object) -> FaultRule:
    where = f"fault plan rule {index}"
    if not isinstance(item, Mapping):
        raise ValueError(f"{where}: expected an object, got {item!r}")
    unknown = sorted(set(item) - _RULE_KEYS - set(_FAULT_KEYS))
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown}")
    kind = item.get("kind")
    if kind not in FAULT_KINDS:
        raise ValueError(f"{where}: 'kind' must be one of {list(FAULT_KINDS)}, got {kind!r}")
    params: dict[str, object] = {}
    for key, attr in _FAULT_KEYS.items():
        if key in item:
            value = item[key]
            if key == "body":
                if not isinstance(value, str):
                    raise ValueError(f"{where}: 'body' must be a string")
                value = value.encode("utf-8")
            params[attr] = value
    path = item.get("path")
    method = item.get("method")
    if path is not None and not isinstance(path, str):
        raise ValueError(f"{where}: 'path' must be a string")
    if method is not None and not isinstance(method, str):
        raise ValueError(f"{where}: 'method' must be a string")
    try:
        fault = Fault(cast("FaultKind", kind), **params)  # type: ignore[arg-type]
    except TypeError as exc:
        raise ValueError(f"{where}: {exc}") from exc
    return FaultRule(fault, path=path, method=method, when=_schedule_from(where, item.get("when")))


def _schedule_from(where: str, value: object) -> Schedule:
    if value is None or value == "always":
        return Schedule.always()
    if isinstance(value, Mapping):
        keys = set(value)
        try:
            if keys == {"first"}:
                return Schedule.first(_int(value["first"]))
            if keys == {"every"}:
                return Schedule.every(_int(value["every"]))
            if keys <= {"random", "seed"} and "random" in keys:
                probability = value["random"]
                if not isinstance(probability, (int, float)):
                    raise ValueError("'random' must be a number")
                return Schedule.random(float(probability), seed=_int(value.get("seed", 0)))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{where}: bad 'when' {dict(value)!r}: {exc}") from exc
    raise ValueError(
        f'{where}: \'when\' must be "always", {{"first": k}}, {{"every": n}} or '
        f'{{"random": p, "seed": s}}, got {value!r}'
    )


def _int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer, got {value!r}")
    return value
