"""``client.conversations`` and its ``items``, through the embedded server, and a
response that adds to a conversation."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

import trio_openai
from trio_openai.types.conversations import (
    FunctionCallOutputItem,
    InputTextContent,
    Message,
    UnknownConversationItem,
)
from trio_openai.types.responses import ResponseFunctionToolCall, ResponseOutputText

if TYPE_CHECKING:
    from trio_openai.testing import MockOpenAIServer


async def test_conversation_round_trip(
    server: MockOpenAIServer, client: trio_openai.Client
) -> None:
    conversation = await client.conversations.create(
        items=[{"type": "message", "role": "system", "content": "Be brief."}],
        metadata={"topic": "demo"},
    )
    assert (conversation.object, conversation.metadata) == ("conversation", {"topic": "demo"})
    assert server.requests[-1].json == {
        "items": [{"type": "message", "role": "system", "content": "Be brief."}],
        "metadata": {"topic": "demo"},
    }
    updated = await client.conversations.update(conversation.id, metadata={"topic": "cats"})
    assert updated.metadata == {"topic": "cats"}
    assert (await client.conversations.retrieve(conversation.id)).metadata == {"topic": "cats"}

    items = client.conversations.items
    added = await items.create(
        conversation.id,
        items=[
            {"role": "user", "content": "Hello"},
            {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "c1", "output": "42"},
            {"type": "item_reference", "id": "msg_elsewhere"},
        ],
        include=["message.output_text.logprobs"],
    )
    assert server.requests[-1].query_string == "include%5B%5D=message.output_text.logprobs"
    kinds = [type(i) for i in added.data]
    assert kinds == [
        Message,
        ResponseFunctionToolCall,
        FunctionCallOutputItem,
        UnknownConversationItem,
    ]
    hello = added.data[0]
    assert isinstance(hello, Message)
    assert isinstance(hello.content[0], InputTextContent) and hello.content[0].text == "Hello"

    newest_first = [i.id async for i in items.list(conversation.id, limit=2)]
    assert len(newest_first) == 5 and newest_first[-1] == conversation_first_item(server)
    oldest_first = [i async for i in items.list(conversation.id, order="asc")]
    assert [getattr(i, "id", None) or i.get("id") for i in oldest_first] == newest_first[::-1]

    got = await items.retrieve(hello.id, conversation_id=conversation.id)
    assert isinstance(got, Message) and got.role == "user"
    after_delete = await items.delete(hello.id, conversation_id=conversation.id)
    assert after_delete.id == conversation.id
    with pytest.raises(trio_openai.NotFoundError):
        await items.retrieve(hello.id, conversation_id=conversation.id)

    deleted = await client.conversations.delete(conversation.id)
    assert (deleted.id, deleted.deleted, deleted.object) == (
        conversation.id,
        True,
        "conversation.deleted",
    )
    with pytest.raises(trio_openai.NotFoundError):
        await client.conversations.retrieve(conversation.id)


def conversation_first_item(server: MockOpenAIServer) -> str:
    """The id the server gave the first item (the system message) on create."""
    entry = next(iter(server._state.conversations.values()))
    item_id: str = entry.items[0]["id"]
    return item_id


async def test_a_response_adds_to_its_conversation(client: trio_openai.Client) -> None:
    conversation = await client.conversations.create()
    response = await client.responses.create(
        model="gpt-4o-mini", input="Tell me a story", conversation=conversation.id
    )
    assert response.conversation == {"id": conversation.id}
    stored = [i async for i in client.conversations.items.list(conversation.id, order="asc")]
    assert [type(i) for i in stored] == [Message, Message]
    question, answer = stored
    assert isinstance(question, Message) and isinstance(answer, Message)
    assert question.role == "user" and answer.role == "assistant"
    assert isinstance(answer.content[0], ResponseOutputText)
    assert answer.content[0].text == response.output_text


async def test_bad_conversation_arguments_are_refused_before_sending(
    server: MockOpenAIServer, client: trio_openai.Client
) -> None:
    with pytest.raises(trio_openai.ValidationError) as info:
        await client.conversations.create(
            items=[{"role": "user", "content": "x"}] * 20 + [{"role": "robot", "content": "x"}],
            metadata={"k": 1},
        )
    assert {p.field for p in info.value.problems} == {"items", "items[20].role", "metadata['k']"}
    with pytest.raises(trio_openai.ValidationError, match="conversation_id"):
        await client.conversations.items.retrieve("i", conversation_id="a/b")
    assert server.requests == []
