"""Circuit breaker state table: every state has a row, every illegal move raises naming
state and event, and the table is read-only. Sans-IO: no trio.
"""

from __future__ import annotations

import pytest

from trio_openai._resilience._breaker_table import (
    TRANSITIONS,
    BreakerEvent,
    BreakerTransitionError,
    CircuitState,
    next_state,
)

CLOSED = CircuitState.CLOSED


# --------------------------------------------------------------------------- table


def test_every_state_has_a_row_and_every_target_is_a_state() -> None:
    assert set(TRANSITIONS) == set(CircuitState)
    for row in TRANSITIONS.values():
        assert set(row.values()) <= set(CircuitState)


@pytest.mark.parametrize(
    ("state", "event"),
    [
        (state, event)
        for state in CircuitState
        for event in BreakerEvent
        if event not in TRANSITIONS[state]
    ],
)
def test_illegal_transition_raises_naming_state_and_event(
    state: CircuitState, event: BreakerEvent
) -> None:
    with pytest.raises(BreakerTransitionError) as info:
        next_state(state, event)
    assert state.name in str(info.value)
    assert event.name in str(info.value)
    assert info.value.state is state
    assert info.value.event is event


def test_table_cannot_be_modified() -> None:
    with pytest.raises(TypeError):
        TRANSITIONS[CLOSED][BreakerEvent.RESET] = CLOSED  # type: ignore[index]
