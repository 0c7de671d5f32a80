"""Configuration values shared by every layer: plain, frozen, stdlib only.

Rules kept here:
- Every value object is immutable (``frozen=True``) so a ``Client`` view made by
  ``with_options`` can share what it does not change.
- Ranges are checked at construction with an error that names the field and the
  rule; nothing downstream re-checks them.
- Secrets live in :class:`Secret`, whose ``repr``/``str``/pickling never reveal the
  value. The only way to read it is the explicit ``get_secret_value()``.
"""

from __future__ import annotations

import math
from typing import NoReturn

import msgspec

__all__ = ["PoolLimits", "Secret", "Timeouts"]


def _check_seconds(name: str, value: float | None, *, allow_none: bool = True) -> None:
    if value is None:
        if allow_none:
            return
        raise ValueError(f"{name} must be a number of seconds, not None")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds or None, got {type(value).__name__}")
    if math.isnan(value) or value <= 0:
        raise ValueError(f"{name} must be > 0 seconds (or None for no limit), got {value!r}")


class Timeouts(msgspec.Struct, frozen=True):
    """Per-phase time limits in seconds; ``None`` means no limit for that phase.

    Attributes:
        connect: TCP connect plus TLS handshake (and proxy CONNECT) of a new connection.
        read: inactivity between received bytes; a stream lives as long as bytes flow.
        write: sending the request head and body.
        pool: waiting for a connection slot when the pool is at its limit.
        total: the whole exchange of one attempt, from acquire to the end of the head
            (and, for callers that read the body inside it, the body too).
    """

    connect: float | None = 10.0
    read: float | None = 600.0
    write: float | None = 600.0
    pool: float | None = 600.0
    total: float | None = None

    def __post_init__(self) -> None:
        for name in ("connect", "read", "write", "pool", "total"):
            _check_seconds(f"Timeouts.{name}", getattr(self, name))

    @classmethod
    def from_value(cls, value: float | Timeouts | None) -> Timeouts:
        """Build from what users pass as ``timeout=``.

        A float means "each attempt finishes within this many seconds": it becomes the
        ``total`` limit and caps every phase. ``None`` disables every limit.
        """
        if isinstance(value, Timeouts):
            return value
        if value is None:
            return cls(connect=None, read=None, write=None, pool=None, total=None)
        _check_seconds("timeout", value, allow_none=False)
        v = float(value)
        return cls(connect=min(v, 10.0), read=v, write=v, pool=v, total=v)


class PoolLimits(msgspec.Struct, frozen=True):
    """Connection-pool settings (defaults from the architecture seed).

    Attributes:
        max_connections: open connections at once, over all origins.
        max_idle_per_host: idle connections kept per origin; more are closed on release.
        idle_expiry: seconds an idle connection may wait before it is closed.
        tcp_keepalive: seconds of silence before the OS sends TCP keepalive probes
            (``None`` leaves keepalive off).
        max_response_head: largest response head (status line + headers) in bytes.
    """

    max_connections: int = 100
    max_idle_per_host: int = 10
    idle_expiry: float = 90.0
    tcp_keepalive: float | None = 60.0
    max_response_head: int = 64 * 1024

    def __post_init__(self) -> None:
        if isinstance(self.max_connections, bool) or not isinstance(self.max_connections, int):
            raise TypeError("PoolLimits.max_connections must be an int")
        if self.max_connections < 1:
            raise ValueError(f"PoolLimits.max_connections must be >= 1, got {self.max_connections}")
        if isinstance(self.max_idle_per_host, bool) or not isinstance(self.max_idle_per_host, int):
            raise TypeError("PoolLimits.max_idle_per_host must be an int")
        if self.max_idle_per_host < 0:
            raise ValueError(
                f"PoolLimits.max_idle_per_host must be >= 0, got {self.max_idle_per_host}"
            )
        _check_seconds("PoolLimits.idle_expiry", self.idle_expiry, allow_none=False)
        _check_seconds("PoolLimits.tcp_keepalive", self.tcp_keepalive)
        if self.max_response_head < 1024:
            raise ValueError(
                f"PoolLimits.max_response_head must be >= 1024 bytes, got {self.max_response_head}"
            )


class Secret:
    """A string that never shows itself: repr, str, format and pickle all refuse.

    >>> s = Secret("sk-abc")
    >>> s
    Secret('**********')
    >>> s.get_secret_value()
    'sk-abc'
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"a secret must be a str, got {type(value).__name__}")
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __format__(self, format_spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Secret):
            return self._value == other._value
        return NotImplemented

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self) -> NoReturn:
        raise TypeError("Secret values cannot be pickled")


DEFAULT_BASE_URL = "https://api.openai.com/v1"

DEFAULT_MAX_EVENT_SIZE = 16 * 1024 * 1024
"""The largest server-sent event a client's streams accept by default (bytes)."""


class ClientConfig(msgspec.Struct, frozen=True):
    """Everything a :class:`~trio_openai.Client` view is configured with.

    Views made by ``with_options`` share the pool and resilience state and differ only
    in this object.
    """

    api_key: Secret
    base_url: str
    organization: str | None
    project: str | None
    timeouts: Timeouts
    max_retries: int
    default_headers: tuple[tuple[str, str], ...]
    default_query: tuple[tuple[str, object], ...]
    max_event_size: int = DEFAULT_MAX_EVENT_SIZE

    def __post_init__(self) -> None:
        if isinstance(self.max_retries, bool) or not isinstance(self.max_retries, int):
            raise TypeError(
                f"max_retries must be an int >= 0, got {type(self.max_retries).__name__}"
            )
        if self.max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {self.max_retries}")
        size = self.max_event_size
        if isinstance(size, bool) or not isinstance(size, int):
            raise TypeError(f"max_event_size must be an int (bytes), got {type(size).__name__}")
        if size < 1:
            raise ValueError(f"max_event_size must be >= 1 byte, got {size}")
