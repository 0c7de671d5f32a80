"""Decoding of the chat wire models (``trio_openai.types.chat``): completions, chunks,
stored objects, unknown fields and values, messages sent back as requests."""

from __future__ import annotations

import json

import msgspec
import pytest

from trio_openai.types import (
    ChatCompletion,
    ChatCompletionChunk,
    ListPage,
    attach_response_info,
    chat,
    decoder_for,
    encode,
    files,
)

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


def test_chat_completion_missing_choices_is_an_error() -> None:
    with pytest.raises(msgspec.ValidationError, match="choices"):
        decoder_for(ChatCompletion).decode(b'{"id": "c"}')


def test_chat_completion_without_an_id_decodes() -> None:
    # OpenAI always sends one; some compatible servers do not (docs/compatible-servers.md).
    assert decoder_for(ChatCompletion).decode(b'{"choices": []}').id == ""


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
