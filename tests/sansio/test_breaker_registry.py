"""Breaker registry: one breaker per origin, made lazily, transitions tagged with the
origin. Sans-IO: no trio; time is a plain float passed in.
"""

from __future__ import annotations

from trio_openai._resilience._breaker import BreakerPolicy
from trio_openai._resilience._breaker_registry import BreakerRegistry
from trio_openai._resilience._breaker_table import CircuitState

CLOSED, OPEN = CircuitState.CLOSED, CircuitState.OPEN


# --------------------------------------------------------------------------- registry


def test_registry_makes_one_breaker_per_origin_lazily() -> None:
    seen: list[tuple[str, CircuitState, CircuitState]] = []
    registry = BreakerRegistry(
        BreakerPolicy(minimum_calls=1),
        on_transition=lambda origin, old, new, now: seen.append((origin, old, new)),
    )
    assert len(registry) == 0
    a = registry.get("https://a:443", 0.0)
    assert registry.get("https://a:443", 1.0) is a
    b = registry.get("https://b:443", 0.0)
    assert a is not b
    assert len(registry) == 2
    assert "https://b:443" in registry
    admission = b.before_request(2.0)
    assert admission.admitted
    b.record_failure(2.0, admission)
    assert seen == [("https://b:443", CLOSED, OPEN)]
    assert a.state is CLOSED
    assert registry.statistics()["https://b:443"].state is OPEN
    assert "https://b:443=OPEN" in repr(registry)
    assert sorted(registry) == ["https://a:443", "https://b:443"]
