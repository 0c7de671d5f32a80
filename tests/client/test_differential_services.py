"""Differential check for the later services: for the same call, this client sends
what the official SDK sends (method, path, query and body: JSON, or multipart fields
with each file's name and bytes).

Each side runs against a fresh embedded server with the same seed and the same
setup (files and objects created directly on the server), so ids are equal on both
sides, and the official SDK decoding the server's answers checks them too. A call
that makes several requests (an upload in parts, create-and-poll) is compared
request by request.
"""

from __future__ import annotations

import contextlib
import json
import pathlib
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

import pytest
import trio

import trio_openai
from trio_openai.testing import MockOpenAIServer, RequestRecord, UploadedFile, open_mock_server

openai = pytest.importorskip("openai")

# The SDK marks images.create_variation deprecated (dall-e-2); the request still counts.
pytestmark = pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")

PNG = b"\x89PNG\r\n\x1a\n" + bytes(32)
TEXT = b"Cats purr and sleep. Dogs bark and fetch balls."
EXAMPLES = b"".join(
    json.dumps(
        {"messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}]}
    ).encode()
    + b"\n"
    for _ in range(3)
)


def _summary(record: RequestRecord) -> dict[str, Any]:
    body: Any = None
    if record.form is not None:
        body = {}
        for name, value in record.form.items():
            values = value if isinstance(value, list) else [value]
            body[name] = [
                ("file", v.filename, v.data) if isinstance(v, UploadedFile) else v for v in values
            ]
    elif record.body:
        body = json.loads(record.body)
    return {
        "method": record.method,
        "path": record.path,
        "query": sorted(parse_qsl(record.query_string, keep_blank_values=True)),
        "body": body,
    }


Setup = Callable[[MockOpenAIServer, pathlib.Path], dict[str, str]]
Call = Callable[[Any, dict[str, str]], Awaitable[Any]]


def _files(server: MockOpenAIServer, tmp: pathlib.Path) -> dict[str, str]:
    ids = {
        "text": server.add_file(TEXT, filename="pets.txt", purpose="assistants"),
        "more": server.add_file(b"Birds sing.", filename="birds.txt", purpose="assistants"),
        "train": server.add_file(EXAMPLES, filename="train.jsonl", purpose="fine-tune"),
    }
    path = tmp / "big.bin"
    path.write_bytes(bytes(range(256)) * 40)
    ids["path"] = str(path)
    audio = tmp / "bonjour.wav"
    audio.write_bytes(b"RIFF" + bytes(100))
    ids["audio"] = str(audio)
    return ids


async def _store(c: Any, ids: dict[str, str]) -> str:
    store = await c.vector_stores.create(name="pets", file_ids=[ids["text"]])
    return str(store.id)


async def _drain(page: Any) -> None:
    async for _ in page:
        pass


async def _upload_parts(c: Any, ids: dict[str, str]) -> None:
    upload = await c.uploads.create(
        bytes=6, filename="a.txt", mime_type="text/plain", purpose="assistants"
    )
    part = await c.uploads.parts.create(upload.id, data=b"abcdef")
    await c.uploads.complete(upload.id, part_ids=[part.id], md5="e80b5017098950fc58aad83c8c14978e")


async def _upload_cancel(c: Any, ids: dict[str, str]) -> None:
    upload = await c.uploads.create(
        bytes=3,
        filename="a.jsonl",
        mime_type="text/jsonl",
        purpose="batch",
        expires_after={"anchor": "created_at", "seconds": 3600},
    )
    await c.uploads.cancel(upload.id)


async def _vector_store_crud(c: Any, ids: dict[str, str]) -> None:
    sid = await _store(c, ids)
    await c.vector_stores.retrieve(sid)
    await c.vector_stores.update(
        sid,
        name="animals",
        metadata={"k": "v"},
        expires_after={"anchor": "last_active_at", "days": 3},
    )
    await _drain(c.vector_stores.list(limit=2, order="asc"))
    await c.vector_stores.delete(sid)


async def _vector_store_create_full(c: Any, ids: dict[str, str]) -> None:
    await c.vector_stores.create(
        name="x",
        description="d",
        file_ids=[ids["text"]],
        chunking_strategy={
            "type": "static",
            "static": {"max_chunk_size_tokens": 200, "chunk_overlap_tokens": 50},
        },
        metadata={"a": "b"},
    )


async def _search(c: Any, ids: dict[str, str]) -> None:
    sid = await _store(c, ids)
    await _drain(
        c.vector_stores.search(
            sid,
            query=["cats", "dogs"],
            filters={"type": "and", "filters": [{"type": "eq", "key": "k", "value": "v"}]},
            max_num_results=3,
            ranking_options={"ranker": "auto", "score_threshold": 0.1},
            rewrite_query=True,
        )
    )


async def _store_files(c: Any, ids: dict[str, str]) -> None:
    sid = await _store(c, ids)
    files = c.vector_stores.files
    await files.create(sid, file_id=ids["more"], attributes={"kind": "bird", "n": 2})
    await files.retrieve(ids["more"], vector_store_id=sid)
    await files.update(ids["more"], vector_store_id=sid, attributes={"kind": "b"})
    await _drain(files.list(sid, filter="completed", limit=5, order="desc"))
    await _drain(files.content(ids["more"], vector_store_id=sid))
    await files.delete(ids["more"], vector_store_id=sid)


async def _store_file_poll(c: Any, ids: dict[str, str]) -> None:
    sid = await _store(c, ids)
    await c.vector_stores.files.create_and_poll(
        ids["more"], vector_store_id=sid, poll_interval_ms=10
    )


async def _file_batches(c: Any, ids: dict[str, str]) -> None:
    sid = await _store(c, ids)
    batches = c.vector_stores.file_batches
    batch = await batches.create(sid, file_ids=[ids["more"]], attributes={"a": "b"})
    await batches.retrieve(batch.id, vector_store_id=sid)
    await _drain(batches.list_files(batch.id, vector_store_id=sid, filter="completed", limit=5))
    await batches.cancel(batch.id, vector_store_id=sid)
    await batches.create(sid, files=[{"file_id": ids["more"], "attributes": {"x": 1}}])
    await batches.create_and_poll(sid, file_ids=[ids["text"]], poll_interval_ms=10)


async def _fine_tuning(c: Any, ids: dict[str, str]) -> None:
    jobs = c.fine_tuning.jobs
    job = await jobs.create(
        model="gpt-4o-mini",
        training_file=ids["train"],
        validation_file=ids["train"],
        suffix="pets",
        seed=7,
        metadata={"run": "1"},
        method={
            "type": "supervised",
            "supervised": {"hyperparameters": {"n_epochs": 2, "batch_size": "auto"}},
        },
        integrations=[{"type": "wandb", "wandb": {"project": "p", "tags": ["a"]}}],
    )
    await jobs.retrieve(job.id)
    await _drain(jobs.list(limit=2, metadata={"run": "1"}))
    await _drain(jobs.list_events(job.id, limit=3))
    await _drain(jobs.checkpoints.list(job.id, limit=2))


async def _fine_tuning_controls(c: Any, ids: dict[str, str]) -> None:
    jobs = c.fine_tuning.jobs
    job = await jobs.create(model="gpt-4o-mini", training_file=ids["train"])
    for control in (jobs.pause, jobs.resume, jobs.cancel):
        # The job has finished (delay 0), so each is refused: the request is compared.
        with contextlib.suppress(openai.BadRequestError, trio_openai.BadRequestError):
            await control(job.id)


async def _conversations(c: Any, ids: dict[str, str]) -> None:
    conversation = await c.conversations.create(
        items=[{"type": "message", "role": "user", "content": "Hi"}], metadata={"a": "b"}
    )
    await c.conversations.retrieve(conversation.id)
    await c.conversations.update(conversation.id, metadata={"a": "c"})
    added = await c.conversations.items.create(
        conversation.id,
        items=[{"type": "message", "role": "assistant", "content": "Hello"}],
        include=["message.output_text.logprobs"],
    )
    item_id = added.data[0].id
    await _drain(c.conversations.items.list(conversation.id, limit=1, order="asc"))
    await c.conversations.items.retrieve(item_id, conversation_id=conversation.id)
    await c.conversations.items.delete(item_id, conversation_id=conversation.id)
    await c.conversations.delete(conversation.id)


async def _translations(c: Any, ids: dict[str, str]) -> None:
    await c.audio.translations.create(
        file=pathlib.Path(ids["audio"]), model="whisper-1", prompt="p", temperature=0.2
    )
    await c.audio.translations.create(
        file=("a.wav", b"RIFFdata"), model="whisper-1", response_format="verbose_json"
    )
    await c.audio.translations.create(
        file=("a.wav", b"RIFFdata"), model="whisper-1", response_format="text"
    )


async def _image_edit(c: Any, ids: dict[str, str]) -> None:
    await c.images.edit(
        image=("cat.png", PNG),
        mask=("mask.png", PNG),
        prompt="hat",
        n=2,
        size="512x512",
        response_format="url",
    )
    await c.images.edit(
        image=[("a.png", PNG), ("b.png", PNG)],
        prompt="merge",
        model="gpt-image-1",
        background="opaque",
        output_compression=50,
    )


async def _image_variation(c: Any, ids: dict[str, str]) -> None:
    await c.images.create_variation(image=("cat.png", PNG), n=1, size="256x256", user="u1")


CASES: dict[str, Call] = {
    "uploads parts": _upload_parts,
    "uploads cancel": _upload_cancel,
    "uploads chunked path": lambda c, ids: c.uploads.upload_file_chunked(
        file=pathlib.Path(ids["path"]),
        mime_type="application/octet-stream",
        purpose="assistants",
        part_size=4000,
    ),
    "uploads chunked bytes": lambda c, ids: c.uploads.upload_file_chunked(
        file=b"0123456789",
        filename="d.txt",
        bytes=10,
        mime_type="text/plain",
        purpose="batch",
        part_size=4,
    ),
    "vector stores crud": _vector_store_crud,
    "vector stores create": _vector_store_create_full,
    "vector stores search": _search,
    "vector store files": _store_files,
    "vector store file poll": _store_file_poll,
    "vector store file batches": _file_batches,
    "fine tuning": _fine_tuning,
    "fine tuning controls": _fine_tuning_controls,
    "conversations": _conversations,
    "translations": _translations,
    "image edit": _image_edit,
    "image variation": _image_variation,
}


async def _run(
    make: Callable[[MockOpenAIServer], Any], call: Call, tmp: pathlib.Path
) -> list[dict[str, Any]]:
    async with open_mock_server(seed=11) as server:
        ids = _files(server, tmp)
        client = make(server)
        async with client:
            with trio.fail_after(10):
                await call(client, ids)
        return [_summary(r) for r in server.requests]


@pytest.mark.parametrize("name", sorted(CASES))
async def test_same_requests_as_the_official_sdk(name: str, tmp_path: pathlib.Path) -> None:
    call = CASES[name]

    def sdk(server: MockOpenAIServer) -> Any:
        return openai.AsyncOpenAI(api_key="sk-test", base_url=server.base_url, max_retries=0)

    def ours(server: MockOpenAIServer) -> Any:
        return trio_openai.Client(api_key="sk-test", base_url=server.base_url, max_retries=0)

    theirs = await _run(sdk, call, tmp_path)
    mine = await _run(ours, call, tmp_path)
    assert len(mine) == len(theirs), [r["path"] for r in mine]
    for i, (a, b) in enumerate(zip(mine, theirs, strict=True)):
        assert a == b, f"request {i}: ours {a!r} != the SDK's {b!r}"
