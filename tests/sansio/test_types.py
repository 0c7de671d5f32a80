"""Decoding and encoding of the wire models in trio_openai.types: the smaller areas,
request encoding, the package surface (chat and responses have their own files)."""

from __future__ import annotations

import base64
import importlib
import json
import os
import pathlib
import struct

import msgspec
import pytest

import trio_openai.types as types_pkg
from trio_openai.types import (
    ChatCompletion,
    ChatCompletionChunk,
    ErrorResponse,
    ListPage,
    audio,
    batches,
    chat,
    completions,
    decoder_for,
    embeddings,
    encode,
    files,
    images,
    models,
    moderations,
    responses,
)

# ---------------------------------------------------------------------------
# Other areas
# ---------------------------------------------------------------------------


def test_legacy_completion_decodes() -> None:
    body = (
        b'{"id":"cmpl-1","object":"text_completion","created":1,"model":"m",'
        b'"choices":[{"index":0,"text":"hi","finish_reason":"length","logprobs":'
        b'{"tokens":["hi"],"token_logprobs":[null],"top_logprobs":[{"hi":-0.1}],"text_offset":[0]}}]}'
    )
    completion = decoder_for(completions.Completion).decode(body)
    assert completion.choices[0].text == "hi"
    logprobs = completion.choices[0].logprobs
    assert logprobs is not None
    assert logprobs.token_logprobs == [None]


def test_embeddings_decode_floats_and_base64() -> None:
    values = [0.5, -1.25, 3.0]
    packed = base64.b64encode(struct.pack("<3f", *values)).decode()

    def body(embedding: object) -> bytes:
        return json.dumps(
            {
                "object": "list",
                "model": "text-embedding-3-small",
                "data": [{"object": "embedding", "index": 0, "embedding": embedding}],
                "usage": {"prompt_tokens": 2, "total_tokens": 2},
            }
        ).encode()

    # floats: `embedding` is list[float] (the SDK's type), no narrowing needed
    floats = decoder_for(embeddings.CreateEmbeddingResponse).decode(body(values))
    assert floats.data[0].embedding == values
    assert floats.data[0].vector() == values
    # base64 text (an explicit encoding_format="base64") has its own type
    text = decoder_for(embeddings.Base64EmbeddingResponse).decode(body(packed))
    assert text.data[0].embedding == packed
    assert text.data[0].vector() == values
    # base64 text where floats are expected is a decode error, not a silent str
    with pytest.raises(msgspec.ValidationError, match="Expected `array`, got `str`"):
        decoder_for(embeddings.CreateEmbeddingResponse).decode(body(packed))
    broken = embeddings.Base64Embedding(embedding=base64.b64encode(b"abc").decode())
    with pytest.raises(ValueError, match="float32"):
        broken.vector()


def test_models_list_without_has_more_decodes_as_a_single_page() -> None:
    body = (
        b'{"object":"list","data":[{"id":"m1","object":"model","created":1,"owned_by":"o",'
        b'"shutdown_date":null},{"id":"m2","object":"model","created":2,"owned_by":"openai",'
        b'"shutdown_date":"2030-01-01"}]}'
    )
    page = decoder_for(ListPage[models.Model]).decode(body)
    assert [m.id for m in page.data] == ["m1", "m2"]
    assert page.has_more is False
    assert page.last_id is None
    assert page.data[1].shutdown_date == "2030-01-01"
    deleted = decoder_for(models.ModelDeleted).decode(b'{"id":"ft:x","deleted":true}')
    assert deleted.object == "model"
    assert deleted.deleted


def test_moderation_categories_use_python_names() -> None:
    body = (
        b'{"id":"modr-1","model":"omni-moderation-latest","results":[{"flagged":true,'
        b'"categories":{"self-harm/intent":true,"hate":false,"illicit":null,"brand/new":true},'
        b'"category_scores":{"self-harm/intent":0.9,"violence/graphic":0.1},'
        b'"category_applied_input_types":{"self-harm/intent":["text","image"]}}]}'
    )
    result = decoder_for(moderations.ModerationCreateResponse).decode(body).results[0]
    assert result.flagged
    assert result.categories.self_harm_intent
    assert result.categories.illicit is None
    assert result.category_scores.self_harm_intent == 0.9
    assert result.category_scores.violence_graphic == 0.1
    assert result.category_applied_input_types is not None
    assert result.category_applied_input_types.self_harm_intent == ["text", "image"]


def test_file_upload_and_batch_objects_decode() -> None:
    file = decoder_for(files.FileObject).decode(
        b'{"id":"file-1","object":"file","bytes":10,"created_at":1,"filename":"a.jsonl",'
        b'"purpose":"a_new_purpose"}'
    )
    assert file.purpose == "a_new_purpose"
    assert file.status is None
    upload = decoder_for(files.Upload).decode(
        b'{"id":"upload_1","object":"upload","status":"completed","file":{"id":"file-2"}}'
    )
    assert upload.file is not None
    assert upload.file.id == "file-2"
    batch = decoder_for(batches.Batch).decode(
        b'{"id":"batch_1","object":"batch","endpoint":"/v1/chat/completions",'
        b'"errors":{"object":"list","data":[{"code":"invalid","message":"bad","param":null,'
        b'"line":3}]},"input_file_id":"file-1","completion_window":"24h","status":"failed",'
        b'"created_at":1,"request_counts":{"total":3,"completed":1,"failed":2},"metadata":{}}'
    )
    assert batch.status == "failed"
    assert batch.errors is not None
    assert batch.errors.data[0].line == 3
    assert batch.request_counts is not None
    assert batch.request_counts.failed == 2
    assert batch.usage is None


def test_batch_output_line_body_decodes_into_the_endpoint_type() -> None:
    line = (
        b'{"id":"batch_req_1","custom_id":"r1","response":{"status_code":200,'
        b'"request_id":"req_1","body":{"id":"chatcmpl-1","choices":[{"index":0,"message":'
        b'{"role":"assistant","content":"4"},"finish_reason":"stop"}]}},"error":null}'
    )
    output = decoder_for(batches.BatchOutputLine).decode(line)
    assert output.response is not None
    assert output.response.request_id == "req_1"
    completion = output.response.decode_body(ChatCompletion)
    assert completion.choices[0].message.content == "4"
    # Written back out, the body bytes are unchanged.
    assert b'"content":"4"' in encode(output)


def test_images_and_audio_results_decode() -> None:
    result = decoder_for(images.ImagesResponse).decode(
        b'{"created":1,"data":[{"b64_json":"QUJD"}],"usage":{"input_tokens":1,'
        b'"output_tokens":2,"total_tokens":3,"input_tokens_details":{"text_tokens":1,'
        b'"image_tokens":0}}}'
    )
    assert result.data[0].b64_json == "QUJD"
    assert result.data[0].url is None
    assert result.usage is not None
    assert result.usage.total_tokens == 3
    simple = decoder_for(audio.Transcription).decode(
        b'{"text":"hi","usage":{"type":"duration","seconds":2.5}}'
    )
    assert simple.usage is not None
    assert simple.usage.seconds == 2.5
    verbose = decoder_for(audio.TranscriptionVerbose).decode(
        b'{"text":"hi there","language":"english","duration":1.5,'
        b'"words":[{"word":"hi","start":0.0,"end":0.5}],'
        b'"segments":[{"id":0,"seek":0,"start":0.0,"end":1.5,"text":"hi there",'
        b'"tokens":[1,2],"temperature":0.0,"avg_logprob":-0.2,"compression_ratio":1.1,'
        b'"no_speech_prob":0.01}]}'
    )
    assert verbose.words is not None
    assert verbose.words[0].word == "hi"
    assert verbose.segments is not None
    assert verbose.segments[0].tokens == [1, 2]


def test_error_body_decodes_with_string_or_numeric_code() -> None:
    body = (
        b'{"error":{"message":"Invalid value","type":"invalid_request_error",'
        b'"param":"temperature","code":null}}'
    )
    error = decoder_for(ErrorResponse).decode(body).error
    assert (error.message, error.type, error.param, error.code) == (
        "Invalid value",
        "invalid_request_error",
        "temperature",
        None,
    )
    other = decoder_for(ErrorResponse).decode(b'{"error":{"message":"x","code":400}}')
    assert other.error.code == 400


# ---------------------------------------------------------------------------
# Requests: encoding carries only what was set
# ---------------------------------------------------------------------------


def test_request_encoding_omits_unset_fields_and_keeps_explicit_nulls() -> None:
    params = chat.ChatCompletionCreateParams(
        model="m",
        messages=[{"role": "user", "content": "hi"}],
        temperature=0,
        stop=None,
    )
    assert encode(params) == (
        b'{"model":"m","messages":[{"role":"user","content":"hi"}],"stop":null,"temperature":0}'
    )
    assert encode(embeddings.EmbeddingCreateParams(model="e", input="x")) == (
        b'{"model":"e","input":"x"}'
    )


def test_request_encoding_matches_compact_json_dumps() -> None:
    values = {
        "model": "gpt-test",
        "messages": [{"content": "héllo \u2028 ☃", "role": "user"}],
        "max_tokens": 5,
        "n": 2,
        "temperature": 0.7,
        "user": "u",
    }
    params = msgspec.convert(values, chat.ChatCompletionCreateParams)
    expected = json.dumps(values, ensure_ascii=False, separators=(",", ":")).encode()
    assert encode(params) == expected


# ---------------------------------------------------------------------------
# Package surface
# ---------------------------------------------------------------------------


def test_every_public_name_resolves() -> None:
    for name in types_pkg.__all__:
        assert getattr(types_pkg, name) is not None, name
    assert types_pkg.Response is responses.Response
    assert "Batch" in dir(types_pkg)
    with pytest.raises(AttributeError):
        _ = types_pkg.NoSuchThing


@pytest.mark.parametrize(
    "area",
    [
        "audio",
        "batches",
        "chat",
        "completions",
        "embeddings",
        "files",
        "images",
        "models",
        "moderations",
        "responses",
        "shared",
    ],
)
def test_area_all_names_exist(area: str) -> None:
    module = importlib.import_module(f"trio_openai.types.{area}")
    for name in module.__all__:
        assert hasattr(module, name), f"{area}.{name}"


# ---------------------------------------------------------------------------
# Reference examples (only when TRIO_OPENAI_REFERENCE is set)
# ---------------------------------------------------------------------------

_EXAMPLE_TYPES: dict[str, object] = {
    "batch.object.json": batches.Batch,
    "chat-completion-logprobs.response.json": ChatCompletion,
    "chat-completion-tools.response.json": ChatCompletion,
    "chat-completion.response.json": ChatCompletion,
    "chat-completions.list.response.json": ListPage[ChatCompletion],
    "embeddings.response.json": embeddings.CreateEmbeddingResponse,
    "error.response.json": ErrorResponse,
    "file.object.json": files.FileObject,
    "files.list.response.json": ListPage[files.FileObject],
    "models.list.response.json": ListPage[models.Model],
    "responses-error.event.json": responses.ResponseStreamEvent,
    "responses-failed.event.json": responses.ResponseStreamEvent,
    "responses.response.json": responses.Response,
    "upload.object.json": files.Upload,
    "responses.input_items.response.json": ListPage[dict[str, object]],
}


def _reference_examples() -> pathlib.Path:
    root = os.environ.get("TRIO_OPENAI_REFERENCE")
    if not root:
        pytest.skip("TRIO_OPENAI_REFERENCE is not set (path to the shared reference folder)")
    return pathlib.Path(root) / "examples"


def test_reference_examples_decode() -> None:
    folder = _reference_examples()
    for name, tp in _EXAMPLE_TYPES.items():
        decoder_for(tp).decode((folder / name).read_bytes())
    for line in (folder / "batch-output.jsonl").read_bytes().splitlines():
        if line.strip():
            out = decoder_for(batches.BatchOutputLine).decode(line)
            if out.response is not None:
                out.response.decode_body(ChatCompletion)
    for line in (folder / "batch-input.jsonl").read_bytes().splitlines():
        if line.strip():
            decoder_for(batches.BatchInputLine).decode(line)
    for sse, tp in (
        ("chat-completion.stream.sse", ChatCompletionChunk),
        ("responses.stream.sse", responses.ResponseStreamEvent),
    ):
        for raw in (folder / sse).read_text().splitlines():
            if raw.startswith("data: ") and raw != "data: [DONE]":
                decoder_for(tp).decode(raw[len("data: ") :])
