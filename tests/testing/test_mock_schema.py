"""The mock server's JSON answers validate against the OpenAPI spec's schemas.

The spec is read from ``$TRIO_OPENAI_REFERENCE/openapi.yaml`` (never copied into the
project); without the variable, or without ``pyyaml`` and ``jsonschema``, the tests
skip. Each answer is checked against the schema the spec gives for that path, method
and status (or, for stream events and multi-schema answers, the named component).
``$ref: '#/components/schemas/...'`` is resolved by validating a small root schema
that carries the spec's ``components`` next to the reference.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
import pytest

from trio_openai.testing import MockOpenAIServer, RateLimitSim

if TYPE_CHECKING:
    from trio_openai._http._pool import Pool

AUTH = {"authorization": "Bearer sk-test"}
JSON_HEADERS = {**AUTH, "content-type": "application/json"}
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello"}]}
TOOL = {
    "type": "function",
    "function": {
        "name": "lookup",
        "parameters": {
            "type": "object",
            "properties": {"query": {"type": "string"}, "limit": {"type": "integer"}},
            "required": ["query", "limit"],
        },
    },
}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    reference = os.environ.get("TRIO_OPENAI_REFERENCE")
    if not reference:
        pytest.skip("TRIO_OPENAI_REFERENCE is not set (the folder holding openapi.yaml)")
    yaml = pytest.importorskip("yaml", reason="pyyaml is needed to read the OpenAPI spec")
    pytest.importorskip("jsonschema", reason="jsonschema is needed to validate against it")
    path = Path(reference) / "openapi.yaml"
    if not path.exists():
        pytest.skip(f"{path} does not exist")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open("rb") as f:
        loaded: dict[str, Any] = yaml.load(f, Loader=loader)
    return loaded


def openapi_to_json_schema(node: Any) -> Any:
    """Turn OpenAPI 3.0's ``nullable: true`` (still used in parts of the spec) into 2020-12."""
    if isinstance(node, list):
        return [openapi_to_json_schema(x) for x in node]
    if not isinstance(node, dict):
        return node
    out = {k: openapi_to_json_schema(v) for k, v in node.items()}
    if out.pop("nullable", False) is True:
        kind = out.get("type")
        if isinstance(kind, str):
            out["type"] = [kind, "null"]
            if isinstance(out.get("enum"), list) and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]
        elif kind is None:
            return {"anyOf": [out, {"type": "null"}]}
    return out


_CONVERTED: dict[int, Any] = {}


def check(spec: dict[str, Any], schema: dict[str, Any], value: Any, what: str) -> None:
    import jsonschema

    components = _CONVERTED.get(id(spec))
    if components is None:
        components = _CONVERTED[id(spec)] = openapi_to_json_schema(spec["components"])
    root = {**openapi_to_json_schema(schema), "components": components}
    validator = jsonschema.Draft202012Validator(root)
    errors = sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [f"{what}: {len(errors)} schema error(s)"]
        for error in errors[:10]:
            where = "/".join(map(str, error.absolute_path)) or "<root>"
            lines.append(f"  at {where}: {error.message[:300]}")
        raise AssertionError("\n".join(lines))


def path_schema(spec: dict[str, Any], path: str, method: str, status: str = "200") -> Any:
    response = spec["paths"][path][method]["responses"][status]
    if "$ref" in response:
        response = spec["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    return response["content"]["application/json"]["schema"]


def component(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


async def call(
    pool: Pool, server: MockOpenAIServer, method: str, path: str, body: Any = None
) -> tuple[int, bytes]:
    data = None
    headers = AUTH
    if isinstance(body, tuple):
        data, content_type = body
        headers = {**AUTH, "content-type": content_type}
    elif body is not None:
        data = msgspec.json.encode(body)
        headers = JSON_HEADERS
    r = await pool.request(method, server.base_url + path, headers=headers, body=data)
    return r.status, bytes(r.content)


def multipart(fields: dict[str, str], filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = "schemaboundary"
    head = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    )
    head += (
        f"--{boundary}\r\nContent-Disposition: form-data; "
        f'name="file"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    )
    body = head.encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


async def test_chat_and_completions_match_the_spec(
    spec: dict[str, Any], server: MockOpenAIServer, pool: Pool
) -> None:
    schema = path_schema(spec, "/chat/completions", "post")
    variants = [
        CHAT,
        {**CHAT, "n": 2, "logprobs": True, "top_logprobs": 2},
        {**CHAT, "tools": [TOOL]},
        {**CHAT, "response_format": {"type": "json_object"}},
        {**CHAT, "max_tokens": 1},
    ]
    for body in variants:
        status, content = await call(pool, server, "POST", "/chat/completions", body)
        assert status == 200
        check(spec, schema, msgspec.json.decode(content), f"chat {sorted(body)}")

    chunk_schema = component("CreateChatCompletionStreamResponse")
    for body in (
        {**CHAT, "stream": True, "stream_options": {"include_usage": True}, "logprobs": True},
        {**CHAT, "stream": True, "tools": [TOOL]},
    ):
        _, content = await call(pool, server, "POST", "/chat/completions", body)
        events = content.decode().split("\n\n")[:-2]  # drop [DONE] and the tail
        for event in events:
            check(spec, chunk_schema, msgspec.json.decode(event[len("data: ") :]), "chunk")

    legacy = {"model": "gpt-3.5-turbo-instruct", "prompt": "Hi", "logprobs": 1}
    _, content = await call(pool, server, "POST", "/completions", legacy)
    check(spec, path_schema(spec, "/completions", "post"), msgspec.json.decode(content), "cmpl")


async def test_embeddings_models_moderations_images_match_the_spec(
    spec: dict[str, Any], server: MockOpenAIServer, pool: Pool
) -> None:
    body = {"model": "text-embedding-3-small", "input": ["a", "b"], "dimensions": 8}
    _, content = await call(pool, server, "POST", "/embeddings", body)
    check(spec, path_schema(spec, "/embeddings", "post"), msgspec.json.decode(content), "emb")

    _, content = await call(pool, server, "GET", "/models")
    check(spec, path_schema(spec, "/models", "get"), msgspec.json.decode(content), "models")
    _, content = await call(pool, server, "GET", "/models/gpt-4o-mini")
    check(spec, path_schema(spec, "/models/{model}", "get"), msgspec.json.decode(content), "model")
    ft = "ft:gpt-4o-mini-2024-07-18:mock-org::abc123"
    _, content = await call(pool, server, "DELETE", f"/models/{ft}")
    check(spec, path_schema(spec, "/models/{model}", "delete"), msgspec.json.decode(content), "del")

    moderation = {"input": ["kill", "hello"]}
    _, content = await call(pool, server, "POST", "/moderations", moderation)
    check(spec, path_schema(spec, "/moderations", "post"), msgspec.json.decode(content), "mod")

    images = path_schema(spec, "/images/generations", "post")
    for body in (
        {"prompt": "cat", "model": "gpt-image-1"},
        {"prompt": "cat", "model": "dall-e-3", "response_format": "url"},
    ):
        _, content = await call(pool, server, "POST", "/images/generations", body)
        check(spec, images, msgspec.json.decode(content), f"images {body['model']}")


async def test_files_batches_transcriptions_match_the_spec(
    spec: dict[str, Any], server: MockOpenAIServer, pool: Pool
) -> None:
    line = {"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": CHAT}
    upload = multipart({"purpose": "batch"}, "in.jsonl", msgspec.json.encode(line) + b"\n")
    _, content = await call(pool, server, "POST", "/files", upload)
    created = msgspec.json.decode(content)
    check(spec, path_schema(spec, "/files", "post"), created, "file")
    _, content = await call(pool, server, "GET", "/files")
    check(spec, path_schema(spec, "/files", "get"), msgspec.json.decode(content), "files")
    _, content = await call(pool, server, "GET", f"/files/{created['id']}")
    check(spec, path_schema(spec, "/files/{file_id}", "get"), msgspec.json.decode(content), "f")

    batch_body = {
        "input_file_id": created["id"],
        "endpoint": "/v1/chat/completions",
        "completion_window": "24h",
    }
    _, content = await call(pool, server, "POST", "/batches", batch_body)
    batch = msgspec.json.decode(content)
    check(spec, path_schema(spec, "/batches", "post"), batch, "batch")
    _, content = await call(pool, server, "POST", f"/batches/{batch['id']}/cancel")
    cancel_schema = path_schema(spec, "/batches/{batch_id}/cancel", "post")
    check(spec, cancel_schema, msgspec.json.decode(content), "cancel")
    _, content = await call(pool, server, "GET", "/batches")
    check(spec, path_schema(spec, "/batches", "get"), msgspec.json.decode(content), "batches")
    _, content = await call(pool, server, "GET", f"/batches/{batch['id']}")
    check(spec, path_schema(spec, "/batches/{batch_id}", "get"), msgspec.json.decode(content), "b")

    _, content = await call(pool, server, "DELETE", f"/files/{created['id']}")
    delete_schema = path_schema(spec, "/files/{file_id}", "delete")
    check(spec, delete_schema, msgspec.json.decode(content), "delete")

    for fmt, name in (
        ("json", "CreateTranscriptionResponseJson"),
        ("verbose_json", "CreateTranscriptionResponseVerboseJson"),
    ):
        for model in ("whisper-1", "gpt-4o-mini-transcribe"):
            form = multipart({"model": model, "response_format": fmt}, "a.wav", b"RIFF" * 50)
            _, content = await call(pool, server, "POST", "/audio/transcriptions", form)
            check(spec, component(name), msgspec.json.decode(content), f"{fmt} {model}")


async def test_responses_match_the_spec(
    spec: dict[str, Any], server: MockOpenAIServer, pool: Pool
) -> None:
    schema = path_schema(spec, "/responses", "post")
    function = {"type": "function", "name": "lookup", **TOOL["function"]}  # type: ignore[dict-item]
    for body in (
        {"model": "gpt-5.4", "input": "Hello", "instructions": "Be brief"},
        {"model": "gpt-5.4", "input": [{"role": "user", "content": "Hi"}], "tools": [function]},
        {"model": "gpt-5.4", "input": "Hello", "max_output_tokens": 16},
    ):
        _, content = await call(pool, server, "POST", "/responses", body)
        created = msgspec.json.decode(content)
        check(spec, schema, created, f"response {sorted(body)}")

    _, content = await call(pool, server, "GET", f"/responses/{created['id']}")
    check(
        spec,
        path_schema(spec, "/responses/{response_id}", "get"),
        msgspec.json.decode(content),
        "get",
    )
    _, content = await call(pool, server, "GET", f"/responses/{created['id']}/input_items")
    items_schema = path_schema(spec, "/responses/{response_id}/input_items", "get")
    check(spec, items_schema, msgspec.json.decode(content), "input items")

    event_schema = component("ResponseStreamEvent")
    for body in (
        {"model": "gpt-5.4", "input": "Hello", "stream": True},
        {"model": "gpt-5.4", "input": "Hi", "tools": [function], "stream": True},
    ):
        _, content = await call(pool, server, "POST", "/responses", body)
        for block in content.decode().split("\n\n")[:-1]:
            data = msgspec.json.decode(block.split("\n", 1)[1][len("data: ") :])
            check(spec, event_schema, data, data["type"])


async def test_error_bodies_match_the_spec(
    spec: dict[str, Any], server: MockOpenAIServer, pool: Pool
) -> None:
    schema = component("ErrorResponse")
    status, content = await call(
        pool, server, "POST", "/chat/completions", {"model": "gpt-4o-mini"}
    )
    assert status == 400
    check(spec, schema, msgspec.json.decode(content), "400")
    r = await pool.request("GET", server.base_url + "/models")
    assert r.status == 401
    check(spec, schema, msgspec.json.decode(bytes(r.content)), "401")
    status, content = await call(pool, server, "GET", "/nope")
    check(spec, schema, msgspec.json.decode(content), "404")
    server.rate_limits = RateLimitSim(rpm=1)
    await call(pool, server, "POST", "/chat/completions", CHAT)
    status, content = await call(pool, server, "POST", "/chat/completions", CHAT)
    assert status == 429
    check(
        spec,
        path_schema(spec, "/audio/transcriptions", "post", "429"),
        msgspec.json.decode(content),
        "429",
    )
