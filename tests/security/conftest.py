"""Fixtures of the hostile-response tests: the clock every test runs on."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from _hostile import mock_clock

if TYPE_CHECKING:
    import trio.testing


@pytest.fixture
def clock() -> trio.testing.MockClock:
    """A MockClock that jumps after 10 ms of real idleness (see ``_hostile``)."""
    return mock_clock()
