"""The later services' answers (uploads, vector stores, fine-tuning, conversations,
translations, image edits and variations) validate against the OpenAPI spec.

Same rules as ``test_mock_schema``: the spec is read from
``$TRIO_OPENAI_REFERENCE/openapi.yaml`` and the tests skip without it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import msgspec
from test_mock_schema import call, check, multipart, path_schema, spec

if TYPE_CHECKING:
    from trio_openai._http._pool import Pool
    from trio_openai.testing import MockOpenAIServer

__all__ = ["spec"]  # the fixture, shared with test_mock_schema

TEXT = b"Cats purr and sleep. Dogs bark and fetch. Birds sing at dawn."
EXAMPLES = b"".join(
    json.dumps(
        {"messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}]}
    ).encode()
    + b"\n"
    for _ in range(3)
)


async def _ok(
    spec: dict[str, Any],
    pool: Pool,
    server: MockOpenAIServer,
    method: str,
    path: str,
    template: str,
    body: Any = None,
) -> Any:
    status, content = await call(pool, server, method, path, body)
    assert status == 200, (path, content)
    value = msgspec.json.decode(content)
    check(spec, path_schema(spec, template, method.lower()), value, f"{method} {template}")
    return value


async def test_uploads_match_the_spec(
    spec: dict[str, Any], server: MockOpenAIServer, pool: Pool
) -> None:
    body = {
        "bytes": len(TEXT),
        "filename": "a.txt",
        "mime_type": "text/plain",
        "purpose": "assistants",
    }
    upload = await _ok(spec, pool, server, "POST", "/uploads", "/uploads", body)
    part_body = multipart({}, "a.txt", TEXT)
    form = part_body[0].replace(b'name="file"', b'name="data"'), part_body[1]
    part = await _ok(
        spec,
        pool,
        server,
        "POST",
        f"/uploads/{upload['id']}/parts",
        "/uploads/{upload_id}/parts",
        form,
    )
    done = await _ok(
        spec,
        pool,
        server,
        "POST",
        f"/uploads/{upload['id']}/complete",
        "/uploads/{upload_id}/complete",
        {"part_ids": [part["id"]]},
    )
    assert done["status"] == "completed"
    other = await _ok(spec, pool, server, "POST", "/uploads", "/uploads", body)
    await _ok(
        spec, pool, server, "POST", f"/uploads/{other['id']}/cancel", "/uploads/{upload_id}/cancel"
    )


async def test_vector_stores_match_the_spec(
    spec: dict[str, Any], server: MockOpenAIServer, pool: Pool
) -> None:
    file_id = server.add_file(TEXT, filename="pets.txt", purpose="assistants")
    vs = "/vector_stores/{vector_store_id}"
    store = await _ok(
        spec,
        pool,
        server,
        "POST",
        "/vector_stores",
        "/vector_stores",
        {"name": "pets", "file_ids": [file_id]},
    )
    sid = store["id"]
    await _ok(spec, pool, server, "GET", f"/vector_stores/{sid}", vs)
    await _ok(
        spec,
        pool,
        server,
        "POST",
        f"/vector_stores/{sid}",
        vs,
        {"name": "p", "expires_after": {"anchor": "last_active_at", "days": 2}},
    )
    await _ok(spec, pool, server, "GET", "/vector_stores", "/vector_stores")
    await _ok(
        spec,
        pool,
        server,
        "POST",
        f"/vector_stores/{sid}/search",
        vs + "/search",
        {"query": "cats purr"},
    )
    other = server.add_file(b"more text here", filename="more.txt", purpose="assistants")
    await _ok(
        spec,
        pool,
        server,
        "POST",
        f"/vector_stores/{sid}/files",
        vs + "/files",
        {"file_id": other, "attributes": {"k": 1}},
    )
    await _ok(spec, pool, server, "GET", f"/vector_stores/{sid}/files", vs + "/files")
    one = vs + "/files/{file_id}"
    await _ok(spec, pool, server, "GET", f"/vector_stores/{sid}/files/{other}", one)
    await _ok(
        spec,
        pool,
        server,
        "POST",
        f"/vector_stores/{sid}/files/{other}",
        one,
        {"attributes": {"k": "v"}},
    )
    await _ok(
        spec, pool, server, "GET", f"/vector_stores/{sid}/files/{other}/content", one + "/content"
    )
    batch = await _ok(
        spec,
        pool,
        server,
        "POST",
        f"/vector_stores/{sid}/file_batches",
        vs + "/file_batches",
        {"file_ids": [file_id]},
    )
    bid = batch["id"]
    fb = vs + "/file_batches/{batch_id}"
    await _ok(spec, pool, server, "GET", f"/vector_stores/{sid}/file_batches/{bid}", fb)
    await _ok(
        spec, pool, server, "GET", f"/vector_stores/{sid}/file_batches/{bid}/files", fb + "/files"
    )
    await _ok(
        spec,
        pool,
        server,
        "POST",
        f"/vector_stores/{sid}/file_batches/{bid}/cancel",
        fb + "/cancel",
    )
    await _ok(spec, pool, server, "DELETE", f"/vector_stores/{sid}/files/{other}", one)
    await _ok(spec, pool, server, "DELETE", f"/vector_stores/{sid}", vs)


async def test_fine_tuning_matches_the_spec(
    spec: dict[str, Any], server: MockOpenAIServer, pool: Pool
) -> None:
    training = server.add_file(EXAMPLES, filename="t.jsonl", purpose="fine-tune")
    job = await _ok(
        spec,
        pool,
        server,
        "POST",
        "/fine_tuning/jobs",
        "/fine_tuning/jobs",
        {"model": "gpt-4o-mini", "training_file": training, "metadata": {"a": "b"}},
    )
    one = "/fine_tuning/jobs/{fine_tuning_job_id}"
    jid = job["id"]
    await _ok(spec, pool, server, "GET", f"/fine_tuning/jobs/{jid}", one)
    await _ok(spec, pool, server, "GET", "/fine_tuning/jobs", "/fine_tuning/jobs")
    await _ok(spec, pool, server, "GET", f"/fine_tuning/jobs/{jid}/events", one + "/events")
    await _ok(
        spec, pool, server, "GET", f"/fine_tuning/jobs/{jid}/checkpoints", one + "/checkpoints"
    )
    server.batch_delay = 10  # the next job stays in its first stage: it can be cancelled
    other = await _ok(
        spec,
        pool,
        server,
        "POST",
        "/fine_tuning/jobs",
        "/fine_tuning/jobs",
        {"model": "gpt-4o-mini", "training_file": training},
    )
    await _ok(
        spec, pool, server, "POST", f"/fine_tuning/jobs/{other['id']}/cancel", one + "/cancel"
    )


async def test_conversations_match_the_spec(
    spec: dict[str, Any], server: MockOpenAIServer, pool: Pool
) -> None:
    created = await _ok(
        spec,
        pool,
        server,
        "POST",
        "/conversations",
        "/conversations",
        {"items": [{"role": "user", "content": "Hi"}], "metadata": {"a": "b"}},
    )
    cid = created["id"]
    one = "/conversations/{conversation_id}"
    await _ok(spec, pool, server, "GET", f"/conversations/{cid}", one)
    await _ok(spec, pool, server, "POST", f"/conversations/{cid}", one, {"metadata": {"a": "c"}})
    added = await _ok(
        spec,
        pool,
        server,
        "POST",
        f"/conversations/{cid}/items",
        one + "/items",
        {"items": [{"type": "message", "role": "assistant", "content": "Hello"}]},
    )
    await _ok(spec, pool, server, "GET", f"/conversations/{cid}/items", one + "/items")
    item = one + "/items/{item_id}"
    iid = added["data"][0]["id"]
    await _ok(spec, pool, server, "GET", f"/conversations/{cid}/items/{iid}", item)
    await _ok(spec, pool, server, "DELETE", f"/conversations/{cid}/items/{iid}", item)
    await _ok(spec, pool, server, "DELETE", f"/conversations/{cid}", one)


async def test_translations_and_image_forms_match_the_spec(
    spec: dict[str, Any], server: MockOpenAIServer, pool: Pool
) -> None:
    from test_mock_schema import component

    for fmt, name in (
        ("json", "CreateTranslationResponseJson"),
        ("verbose_json", "CreateTranslationResponseVerboseJson"),
    ):
        form = multipart({"model": "whisper-1", "response_format": fmt}, "a.wav", b"RIFF" * 50)
        status, content = await call(pool, server, "POST", "/audio/translations", form)
        assert status == 200
        check(spec, component(name), msgspec.json.decode(content), fmt)
    png = b"\x89PNG\r\n\x1a\n" + bytes(32)
    form = multipart({"prompt": "hat", "n": "2"}, "cat.png", png)
    form = form[0].replace(b'name="file"', b'name="image"'), form[1]
    await _ok(spec, pool, server, "POST", "/images/edits", "/images/edits", form)
    form = multipart({"size": "256x256"}, "cat.png", png)
    form = form[0].replace(b'name="file"', b'name="image"'), form[1]
    await _ok(spec, pool, server, "POST", "/images/variations", "/images/variations", form)
