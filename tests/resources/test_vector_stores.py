"""``client.vector_stores``: stores, their files and file batches, search, through the
embedded server."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import trio
import trio.testing

import trio_openai
from trio_openai.testing import open_mock_server
from trio_openai.types.vector_stores import VectorStoreSearchResponse

if TYPE_CHECKING:
    from trio_openai.testing import MockOpenAIServer

DOCS = {
    "cats.txt": b"Cats purr and sleep most of the day. A cat likes warm places.",
    "dogs.txt": b"Dogs bark and fetch balls. A dog likes long walks in the park.",
    "birds.txt": b"Birds sing at dawn and build nests in trees.",
}


async def _upload(client: trio_openai.Client) -> dict[str, str]:
    ids = {}
    for name, data in DOCS.items():
        ids[name] = (await client.files.create(file=(name, data), purpose="assistants")).id
    return ids


async def test_vector_store_round_trip(
    server: MockOpenAIServer, client: trio_openai.Client
) -> None:
    ids = await _upload(client)
    store = await client.vector_stores.create(
        name="pets",
        file_ids=[ids["cats.txt"]],
        metadata={"team": "a"},
        expires_after={"anchor": "last_active_at", "days": 7},
    )
    assert (store.object, store.name, store.metadata) == ("vector_store", "pets", {"team": "a"})
    assert store.file_counts.completed == 1 and store.status == "completed"
    assert store.expires_after is not None and store.expires_after.days == 7
    sent = server.requests[-1]
    assert sent.headers["openai-beta"] == "assistants=v2"
    assert sent.json == {
        "expires_after": {"anchor": "last_active_at", "days": 7},
        "file_ids": [ids["cats.txt"]],
        "metadata": {"team": "a"},
        "name": "pets",
    }
    renamed = await client.vector_stores.update(store.id, name="animals")
    assert renamed.name == "animals"
    assert (await client.vector_stores.retrieve(store.id)).name == "animals"
    other = await client.vector_stores.create(name="empty")
    page = await client.vector_stores.list(limit=1)
    assert [s.id for s in page.data] == [other.id] and page.has_more
    assert [s.id async for s in client.vector_stores.list(limit=1, order="asc")] == [
        store.id,
        other.id,
    ]
    deleted = await client.vector_stores.delete(other.id)
    assert (deleted.id, deleted.deleted, deleted.object) == (
        other.id,
        True,
        "vector_store.deleted",
    )
    with pytest.raises(trio_openai.NotFoundError):
        await client.vector_stores.retrieve(other.id)


async def test_files_and_search(server: MockOpenAIServer, client: trio_openai.Client) -> None:
    ids = await _upload(client)
    store = await client.vector_stores.create(name="pets")
    vs = client.vector_stores
    added = await vs.files.create(
        store.id,
        file_id=ids["dogs.txt"],
        attributes={"kind": "dog", "legs": 4},
        chunking_strategy={
            "type": "static",
            "static": {"max_chunk_size_tokens": 100, "chunk_overlap_tokens": 20},
        },
    )
    assert (added.id, added.vector_store_id) == (ids["dogs.txt"], store.id)
    cat = await vs.files.create_and_poll(
        ids["cats.txt"], vector_store_id=store.id, attributes={"kind": "cat", "legs": 4}
    )
    assert cat.status == "completed" and cat.usage_bytes == len(DOCS["cats.txt"])
    got = await vs.files.retrieve(ids["dogs.txt"], vector_store_id=store.id)
    assert got.chunking_strategy is not None and got.chunking_strategy.static is not None
    assert got.chunking_strategy.static.max_chunk_size_tokens == 100
    updated = await vs.files.update(
        ids["dogs.txt"], vector_store_id=store.id, attributes={"kind": "dog", "legs": 3}
    )
    assert updated.attributes == {"kind": "dog", "legs": 3}
    listed = [f.id async for f in vs.files.list(store.id, filter="completed", order="asc")]
    assert listed == [ids["dogs.txt"], ids["cats.txt"]]
    content = await vs.files.content(ids["cats.txt"], vector_store_id=store.id)
    assert [c.text for c in content.data] == [DOCS["cats.txt"].decode()]

    results = await vs.search(store.id, query="Which animal likes warm places?")
    assert isinstance(results.data[0], VectorStoreSearchResponse)
    assert results.data[0].filename == "cats.txt"
    assert results.data[0].score > results.data[-1].score or len(results.data) == 1
    assert "warm places" in results.data[0].content[0].text
    filtered = [
        r.file_id
        async for r in vs.search(
            store.id,
            query="likes",
            filters={"type": "eq", "key": "kind", "value": "dog"},
            max_num_results=5,
            ranking_options={"score_threshold": 0.5},
        )
    ]
    assert filtered == [ids["dogs.txt"]]
    assert server.requests[-1].json == {
        "query": "likes",
        "filters": {"type": "eq", "key": "kind", "value": "dog"},
        "max_num_results": 5,
        "ranking_options": {"score_threshold": 0.5},
    }
    gone = await vs.files.delete(ids["cats.txt"], vector_store_id=store.id)
    assert gone.deleted and gone.object == "vector_store.file.deleted"
    assert (await client.files.retrieve(ids["cats.txt"])).id == ids["cats.txt"]  # file stays


async def test_file_batches(server: MockOpenAIServer, client: trio_openai.Client) -> None:
    ids = await _upload(client)
    store = await client.vector_stores.create(name="pets")
    batches = client.vector_stores.file_batches
    batch = await batches.create_and_poll(store.id, file_ids=[ids["cats.txt"], ids["dogs.txt"]])
    assert (batch.status, batch.file_counts.completed, batch.file_counts.total) == (
        "completed",
        2,
        2,
    )
    again = await batches.retrieve(batch.id, vector_store_id=store.id)
    assert again.id == batch.id
    files = [f.id async for f in batches.list_files(batch.id, vector_store_id=store.id)]
    assert sorted(files) == sorted([ids["cats.txt"], ids["dogs.txt"]])
    per_file = await batches.create(
        store.id, files=[{"file_id": ids["birds.txt"], "attributes": {"kind": "bird"}}]
    )
    assert per_file.vector_store_id == store.id
    cancelled = await batches.cancel(per_file.id, vector_store_id=store.id)
    assert cancelled.status in ("cancelled", "completed")
    with pytest.raises(trio_openai.ValidationError, match="file_ids"):
        await batches.create(store.id)
    with pytest.raises(trio_openai.ValidationError, match="cannot be given together"):
        await batches.create(store.id, file_ids=["a"], files=[{"file_id": "b"}])


async def test_processing_takes_time_and_poll_waits_for_it(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # a file takes 5 (virtual) s
    async with (
        open_mock_server(batch_delay=5) as server,
        trio_openai.Client(api_key="sk-test", base_url=server.base_url) as c,
    ):
        file = await c.files.create(file=("a.txt", b"hello there"), purpose="assistants")
        store = await c.vector_stores.create(name="slow")
        added = await c.vector_stores.files.create(store.id, file_id=file.id)
        assert added.status == "in_progress"
        start = trio.current_time()
        done = await c.vector_stores.files.poll(
            file.id, vector_store_id=store.id, poll_interval_ms=1000
        )
        assert done.status == "completed"
        assert trio.current_time() - start == 5
        polls = [r for r in server.requests if r.headers.get("x-stainless-poll-helper")]
        assert len(polls) == 6  # at 0, 1, 2, 3, 4 s in progress; at 5 s completed
        assert polls[0].headers["x-stainless-custom-poll-interval"] == "1000"
        batch = await c.vector_stores.file_batches.create(store.id, file_ids=[file.id])
        assert batch.status == "in_progress"
        # Without an interval the server's openai-poll-after-ms hint (20 ms) is used.
        batch = await c.vector_stores.file_batches.poll(batch.id, vector_store_id=store.id)
        assert batch.status == "completed"
        assert trio.current_time() - start == pytest.approx(10, abs=0.05)


async def test_bad_arguments_are_refused_before_sending(
    server: MockOpenAIServer, client: trio_openai.Client
) -> None:
    with pytest.raises(trio_openai.ValidationError) as info:
        await client.vector_stores.create(
            name="x",
            expires_after={"anchor": "created_at", "days": 0},
            chunking_strategy={"type": "static", "static": {"max_chunk_size_tokens": 50}},
        )
    fields = {p.field for p in info.value.problems}
    assert fields == {
        "expires_after.anchor",
        "expires_after.days",
        "chunking_strategy.static.max_chunk_size_tokens",
        "chunking_strategy.static.chunk_overlap_tokens",
    }
    with pytest.raises(trio_openai.ValidationError, match="max_num_results"):
        client.vector_stores.search("vs_1", query="x", max_num_results=99)
    assert server.requests == []
