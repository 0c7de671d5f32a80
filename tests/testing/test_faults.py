"""Fault plans: each kind of fault, the schedules, JSON plans, and the counters."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec
import pytest
import trio

from trio_openai._config import Timeouts
from trio_openai._http._exceptions import ReadTimeout, TransportError
from trio_openai.testing import (
    Fault,
    FaultPlan,
    FaultRule,
    MockOpenAIServer,
    RequestRecord,
    Schedule,
    open_mock_server,
)

if TYPE_CHECKING:
    from trio_openai._http._pool import Pool

HEADERS = {"authorization": "Bearer sk-test", "content-type": "application/json"}
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
STREAM = {**CHAT, "stream": True}


async def chat(
    pool: Pool, server: MockOpenAIServer, body: object = CHAT, path: str = "/chat/completions"
) -> tuple[int, dict[str, str], bytes]:
    r = await pool.request(
        "POST", server.base_url + path, headers=HEADERS, body=msgspec.json.encode(body)
    )
    return r.status, dict(r.headers), bytes(r.content)


# --------------------------------------------------------------------------------------
# Outcome faults


async def test_status_fault_sends_an_openai_error_with_retry_hints(pool: Pool) -> None:
    fault = Fault.status(503, retry_after=2, retry_after_ms=1500, should_retry=True)
    plan = FaultPlan([FaultRule(fault, path="/v1/chat/completions", when=Schedule.first(2))])
    async with open_mock_server(faults=plan) as server:
        for _ in range(2):
            status, headers, body = await chat(pool, server)
            assert status == 503
            assert headers["retry-after"] == "2"
            assert headers["retry-after-ms"] == "1500"
            assert headers["x-should-retry"] == "true"
            assert headers["x-request-id"].startswith("req_")
            error = msgspec.json.decode(body)["error"]
            assert error == {
                "message": "The server is overloaded or not ready yet.",
                "type": "server_error",
                "param": None,
                "code": None,
            }
        assert (await chat(pool, server))[0] == 200
        stats = server.stats
        assert stats.faults_fired == {"status": 2}
        assert stats.statuses == {503: 2, 200: 1}
        assert plan.rules[0].seen == 3
        assert plan.rules[0].fired == 2


async def test_status_fault_429_and_custom_fields(pool: Pool) -> None:
    async with open_mock_server() as server:
        server.add_fault(Fault.status(429, retry_after=0.5), path="/chat/completions")
        server.add_fault(
            Fault.status(400, message="nope", error_code="bad_thing", should_retry=False),
            path="/v1/embeddings",
        )
        status, headers, body = await chat(pool, server)
        assert status == 429
        assert headers["retry-after"] == "0.5"
        error = msgspec.json.decode(body)["error"]
        assert error["type"] == "requests"
        assert error["code"] == "rate_limit_exceeded"
        status, headers, body = await chat(
            pool, server, {"model": "text-embedding-3-small", "input": "x"}, "/embeddings"
        )
        assert status == 400
        assert headers["x-should-retry"] == "false"
        assert msgspec.json.decode(body)["error"]["code"] == "bad_thing"
        assert server.stats.too_many_requests == 1
        assert server.stats.rate_limited == 0


async def test_reset_aborts_before_any_response_byte(pool: Pool) -> None:
    async with open_mock_server(
        faults=[FaultRule(Fault.reset(), when=Schedule.first(1))]
    ) as server:
        with pytest.raises(TransportError):
            await chat(pool, server)
        assert server.http.statistics().resets_sent == 1
        assert server.stats.faults_fired == {"reset": 1}
        assert server.requests[0].status is None
        assert (await chat(pool, server))[0] == 200


async def test_stall_never_answers(pool: Pool, autojump_clock: trio.abc.Clock) -> None:
    async with open_mock_server(faults=[FaultRule(Fault.stall())]) as server:
        with pytest.raises(ReadTimeout):
            await pool.request(
                "POST",
                server.base_url + "/chat/completions",
                headers=HEADERS,
                body=msgspec.json.encode(CHAT),
                timeouts=Timeouts(read=3),
            )
        assert server.stats.faults_fired == {"stall": 1}
        assert server.stats.statuses == {}


async def test_invalid_json_is_a_200_with_garbage(pool: Pool) -> None:
    async with open_mock_server(faults=[FaultRule(Fault.invalid_json())]) as server:
        status, headers, body = await chat(pool, server)
        assert status == 200
        assert headers["content-type"] == "application/json"
        with pytest.raises(msgspec.DecodeError):
            msgspec.json.decode(body)
        assert server.stats.faults_fired == {"invalid_json": 1}


async def read_until_cut(
    pool: Pool, server: MockOpenAIServer, body: object, received: list[bytes]
) -> dict[str, str]:
    """Stream a chat answer into *received*; return its headers (raises when cut)."""
    url = server.base_url + "/chat/completions"
    async with pool.stream("POST", url, headers=HEADERS, body=msgspec.json.encode(body)) as r:
        headers = dict(r.headers)
        async for chunk in r.iter_bytes():
            received.append(chunk)  # keeps what arrived before the cut
    return headers


async def test_drop_mid_body_cuts_a_json_answer(pool: Pool) -> None:
    async with open_mock_server(faults=[FaultRule(Fault.drop_mid_body(50))]) as server:
        received: list[bytes] = []
        with pytest.raises(TransportError):
            await read_until_cut(pool, server, CHAT, received)
        assert len(b"".join(received)) == 50
        assert server.requests[0].status == 200
        assert server.stats.faults_fired == {"drop_mid_body": 1}


async def test_drop_mid_stream_cuts_after_n_events(pool: Pool) -> None:
    plan = FaultPlan().add(Fault.drop_mid_stream(3, rst=True), path="/v1/chat/*")
    async with open_mock_server(faults=plan) as server:
        parts: list[bytes] = []
        with pytest.raises(TransportError):
            await read_until_cut(pool, server, STREAM, parts)
        received = b"".join(parts)
        assert received.count(b"data: ") == 3
        assert received.endswith(b"\n\n")
        assert b"[DONE]" not in received
        # Not a stream: the fault does nothing (and is not counted).
        assert (await chat(pool, server))[0] == 200
        assert server.stats.faults_fired == {"drop_mid_stream": 1}


async def test_oversized_event_in_a_stream(pool: Pool) -> None:
    async with open_mock_server(faults=[FaultRule(Fault.oversized_event(100_000))]) as server:
        status, _, body = await chat(pool, server, STREAM)
        assert status == 200
        events = body.split(b"\n\n")
        assert max(len(e) for e in events) > 100_000
        assert events[-2] == b"data: [DONE]"
        for event in events[:-2]:
            msgspec.json.decode(event[len(b"data: ") :])  # still valid chunks
        status, _, body = await chat(
            pool, server, {"model": "gpt-5.4", "input": "x", "stream": True}, "/responses"
        )
        assert max(len(e) for e in body.split(b"\n\n")) > 100_000
        assert server.stats.faults_fired == {"oversized_event": 2}


# --------------------------------------------------------------------------------------
# Modifiers


async def test_latency_delays_the_answer(pool: Pool, autojump_clock: trio.abc.Clock) -> None:
    async with open_mock_server(faults=[FaultRule(Fault.latency(30))]) as server:
        start = trio.current_time()
        assert (await chat(pool, server))[0] == 200
        assert trio.current_time() - start >= 30
        assert server.stats.faults_fired == {"latency": 1}


async def test_server_latency_option(pool: Pool, autojump_clock: trio.abc.Clock) -> None:
    async with open_mock_server(latency=12) as server:
        start = trio.current_time()
        assert (await chat(pool, server))[0] == 200
        assert trio.current_time() - start >= 12


async def test_stream_interval_paces_the_events(pool: Pool, autojump_clock: trio.abc.Clock) -> None:
    async with open_mock_server(stream_interval=2) as server:
        start = trio.current_time()
        status, _, body = await chat(pool, server, STREAM)
        events = body.count(b"data: ")
        assert status == 200
        assert events >= 4
        assert trio.current_time() - start >= 2 * (events - 1)


async def test_trickle_sends_the_body_slowly_but_whole(
    pool: Pool, autojump_clock: trio.abc.Clock
) -> None:
    async with open_mock_server() as server:
        expected = (await chat(pool, server))[2]
    async with open_mock_server(faults=[FaultRule(Fault.trickle(0.5))]) as server:
        start = trio.current_time()
        status, _, body = await chat(pool, server)
        assert status == 200
        assert body == expected
        assert trio.current_time() - start >= 0.5 * len(body)
        assert server.stats.faults_fired == {"trickle": 1}


async def test_close_idle_after_closes_idle_connections(
    pool: Pool, autojump_clock: trio.abc.Clock
) -> None:
    async with open_mock_server(faults=[FaultRule(Fault.close_idle_after(2))]) as server:
        assert (await chat(pool, server))[0] == 200
        await server.http.wait_connections_closed()
        assert server.stats.connections_open == 0
        assert (await chat(pool, server))[0] == 200
        assert server.stats.connections_opened == 2
        assert server.stats.faults_fired == {"close_idle_after": 2}


async def test_modifiers_combine_with_an_outcome(
    pool: Pool, autojump_clock: trio.abc.Clock
) -> None:
    plan = FaultPlan().add(Fault.latency(5)).add(Fault.status(500)).add(Fault.status(502))
    async with open_mock_server(faults=plan) as server:
        start = trio.current_time()
        assert (await chat(pool, server))[0] == 500
        assert trio.current_time() - start >= 5
        assert server.stats.faults_fired == {"latency": 1, "status": 1}
        assert plan.rules[2].seen == 0  # an outcome was chosen: later outcomes not consulted


# --------------------------------------------------------------------------------------
# Schedules, matchers, plans


async def test_every_nth_request(pool: Pool) -> None:
    async with open_mock_server(faults=[FaultRule(Fault.status(500), when=Schedule.every(3))]) as s:
        statuses = [(await chat(pool, s))[0] for _ in range(7)]
        assert statuses == [200, 200, 500, 200, 200, 500, 200]


async def test_random_schedule_is_reproducible(pool: Pool) -> None:
    patterns = []
    for seed in (7, 7, 8):
        rule = FaultRule(Fault.status(500), when=Schedule.random(0.5, seed=seed))
        async with open_mock_server(faults=[rule]) as server:
            patterns.append([(await chat(pool, server))[0] for _ in range(24)])
    assert patterns[0] == patterns[1] != patterns[2]
    assert 200 in patterns[0]
    assert 500 in patterns[0]


async def test_matcher_and_method_select_requests(pool: Pool) -> None:
    def bad_model(record: RequestRecord) -> bool:
        return isinstance(record.json, dict) and record.json.get("model") == "broken"

    async with open_mock_server() as server:
        server.add_fault(Fault.status(500), match=bad_model)
        server.add_fault(Fault.status(502), method="GET", path="/models")
        assert (await chat(pool, server))[0] == 200
        assert (await chat(pool, server, {**CHAT, "model": "broken"}))[0] == 500
        models = await pool.request("GET", server.base_url + "/models", headers=HEADERS)
        assert models.status == 502


async def test_faults_can_be_replaced_at_runtime(pool: Pool) -> None:
    async with open_mock_server() as server:
        server.faults = FaultPlan([FaultRule(Fault.status(500))])
        assert (await chat(pool, server))[0] == 500
        server.faults = None
        assert (await chat(pool, server))[0] == 200


def test_plan_from_json(tmp_path: Path) -> None:
    text = json.dumps(
        {
            "faults": [
                {
                    "path": "/v1/chat/completions",
                    "kind": "status",
                    "status": 429,
                    "retry_after": 1,
                    "when": {"first": 2},
                },
                {"kind": "latency", "seconds": 0.5, "when": {"random": 0.25, "seed": 3}},
                {"kind": "drop_mid_stream", "after_events": 4, "when": {"every": 2}},
                {"kind": "invalid_json", "body": "<html>", "method": "post"},
            ]
        }
    )
    path = tmp_path / "plan.json"
    path.write_text(text)
    plan = FaultPlan.load(path)
    first, second, third, fourth = plan.rules
    assert first.fault == Fault.status(429, retry_after=1)
    assert first.when == Schedule.first(2)
    assert second.fault == Fault.latency(0.5)
    assert second.when == Schedule.random(0.25, seed=3)
    assert third.fault.after_events == 4
    assert third.when == Schedule.every(2)
    assert fourth.fault.body == b"<html>"
    assert fourth.method == "POST"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"faults": [{"kind": "explode"}]}, "'kind' must be one of"),
        ({"faults": [{"kind": "status", "code": 5}]}, r"unknown key\(s\) \['code'\]"),
        ({"faults": [{"kind": "status", "when": {"first": 0}}]}, "bad 'when'"),
        ({"faults": [{"kind": "status", "when": "sometimes"}]}, "'when' must be"),
        ({"faults": [{"kind": "status", "status": 99}]}, "status_code must be"),
        ({"rules": []}, "unknown top-level"),
    ],
)
def test_malformed_plans_name_the_problem(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FaultPlan.from_dict(data)


def test_bad_json_plan() -> None:
    with pytest.raises(ValueError, match="invalid JSON"):
        FaultPlan.from_json("{")


async def test_open_mock_server_takes_a_json_style_plan(pool: Pool) -> None:
    plan = {"faults": [{"kind": "status", "status": 418, "path": "/chat/completions"}]}
    async with open_mock_server(faults=plan) as server:
        assert (await chat(pool, server))[0] == 418
