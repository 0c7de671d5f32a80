"""Decoding and encoding of the wire models in trio_openai.types."""

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
    attach_response_info,
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
# Chat
# ---------------------------------------------------------------------------

CHAT = b"""{
  "id": "chatcmpl-1", "object": "chat.completion", "created": 1700000000,
  "model": "gpt-test", "service_tier": "brand_new_tier", "extra_top_level": {"x": 1},
  "choices": [{
    "index": 0, "finish_reason": "tool_calls",
    "message": {
      "role": "assistant", "content": null, "refusal": null, "new_field": true,
      "annotations": [{"type": "url_citation",
        "url_citation": {"start_index": 1, "end_index": 5, "url": "https://e.x", "title": "T"}}],
      "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{\\"a\\": 1"}},
        {"id": "call_2", "type": "custom", "custom": {"name": "g", "input": "raw"}},
        {"id": "call_3", "type": "teleport", "teleport": {"where": "moon"}}
      ]
    },
    "logprobs": {"content": [{"token": "<|x|>", "logprob": -1.5, "bytes": null,
      "top_logprobs": [{"token": "a", "logprob": -2.0, "bytes": [97]}]}], "refusal": null}
  }],
  "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7,
            "prompt_tokens_details": {"cached_tokens": 2}}
}"""


def test_chat_completion_decodes_with_unknown_fields_and_enum_values() -> None:
    completion = decoder_for(ChatCompletion).decode(CHAT)
    assert completion.id == "chatcmpl-1"
    assert completion.service_tier == "brand_new_tier"
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    message = choice.message
    assert message.content is None
    assert message.annotations is not None
    citation = message.annotations[0].url_citation
    assert citation is not None
    assert citation.title == "T"
    assert message.tool_calls is not None
    first, second, third = message.tool_calls
    assert first.function is not None
    assert first.function.arguments == '{"a": 1'
    assert second.custom is not None
    assert second.custom.input == "raw"
    assert (third.type, third.function, third.custom) == ("teleport", None, None)
    assert choice.logprobs is not None
    assert choice.logprobs.content is not None
    assert choice.logprobs.content[0].bytes is None
    assert choice.logprobs.content[0].top_logprobs[0].bytes == [97]
    usage = completion.usage
    assert usage is not None
    assert usage.total_tokens == 7
    assert usage.prompt_tokens_details is not None
    assert usage.prompt_tokens_details.cached_tokens == 2
    assert usage.prompt_tokens_details.audio_tokens == 0
    assert usage.completion_tokens_details is None


def test_chat_message_without_refusal_or_optional_fields_decodes() -> None:
    body = b'{"id":"c","choices":[{"message":{"role":"assistant","content":"hi"}}]}'
    completion = decoder_for(ChatCompletion).decode(body)
    assert completion.choices[0].message.refusal is None
    assert completion.choices[0].finish_reason is None
    assert completion.usage is None


def test_chat_completion_missing_required_id_is_an_error() -> None:
    with pytest.raises(msgspec.ValidationError):
        decoder_for(ChatCompletion).decode(b'{"choices": []}')


def test_request_id_and_headers_are_reachable_from_a_result() -> None:
    completion = decoder_for(ChatCompletion).decode(CHAT)
    fresh = decoder_for(ChatCompletion).decode(CHAT)
    assert fresh.request_id is None
    assert fresh.response_headers == {}
    same = attach_response_info(
        completion, request_id="req_123", headers={"x-request-id": "req_123"}
    )
    assert same is completion
    assert completion.request_id == "req_123"
    assert completion._request_id == "req_123"
    assert completion.response_headers["x-request-id"] == "req_123"
    # Not a field: neither encoded nor compared.
    assert b"req_123" not in encode(completion)
    assert completion == decoder_for(ChatCompletion).decode(CHAT)


def test_attach_response_info_leaves_other_objects_alone() -> None:
    value = {"a": 1}
    assert attach_response_info(value, request_id="r") is value


def test_decoders_are_built_once_per_type() -> None:
    assert decoder_for(ChatCompletion) is decoder_for(ChatCompletion)
    assert decoder_for(ListPage[files.FileObject]) is decoder_for(ListPage[files.FileObject])


CHUNKS = [
    b'{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":'
    b'[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"finish_reason":null}],'
    b'"usage":null,"obfuscation":"xyz"}',
    b'{"id":"c1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_a",'
    b'"type":"function","function":{"name":"f","arguments":""}}]},"finish_reason":null}]}',
    b'{"id":"c1","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_b",'
    b'"type":"function","function":{"name":"g","arguments":"{\\"y\\""}}]},"finish_reason":null}]}',
    b'{"id":"c1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,'
    b'"function":{"arguments":"{\\"x\\": 1}"}}]},"finish_reason":null}]}',
    b'{"id":"c1","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,'
    b'"function":{"arguments":": 2}"}}]},"finish_reason":null}]}',
    b'{"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}',
    b'{"id":"c1","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":6,"total_tokens":11}}',
]


def test_chunks_decode_and_tool_call_fragments_join_by_index() -> None:
    decoder = decoder_for(ChatCompletionChunk)
    chunks = [decoder.decode(raw) for raw in CHUNKS]
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[0].obfuscation == "xyz"
    arguments: dict[int, str] = {}
    names: dict[int, str] = {}
    for chunk in chunks:
        for choice in chunk.choices:
            for call in choice.delta.tool_calls or []:
                if call.function is not None:
                    arguments[call.index] = arguments.get(call.index, "") + (
                        call.function.arguments or ""
                    )
                    if call.function.name:
                        names[call.index] = call.function.name
    assert names == {0: "f", 1: "g"}
    assert json.loads(arguments[0]) == {"x": 1}
    assert json.loads(arguments[1]) == {"y": 2}
    assert chunks[-2].choices[0].finish_reason == "tool_calls"
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.total_tokens == 11


def test_response_message_turns_into_a_request_message() -> None:
    message = decoder_for(ChatCompletion).decode(CHAT).choices[0].message
    param = message.to_param()
    assert param["role"] == "assistant"
    assert param["content"] is None
    assert param["tool_calls"][0] == {
        "id": "call_1",
        "type": "function",
        "function": {"name": "f", "arguments": '{"a": 1'},
    }
    assert "annotations" not in param


def test_stored_completion_list_and_deleted_object() -> None:
    body = (
        b'{"object":"list","data":[{"id":"chatcmpl-a","object":"chat.completion",'
        b'"request_id":"req_stored","created":1,"model":"m","choices":[]}],'
        b'"first_id":"chatcmpl-a","last_id":"chatcmpl-a","has_more":false}'
    )
    page = decoder_for(ListPage[ChatCompletion]).decode(body)
    assert [c.id for c in page.data] == ["chatcmpl-a"]
    assert (page.first_id, page.last_id, page.has_more) == ("chatcmpl-a", "chatcmpl-a", False)
    deleted = decoder_for(chat.ChatCompletionDeleted).decode(
        b'{"object":"chat.completion.deleted","id":"chatcmpl-a","deleted":true}'
    )
    assert deleted.deleted is True


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
    body = json.dumps(
        {
            "object": "list",
            "model": "text-embedding-3-small",
            "data": [
                {"object": "embedding", "index": 0, "embedding": values},
                {"object": "embedding", "index": 1, "embedding": packed},
            ],
            "usage": {"prompt_tokens": 2, "total_tokens": 2},
        }
    ).encode()
    result = decoder_for(embeddings.CreateEmbeddingResponse).decode(body)
    assert result.data[0].embedding == values
    assert result.data[1].embedding == packed
    assert result.data[1].vector() == values
    assert result.data[0].vector() == values
    broken = embeddings.Embedding(embedding=base64.b64encode(b"abc").decode())
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
# Responses
# ---------------------------------------------------------------------------

RESPONSE = b"""{
  "id": "resp_1", "object": "response", "created_at": 1741476542.5, "status": "completed",
  "completed_at": 1741476543, "error": null, "incomplete_details": null, "model": "gpt-test",
  "output": [
    {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "think"}]},
    {"type": "web_search_call", "id": "ws_1", "status": "completed", "action": {"q": "x"}},
    {"type": "message", "id": "msg_1", "status": "completed", "role": "assistant",
     "content": [
       {"type": "output_text", "text": "Hello ", "annotations": [
          {"type": "url_citation", "url": "https://e.x", "title": "E", "start_index": 0,
           "end_index": 5}]},
       {"type": "hologram", "payload": [1, 2]},
       {"type": "output_text", "text": "world", "annotations": []}
     ]},
    {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "f",
     "arguments": "{}", "status": "completed"}
  ],
  "parallel_tool_calls": true, "temperature": 1, "top_p": 1, "tool_choice": "auto", "tools": [],
  "text": {"format": {"type": "text"}}, "reasoning": {"effort": null, "summary": null},
  "usage": {"input_tokens": 5, "output_tokens": 7, "total_tokens": 12,
            "output_tokens_details": {"reasoning_tokens": 3}},
  "metadata": {}
}"""


def test_response_output_items_decode_into_typed_or_generic_items() -> None:
    response = decoder_for(responses.Response).decode(RESPONSE)
    reasoning, web_search, message, call = response.output
    assert isinstance(reasoning, responses.ResponseReasoningItem)
    assert reasoning.summary[0].text == "think"
    assert isinstance(web_search, responses.UnknownResponseOutputItem)
    assert web_search.type == "web_search_call"
    assert web_search.id == "ws_1"
    assert web_search["action"] == {"q": "x"}
    assert isinstance(message, responses.ResponseOutputMessage)
    assert isinstance(message.content[1], responses.UnknownResponseContent)
    first_part = message.content[0]
    assert isinstance(first_part, responses.ResponseOutputText)
    assert first_part.annotations[0].url == "https://e.x"
    assert isinstance(call, responses.ResponseFunctionToolCall)
    assert call.call_id == "call_1"
    assert response.output_text == "Hello world"
    assert response.created_at == 1741476542.5
    assert response.usage is not None
    assert response.usage.input_tokens_details.cached_tokens == 0
    assert response.usage.output_tokens_details.reasoning_tokens == 3


def test_unknown_output_items_encode_back_to_the_same_json() -> None:
    response = decoder_for(responses.Response).decode(RESPONSE)
    sent_back = msgspec.json.decode(encode(response.output))
    original = json.loads(RESPONSE)["output"]
    assert sent_back[1] == original[1]
    assert sent_back[2]["content"][1] == original[2]["content"][1]


def test_output_items_turn_into_input_items() -> None:
    response = decoder_for(responses.Response).decode(RESPONSE)
    call = response.output[3]
    assert isinstance(call, responses.ResponseFunctionToolCall)
    param = call.to_param()
    assert param == {
        "type": "function_call",
        "id": "fc_1",
        "call_id": "call_1",
        "name": "f",
        "arguments": "{}",
        "status": "completed",
    }


STREAM = [
    b'{"type":"response.created","sequence_number":0,"response":{"id":"resp_1",'
    b'"object":"response","status":"in_progress","output":[]}}',
    b'{"type":"response.output_item.added","sequence_number":1,"output_index":0,'
    b'"item":{"id":"msg_1","type":"message","status":"in_progress","role":"assistant",'
    b'"content":[]}}',
    b'{"type":"response.output_text.delta","item_id":"msg_1","output_index":0,'
    b'"content_index":0,"delta":"Hi"}',
    b'{"type":"response.output_text.done","sequence_number":3,"item_id":"msg_1",'
    b'"output_index":0,"content_index":0,"text":"Hi"}',
    b'{"type":"response.function_call_arguments.delta","sequence_number":4,'
    b'"item_id":"fc_1","output_index":1,"delta":"{\\"a\\""}',
    b'{"type":"response.function_call_arguments.done","sequence_number":5,'
    b'"item_id":"fc_1","output_index":1,"arguments":"{\\"a\\": 1}","name":"f"}',
    b'{"type":"response.output_item.done","sequence_number":6,"output_index":2,'
    b'"item":{"type":"image_generation_call","id":"ig_1","result":"QUJD"}}',
    b'{"type":"response.reasoning_summary_text.delta","sequence_number":7,"delta":"x"}',
    b'{"type":"response.completed","sequence_number":8,"response":{"id":"resp_1",'
    b'"status":"completed","output":[]}}',
]


def test_stream_events_decode_including_unknown_types() -> None:
    decoder = decoder_for(responses.ResponseStreamEvent)
    assert decoder is responses.STREAM_EVENTS
    events = [decoder.decode(raw) for raw in STREAM]
    kinds = [type(event).__name__ for event in events]
    assert kinds == [
        "ResponseCreatedEvent",
        "ResponseOutputItemAddedEvent",
        "ResponseTextDeltaEvent",
        "ResponseTextDoneEvent",
        "ResponseFunctionCallArgumentsDeltaEvent",
        "ResponseFunctionCallArgumentsDoneEvent",
        "ResponseOutputItemDoneEvent",
        "UnknownResponseStreamEvent",
        "ResponseCompletedEvent",
    ]
    created = events[0]
    assert isinstance(created, responses.ResponseCreatedEvent)
    assert created.response.status == "in_progress"
    added = events[1]
    assert isinstance(added, responses.ResponseOutputItemAddedEvent)
    assert isinstance(added.item, responses.ResponseOutputMessage)
    delta = events[2]
    assert isinstance(delta, responses.ResponseTextDeltaEvent)
    assert (delta.delta, delta.sequence_number) == ("Hi", 0)
    done = events[6]
    assert isinstance(done, responses.ResponseOutputItemDoneEvent)
    assert isinstance(done.item, responses.UnknownResponseOutputItem)
    assert done.item["result"] == "QUJD"
    unknown = events[7]
    assert isinstance(unknown, responses.UnknownResponseStreamEvent)
    assert (unknown.type, unknown.sequence_number) == ("response.reasoning_summary_text.delta", 7)
    assert {e.type for e in events[-1:]} <= responses.TERMINAL_EVENT_TYPES


def test_error_and_failed_events_decode() -> None:
    decoder = decoder_for(responses.ResponseStreamEvent)
    error = decoder.decode(
        b'{"type":"error","code":"ERR_SOMETHING","message":"Something went wrong",'
        b'"param":null,"sequence_number":1}'
    )
    assert isinstance(error, responses.ResponseErrorEvent)
    assert (error.code, error.message, error.param) == (
        "ERR_SOMETHING",
        "Something went wrong",
        None,
    )
    failed = decoder.decode(
        b'{"type":"response.failed","response":{"id":"resp_1","status":"failed",'
        b'"error":{"code":"server_error","message":"boom"},"output":[]}}'
    )
    assert isinstance(failed, responses.ResponseFailedEvent)
    assert failed.response.error is not None
    assert failed.response.error.code == "server_error"


def test_non_object_event_is_a_decode_error() -> None:
    with pytest.raises(msgspec.ValidationError):
        decoder_for(responses.ResponseStreamEvent).decode(b"[1, 2]")


def test_response_built_directly_keeps_its_items() -> None:
    item = responses.ResponseOutputMessage(
        id="m", content=[responses.ResponseOutputText(text="hi")]
    )
    response = responses.Response(id="r", output=[item])
    assert response.output[0] is item
    assert response.output_text == "hi"
    again = decoder_for(responses.Response).decode(encode(response))
    assert again.output_text == "hi"


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
