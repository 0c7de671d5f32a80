"""The circuit breakers of one client: one per origin, made on first use.

Theory of operation. Trouble at one host says nothing about another, so the client
keeps a breaker per origin (``scheme://host:port``). :class:`BreakerRegistry` hands the
orchestrator the breaker for a request's origin, creating a closed one with the
X the first time it is
asked, and forwards every breaker's state changes to one listener tagged with the
origin (the client logs them and counts them in its metrics).

Rules kept:

- Sans-IO: ``now`` is passed in (the creation time of a new breaker); no lock, since
  nothing here awaits.
- One breaker per key for the registry's lifetime: ``get`` always returns the same
  object for the same origin, so an admission and its outcome meet the same state.

Options rejected:

- Evicting idle breakers: a client talks to a handful of origins, and forgetting an
  open breaker would let traffic through to a service known to be down.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from ._breaker_policy import BreakerPolicy, BreakerStatistics, CircuitState

if TYPE_CHECKING:
    from ._breaker import CircuitBreaker, TransitionListener

__all__ = ["BreakerRegistry", "RegistryListener"]

RegistryListener = Callable[[str, CircuitState, CircuitState, float], None]
"""``on_transition(origin, old, new, now)``: called after any breaker's state change."""


class BreakerRegistry:
    """Breakers keyed by origin (e.g. ``"https://api.openai.com:443"``), made lazily.

    Args:
        policy: the policy every breaker gets.
        on_transition: optional ``(origin, old, new, now)`` callback for any breaker.
    """

    __slots__ = ("_breakers", "_listener", "_policy")

    def __init__(
        self,
        policy: BreakerPolicy | None = None,
        *,
        on_transition: RegistryListener | None = None,
    ) -> None:
        self._policy = policy if policy is not None else BreakerPolicy()
        self._listener = on_transition
        self._breakers: dict[str, CircuitBreaker] = {}

    @property
    def policy(self) -> BreakerPolicy:
        """The policy given to every breaker."""
        return self._policy

    def get(self, origin: str, now: float) -> CircuitBreaker:
        """Return the breaker for ``origin``, creating a closed one if needed.

        Args:
            origin: the key, usually ``scheme://host:port``.
            now: the current time (the creation time of a new breaker).

        Returns:
            The breaker for that origin (always the same object for the same key).
        """
        breaker = self._breakers.get(origin)
        if breaker is None:
            from ._breaker import CircuitBreaker  # (once per origin: not needed at import)

            listener: TransitionListener | None = None
            if self._listener is not None:
                outer = self._listener

                def listener(old: CircuitState, new: CircuitState, at: float) -> None:
                    outer(origin, old, new, at)

            breaker = CircuitBreaker(self._policy, now=now, on_transition=listener)
            self._breakers[origin] = breaker
        return breaker

    def __contains__(self, origin: object) -> bool:
        return origin in self._breakers

    def __len__(self) -> int:
        return len(self._breakers)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._breakers))

    def statistics(self) -> dict[str, BreakerStatistics]:
        """Return a snapshot of every breaker, keyed by origin."""
        return {origin: b.statistics() for origin, b in self._breakers.items()}

    def __repr__(self) -> str:
        states = ", ".join(f"{o}={b.state.name}" for o, b in self._breakers.items())
        return f"<BreakerRegistry {len(self._breakers)} origins: {states or 'none'}>"
