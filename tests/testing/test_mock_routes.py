"""The mock server's route table: what each request reaches, and the 404 for the rest."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from _mock_helpers import AUTH, send

from trio_openai.testing._mock import _batches, _chat, _files, _images, _models
from trio_openai.testing._mock._models import catalogue
from trio_openai.testing._mock._routes import BATCH_TARGETS, ROUTER, ROUTES, Route, Router
from trio_openai.testing._mock._state import MockState
from trio_openai.testing._mock._validate import APIError
from trio_openai.testing._mock._wire import Call
from trio_openai.testing._records import RequestRecord
from trio_openai.types.batches import BATCH_ENDPOINTS

if TYPE_CHECKING:
    from trio_openai._http._pool import Pool
    from trio_openai.testing import MockOpenAIServer


async def test_unknown_paths_and_methods_are_404(server: MockOpenAIServer, pool: Pool) -> None:
    for method, path in [("GET", "/nope"), ("GET", "/chat/completions/x/y"), ("PUT", "/files")]:
        r = await send(pool, server, method, path)
        assert r.status == 404
        assert r.error() == {
            "message": f"Invalid URL ({method} /v1{path})",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
    outside = await pool.request("GET", server.origin + "/other", headers=AUTH)
    assert outside.status == 404


def test_every_route_is_found_by_its_own_pattern() -> None:
    for route in ROUTES:
        path = re.sub(r"\{\w+\}", "x-1", route.pattern.replace("{name...}", "a/b.png"))
        found = ROUTER.match(route.method, path)
        assert found is not None, route
        assert found[0] is route
        expected = ("a/b.png",) if route.public else ("x-1",) * route.pattern.count("{")
        assert found[1] == expected


def test_parameters_match_one_segment_in_order() -> None:
    assert ROUTER.match("GET", "/v1/models/gpt-4o") == (
        Route("GET", "/v1/models/{model}", _models.retrieve),
        ("gpt-4o",),
    )
    found = ROUTER.match("GET", "/v1/files/file-1/content")
    assert found is not None
    assert found[0].handler is _files.content
    assert found[1] == ("file-1",)
    assert ROUTER.match("GET", "/v1/models/") is not None  # an empty id is the endpoint's 404
    assert ROUTER.match("GET", "/v1/files/a/b/content") is None
    assert ROUTER.match("PUT", "/v1/files") is None
    assert ROUTER.match("GET", "/v1/chat/completions") is None
    assert ROUTER.match("POST", "/v1") is None


def test_public_routes_are_only_the_image_files() -> None:
    assert [r.pattern for r in ROUTES if r.public] == ["/images/{name...}"]
    found = ROUTER.match("GET", "/images/abc.png")
    assert found is not None
    assert found[0].handler is _images.file
    assert found[1] == ("abc.png",)


def test_a_route_table_refuses_duplicates_and_inner_rest_parameters() -> None:
    with pytest.raises(ValueError, match="two routes"):
        Router([Route("GET", "/a", _chat.create), Route("GET", "/a", _chat.create)])
    with pytest.raises(ValueError, match="last segment"):
        Router([Route("GET", "/a/{rest...}/b", _chat.create)])


def test_batch_targets_follow_the_batch_api_list_and_the_table() -> None:
    posts = {r.pattern: r.handler for r in ROUTES if r.method == "POST"}
    assert list(BATCH_TARGETS) == [url for url in BATCH_ENDPOINTS if url in posts]
    assert list(BATCH_TARGETS) == [
        "/v1/responses",
        "/v1/chat/completions",
        "/v1/embeddings",
        "/v1/completions",
        "/v1/moderations",
        "/v1/images/generations",
        "/v1/images/edits",
    ]
    assert _batches.create in {r.handler for r in ROUTES}


def test_batch_targets_run_the_route_behind_its_strict_checks() -> None:
    state = MockState(
        seed=0, batch_delay=0, background_delay=0, models=catalogue(), batch_targets={}
    )
    record = RequestRecord("POST", "/v1/chat/completions", "", {}, b"", "req_1", None, None, 0.0)
    good = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    reply = BATCH_TARGETS["/v1/chat/completions"](state, Call(record, (), good, False))
    assert reply.payload["object"] == "chat.completion"
    with pytest.raises(APIError) as info:
        BATCH_TARGETS["/v1/chat/completions"](state, Call(record, (), {**good, "temprature": 1}))
    assert (
        info.value.body["error"]["message"] == "Unrecognized request argument supplied: temprature"
    )
    with pytest.raises(APIError) as info:
        BATCH_TARGETS["/v1/embeddings"](state, Call(record, (), {"model": "nope", "input": "x"}))
    assert (info.value.status, info.value.body["error"]["code"]) == (404, "model_not_found")
    state.strict = False
    lenient = BATCH_TARGETS["/v1/embeddings"](
        state, Call(record, (), {"model": "nope", "input": "x"})
    )
    assert lenient.payload["model"] == "nope"
