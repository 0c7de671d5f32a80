"""The breaker's policy: defaults and validation (the message names field and rule).

Sans-IO: no trio.
"""

from __future__ import annotations

import pytest

from trio_openai._resilience._breaker_policy import BreakerPolicy


def test_policy_defaults_match_the_design() -> None:
    p = BreakerPolicy()
    assert (p.failure_rate, p.minimum_calls, p.window_size) == (0.6, 20, 50)
    assert (p.open_for, p.max_open_for, p.half_open_probes, p.enabled) == (30.0, 120.0, 3, True)


@pytest.mark.parametrize(
    ("field", "value", "error", "fragment"),
    [
        ("failure_rate", 0, ValueError, "> 0 and <= 1"),
        ("failure_rate", 1.5, ValueError, "> 0 and <= 1"),
        ("failure_rate", float("nan"), ValueError, "> 0 and <= 1"),
        ("failure_rate", "0.5", TypeError, "must be a number"),
        ("failure_rate", True, TypeError, "must be a number"),
        ("minimum_calls", 0, ValueError, ">= 1"),
        ("minimum_calls", 2.5, TypeError, "must be an int"),
        ("minimum_calls", 51, ValueError, "<= window_size (50)"),
        ("window_size", 0, ValueError, ">= 1"),
        ("window_size", True, TypeError, "must be an int"),
        ("window_size", 10**6, ValueError, "<= 100000"),
        ("open_for", -1.0, ValueError, "> 0"),
        ("open_for", float("inf"), ValueError, "finite"),
        ("open_for", "30", TypeError, "number of seconds"),
        ("max_open_for", 10.0, ValueError, ">= open_for (30.0)"),
        ("max_open_for", float("inf"), ValueError, "finite"),
        ("half_open_probes", 0, ValueError, ">= 1"),
        ("enabled", 1, TypeError, "bool"),
    ],
)
def test_policy_rejects_bad_values_naming_field_and_rule(
    field: str, value: object, error: type[Exception], fragment: str
) -> None:
    with pytest.raises(error) as info:
        BreakerPolicy(**{field: value})  # type: ignore[arg-type]
    assert f"BreakerPolicy.{field}" in str(info.value)
    assert fragment in str(info.value)
