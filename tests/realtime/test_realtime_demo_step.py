"""The demo's Realtime step round-trips text through the embedded server."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import pytest
from rich.console import Console

import trio_openai
from trio_openai.cli._demo import realtime_round_trip
from trio_openai.testing import Fault

if TYPE_CHECKING:
    from trio_openai.testing import MockOpenAIServer


async def test_the_demo_step_round_trips_text(
    client: trio_openai.Client, server: MockOpenAIServer
) -> None:
    out = io.StringIO()
    console = Console(file=out, width=100, highlight=False)
    assert await realtime_round_trip(client, console)
    text = out.getvalue()
    assert "deltas over ws://127.0.0.1:" in text
    assert "closed cleanly" in text
    await server.http.wait_connections_closed()


async def test_a_refused_session_fails_the_step_with_the_status_error(
    client: trio_openai.Client, server: MockOpenAIServer
) -> None:
    server.add_fault(Fault.status(403), path="/v1/realtime")
    console = Console(file=io.StringIO(), width=100)
    with pytest.raises(trio_openai.PermissionDeniedError):
        await realtime_round_trip(client, console)
