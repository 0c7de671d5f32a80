"""``/v1/files`` of the mock server: upload, list, retrieve, content, delete, validation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from _mock_helpers import AUTH, JSON_HEADERS, multipart, send

if TYPE_CHECKING:
    from trio_openai._http._pool import Pool
    from trio_openai.testing import MockOpenAIServer


async def upload(
    pool: Pool, server: MockOpenAIServer, data: bytes, purpose: str, name: str = "data.jsonl"
) -> dict[str, Any]:
    body, ctype = multipart({"purpose": purpose}, {"file": (name, data)})
    r = await send(pool, server, "POST", "/files", body, {**AUTH, "content-type": ctype})
    assert r.status == 200, r.content
    result: dict[str, Any] = r.json()
    return result


async def test_files_upload_list_retrieve_content_delete(
    server: MockOpenAIServer, pool: Pool
) -> None:
    first = await upload(pool, server, b'{"a": 1}\n', "batch", "one.jsonl")
    assert first["object"] == "file"
    assert first["id"].startswith("file-")
    assert first["bytes"] == 9
    assert first["filename"] == "one.jsonl"
    assert first["purpose"] == "batch"
    assert first["status"] == "processed"
    assert first["expires_at"] == first["created_at"] + 30 * 86400
    second = await upload(pool, server, b"x" * 10, "assistants", "two.txt")
    assert second["expires_at"] is None
    third = await upload(pool, server, b"y", "assistants", "three.txt")

    everything = (await send(pool, server, "GET", "/files")).json()
    assert [f["id"] for f in everything["data"]] == [third["id"], second["id"], first["id"]]
    assert everything["has_more"] is False
    assert everything["first_id"] == third["id"]
    assert everything["last_id"] == first["id"]
    page = (await send(pool, server, "GET", "/files?limit=1&order=asc")).json()
    assert [f["id"] for f in page["data"]] == [first["id"]]
    assert page["has_more"] is True
    page = (await send(pool, server, "GET", f"/files?limit=1&order=asc&after={first['id']}")).json()
    assert [f["id"] for f in page["data"]] == [second["id"]]
    only = (await send(pool, server, "GET", "/files?purpose=batch")).json()
    assert [f["id"] for f in only["data"]] == [first["id"]]

    assert (await send(pool, server, "GET", f"/files/{first['id']}")).json() == first
    content = await send(pool, server, "GET", f"/files/{first['id']}/content")
    assert content.content == b'{"a": 1}\n'
    assert content.headers["content-type"] == "application/octet-stream"

    deleted = (await send(pool, server, "DELETE", f"/files/{first['id']}")).json()
    assert deleted == {"id": first["id"], "object": "file", "deleted": True}
    gone = await send(pool, server, "GET", f"/files/{first['id']}")
    assert gone.status == 404
    assert gone.error()["message"] == f"No such File object: {first['id']}"


async def test_files_validate_purpose_and_expiry(server: MockOpenAIServer, pool: Pool) -> None:
    body, ctype = multipart({"purpose": "nonsense"}, {"file": ("a", b"a")})
    r = await send(pool, server, "POST", "/files", body, {**AUTH, "content-type": ctype})
    assert r.status == 400
    assert r.error()["param"] == "purpose"
    body, ctype = multipart({"purpose": "batch"}, {})
    r = await send(pool, server, "POST", "/files", body, {**AUTH, "content-type": ctype})
    assert r.status == 400
    assert r.error()["param"] == "file"
    body, ctype = multipart(
        {
            "purpose": "user_data",
            "expires_after[anchor]": "created_at",
            "expires_after[seconds]": "7200",
        },
        {"file": ("a", b"a")},
    )
    r = await send(pool, server, "POST", "/files", body, {**AUTH, "content-type": ctype})
    assert r.json()["expires_at"] == r.json()["created_at"] + 7200
    r = await send(pool, server, "POST", "/files", b"{}", JSON_HEADERS)
    assert r.status == 400
    assert r.error()["code"] == "unsupported_content_type"
