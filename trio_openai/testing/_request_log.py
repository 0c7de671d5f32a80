"""The servers' record of requests: a list that keeps only the most recent ones.

Theory of operation: the test HTTP server (``HTTPServer.requests``) and the mock
OpenAI server (``MockOpenAIServer.requests``) append each request they read to a
:class:`RequestLog`. It is a plain ``list`` (tests index it, unpack it, compare it
with ``[]``), whose :meth:`RequestLog.append` drops the oldest item once ``maxlen``
items are kept. A server that runs for days (the ``mock-server`` command) therefore
holds at most ``maxlen`` requests, bodies included, however many it serves.

Rules kept: sans-IO, no import beyond the standard library. Only ``append`` bounds
the list; the servers use nothing else (other list methods work as on any list).

Options rejected: a ``collections.deque(maxlen=...)``, which bounds itself for free
but cannot be sliced and never equals a list (``server.requests == []`` is how tests
say "nothing was sent"). Dropping the oldest item of a list moves the others, which
costs microseconds at the default bound of ten thousand.
"""

from __future__ import annotations

from typing import Final, TypeVar

__all__ = ["DEFAULT_RECORD_LIMIT", "RequestLog"]

T = TypeVar("T")

DEFAULT_RECORD_LIMIT: Final = 10_000
"""How many requests an in-process server keeps by default: more than any test sends,
and a bound on what a runaway loop can pile up."""


class RequestLog(list[T]):
    """A list of the last *maxlen* items appended (None: no bound).

    Raises:
        ValueError: *maxlen* is not a positive number (to keep nothing, do not record).
    """

    __slots__ = ("maxlen",)

    def __init__(self, maxlen: int | None = DEFAULT_RECORD_LIMIT) -> None:
        super().__init__()
        if maxlen is not None and maxlen < 1:
            raise ValueError(f"a RequestLog's maxlen must be at least 1 or None, not {maxlen}")
        self.maxlen = maxlen

    def append(self, item: T, /) -> None:
        """Add *item* at the end; drop the oldest item if that makes one too many."""
        super().append(item)
        if self.maxlen is not None and len(self) > self.maxlen:
            del self[0]
