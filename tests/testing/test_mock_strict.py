"""Strict mode (the default): the mock server refuses what OpenAI refuses before any
endpoint runs, with OpenAI's error bodies: a model it does not serve (404
``model_not_found``) and a body parameter the API does not know (400); lenient mode
accepts both; tests register models of their own."""

from __future__ import annotations

from typing import TYPE_CHECKING

from _mock_helpers import AUTH, CHAT, multipart, send

from trio_openai.testing import open_mock_server

if TYPE_CHECKING:
    from trio_openai._http._pool import Pool
    from trio_openai.testing import MockOpenAIServer


async def test_an_unknown_model_is_404_model_not_found(
    server: MockOpenAIServer, pool: Pool
) -> None:
    cases = [
        ("/chat/completions", {**CHAT, "model": "gpt-9"}),
        ("/completions", {"model": "gpt-9", "prompt": "x"}),
        ("/embeddings", {"model": "gpt-9", "input": "x"}),
        ("/moderations", {"model": "gpt-9", "input": "x"}),
        ("/responses", {"model": "gpt-9", "input": "x"}),
        ("/images/generations", {"model": "gpt-9", "prompt": "x"}),
        ("/audio/speech", {"model": "gpt-9", "input": "x", "voice": "alloy"}),
        ("/fine_tuning/jobs", {"model": "gpt-9", "training_file": "file-1"}),
    ]
    for path, body in cases:
        r = await send(pool, server, "POST", path, body)
        assert r.status == 404, path
        assert r.error() == {
            "message": "The model `gpt-9` does not exist or you do not have access to it.",
            "type": "invalid_request_error",
            "param": None,
            "code": "model_not_found",
        }
    form, ctype = multipart({"model": "gpt-9"}, {"file": ("a.wav", b"RIFF")})
    r = await send(
        pool, server, "POST", "/audio/transcriptions", form, {**AUTH, "content-type": ctype}
    )
    assert (r.status, r.error()["code"]) == (404, "model_not_found")
    assert server.errors == []


async def test_an_unknown_parameter_is_400_in_the_apis_words(
    server: MockOpenAIServer, pool: Pool
) -> None:
    r = await send(pool, server, "POST", "/chat/completions", {**CHAT, "temprature": 0.5})
    assert r.status == 400
    assert r.error() == {
        "message": "Unrecognized request argument supplied: temprature",
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }
    r = await send(
        pool,
        server,
        "POST",
        "/embeddings",
        {"model": "text-embedding-3-small", "input": "x", "a": 1, "b": 2},
    )
    assert r.error()["message"] == "Unrecognized request arguments supplied: a, b"
    r = await send(pool, server, "POST", "/responses", {"model": "gpt-5.4", "input": "x", "foo": 1})
    assert r.status == 400
    assert r.error() == {
        "message": "Unknown parameter: 'foo'.",
        "type": "invalid_request_error",
        "param": "foo",
        "code": "unknown_parameter",
    }
    # The unknown parameter is reported before the unknown model, as OpenAI does.
    r = await send(pool, server, "POST", "/chat/completions", {**CHAT, "model": "x", "y": 1})
    assert (r.status, r.error()["message"]) == (400, "Unrecognized request argument supplied: y")
    # Multipart fields count by their base name: include[] is include, bogus is not.
    form, ctype = multipart(
        {"model": "whisper-1", "include[]": "logprobs", "bogus": "1"}, {"file": ("a.wav", b"RIFF")}
    )
    r = await send(
        pool, server, "POST", "/audio/transcriptions", form, {**AUTH, "content-type": ctype}
    )
    assert r.error()["message"] == "Unrecognized request argument supplied: bogus"
    # Every known parameter passes (a request the SDK would build).
    known = {**CHAT, "temperature": 0.5, "metadata": {"a": "b"}, "store": True, "seed": 1}
    assert (await send(pool, server, "POST", "/chat/completions", known)).status == 200


async def test_lenient_mode_accepts_both_and_can_be_switched(pool: Pool) -> None:
    async with open_mock_server(strict=False) as server:
        assert server.strict is False
        body = {**CHAT, "model": "my-local-model", "temprature": 0.5}
        r = await send(pool, server, "POST", "/chat/completions", body)
        assert r.status == 200 and r.json()["model"] == "my-local-model"
        server.strict = True
        assert (await send(pool, server, "POST", "/chat/completions", body)).status == 400


async def test_tests_register_models_that_then_list_and_serve(pool: Pool) -> None:
    async with open_mock_server(models=["acme-chat-1"]) as server:
        server.add_model("acme-embed-1", owned_by="acme")
        listed = {m["id"]: m for m in (await send(pool, server, "GET", "/models")).json()["data"]}
        assert listed["acme-chat-1"]["owned_by"] == "user"
        assert listed["acme-embed-1"]["owned_by"] == "acme"
        r = await send(pool, server, "POST", "/chat/completions", {**CHAT, "model": "acme-chat-1"})
        assert r.status == 200
        r = await send(pool, server, "POST", "/embeddings", {"model": "acme-embed-1", "input": "x"})
        assert r.status == 200
        got = await send(pool, server, "GET", "/models/acme-chat-1")
        assert got.json()["id"] == "acme-chat-1"


async def test_a_batch_line_is_checked_as_strictly(pool: Pool) -> None:
    import msgspec
    import trio

    async with open_mock_server() as server:
        lines = [
            {"custom_id": "ok", "method": "POST", "url": "/v1/chat/completions", "body": CHAT},
            {
                "custom_id": "typo",
                "method": "POST",
                "url": "/v1/chat/completions",
                "body": {**CHAT, "max_token": 5},
            },
            {
                "custom_id": "model",
                "method": "POST",
                "url": "/v1/chat/completions",
                "body": {**CHAT, "model": "gpt-9"},
            },
        ]
        data = b"".join(msgspec.json.encode(line) + b"\n" for line in lines)
        file_id = server.add_file(data)
        batch = (
            await send(
                pool,
                server,
                "POST",
                "/batches",
                {
                    "input_file_id": file_id,
                    "endpoint": "/v1/chat/completions",
                    "completion_window": "24h",
                },
            )
        ).json()
        with trio.fail_after(10):
            while batch["status"] not in ("completed", "failed"):
                await trio.sleep(0.01)
                batch = (await send(pool, server, "GET", f"/batches/{batch['id']}")).json()
        assert batch["request_counts"] == {"total": 3, "completed": 1, "failed": 2}
        errors = [
            msgspec.json.decode(x) for x in server.file_content(batch["error_file_id"]).splitlines()
        ]
        by_id = {e["custom_id"]: e["response"] for e in errors}
        assert by_id["typo"]["status_code"] == 400
        assert by_id["typo"]["body"]["error"]["message"] == (
            "Unrecognized request argument supplied: max_token"
        )
        assert by_id["model"]["status_code"] == 404


def test_the_command_line_turns_strictness_off_and_adds_models() -> None:
    import argparse

    from trio_openai.testing._cli import _settings, add_mock_server_arguments

    parser = argparse.ArgumentParser()
    add_mock_server_arguments(parser)
    args = parser.parse_args(["--lenient", "--model", "acme-1", "--model", "acme-2"])
    settings = _settings(args, {})
    assert (settings["lenient"], settings["models"]) == (True, ["acme-1", "acme-2"])
    assert _settings(parser.parse_args([]), {})["lenient"] is False
