"""Decoding of the Responses API wire models (``trio_openai.types.responses``): output
items and stream events as open unions, items sent back as input."""

from __future__ import annotations

import json

import msgspec
import pytest

from trio_openai.types import (
    decoder_for,
    encode,
    responses,
)

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
