"""The Batch API of the mock server: validation, the lifecycle, output files, cancel."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec
import pytest
import trio

from trio_openai.testing import MockOpenAIServer, open_mock_server

if TYPE_CHECKING:
    from trio_openai._http._pool import Pool

AUTH = {"authorization": "Bearer sk-test"}
JSON_HEADERS = {**AUTH, "content-type": "application/json"}
TERMINAL = {"completed", "failed", "cancelled", "expired"}


def line(custom_id: str, body: dict[str, Any], url: str = "/v1/chat/completions") -> bytes:
    item = {"custom_id": custom_id, "method": "POST", "url": url, "body": body}
    return msgspec.json.encode(item) + b"\n"


def chat_body(i: int) -> dict[str, Any]:
    return {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"question {i}"}]}


async def upload(pool: Pool, server: MockOpenAIServer, data: bytes, purpose: str = "batch") -> str:
    boundary = "batchboundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\n{purpose}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="in.jsonl"\r\n'
            "Content-Type: application/jsonl\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    headers = {**AUTH, "content-type": f"multipart/form-data; boundary={boundary}"}
    r = await pool.request("POST", server.base_url + "/files", headers=headers, body=body)
    assert r.status == 200, r.content
    file_id: str = msgspec.json.decode(r.content)["id"]
    return file_id


async def api(
    pool: Pool, server: MockOpenAIServer, method: str, path: str, body: Any = None
) -> tuple[int, Any]:
    r = await pool.request(
        method,
        server.base_url + path,
        headers=JSON_HEADERS if body is not None else AUTH,
        body=msgspec.json.encode(body) if body is not None else None,
    )
    data = bytes(r.content)
    if r.headers["content-type"] == "application/json":
        return r.status, msgspec.json.decode(data)
    return r.status, data


async def create(
    pool: Pool, server: MockOpenAIServer, file_id: str, endpoint: str = "/v1/chat/completions"
) -> dict[str, Any]:
    status, batch = await api(
        pool,
        server,
        "POST",
        "/batches",
        {
            "input_file_id": file_id,
            "endpoint": endpoint,
            "completion_window": "24h",
            "metadata": {"job": "nightly"},
        },
    )
    assert status == 200, batch
    result: dict[str, Any] = batch
    return result


async def wait_terminal(pool: Pool, server: MockOpenAIServer, batch_id: str) -> dict[str, Any]:
    for _ in range(500):
        status, batch = await api(pool, server, "GET", f"/batches/{batch_id}")
        assert status == 200
        if batch["status"] in TERMINAL:
            result: dict[str, Any] = batch
            return result
        await trio.sleep(0.01)
    raise AssertionError(f"batch {batch_id} did not finish: {batch['status']}")


async def test_batch_of_100_lines_with_failures_end_to_end(pool: Pool) -> None:
    async with open_mock_server() as server:
        data = b""
        failing = set()
        for i in range(100):
            body = chat_body(i)
            if i % 10 == 3:
                del body["model"]
                failing.add(f"req-{i}")
            data += line(f"req-{i}", body)
        file_id = await upload(pool, server, data)
        batch = await create(pool, server, file_id)
        assert batch["object"] == "batch"
        assert batch["id"].startswith("batch_")
        assert batch["status"] == "validating"
        assert batch["endpoint"] == "/v1/chat/completions"
        assert batch["completion_window"] == "24h"
        assert batch["metadata"] == {"job": "nightly"}
        assert batch["expires_at"] == batch["created_at"] + 86400

        done = await wait_terminal(pool, server, batch["id"])
        assert done["status"] == "completed"
        assert done["request_counts"] == {"total": 100, "completed": 90, "failed": 10}
        assert done["model"] == "gpt-4o-mini"
        assert "errors" not in done  # unset fields are left out
        stamps = [
            done[k] for k in ("created_at", "in_progress_at", "finalizing_at", "completed_at")
        ]
        assert stamps == sorted(stamps)
        assert "failed_at" not in done
        assert "cancelled_at" not in done
        assert done["usage"]["total_tokens"] == (
            done["usage"]["input_tokens"] + done["usage"]["output_tokens"]
        )

        _status, output_file = await api(pool, server, "GET", f"/files/{done['output_file_id']}")
        assert output_file["purpose"] == "batch_output"
        _, output = await api(pool, server, "GET", f"/files/{done['output_file_id']}/content")
        _, errors = await api(pool, server, "GET", f"/files/{done['error_file_id']}/content")
        ok_lines = [msgspec.json.decode(x) for x in output.splitlines()]
        bad_lines = [msgspec.json.decode(x) for x in errors.splitlines()]
        assert len(ok_lines) == 90
        assert len(bad_lines) == 10
        assert {x["custom_id"] for x in bad_lines} == failing
        assert {x["custom_id"] for x in ok_lines} == {f"req-{i}" for i in range(100)} - failing
        request_ids = set()
        for x in ok_lines:
            assert set(x) == {"id", "custom_id", "response", "error"}
            assert x["id"].startswith("batch_req_")
            assert x["error"] is None
            assert x["response"]["status_code"] == 200
            assert x["response"]["body"]["object"] == "chat.completion"
            request_ids.add(x["response"]["request_id"])
        assert len(request_ids) == 90
        for x in bad_lines:
            assert x["response"]["status_code"] == 400
            assert x["response"]["body"]["error"]["param"] == "model"
            assert x["error"] is None

        _, listing = await api(pool, server, "GET", "/batches")
        assert [b["id"] for b in listing["data"]] == [batch["id"]]
        assert listing["has_more"] is False
        assert server.stats.requests == len(server.requests)  # batch lines are not requests
        assert server.errors == []


async def test_batch_states_can_be_watched_with_a_delay(
    pool: Pool, autojump_clock: trio.abc.Clock
) -> None:
    async with open_mock_server(batch_delay=1.0) as server:
        data = b"".join(line(f"r{i}", chat_body(i)) for i in range(3))
        batch = await create(pool, server, await upload(pool, server, data))
        seen = [batch["status"]]
        for _ in range(100):
            await trio.sleep(0.25)
            _, current = await api(pool, server, "GET", f"/batches/{batch['id']}")
            if current["status"] != seen[-1]:
                seen.append(current["status"])
            if current["status"] in TERMINAL:
                break
        assert seen == ["validating", "in_progress", "finalizing", "completed"]
        assert current["request_counts"]["completed"] == 3


async def test_batch_cancel_keeps_partial_results(
    pool: Pool, autojump_clock: trio.abc.Clock
) -> None:
    async with open_mock_server(batch_delay=1.0) as server:
        data = b"".join(line(f"r{i}", chat_body(i)) for i in range(20))
        batch = await create(pool, server, await upload(pool, server, data))
        await trio.sleep(5.5)
        status, cancelling = await api(pool, server, "POST", f"/batches/{batch['id']}/cancel")
        assert status == 200
        assert cancelling["status"] == "cancelling"
        assert cancelling["cancelling_at"] is not None
        done = await wait_terminal(pool, server, batch["id"])
        assert done["status"] == "cancelled"
        assert done["cancelled_at"] is not None
        completed = done["request_counts"]["completed"]
        assert 0 < completed < 20
        _, output = await api(pool, server, "GET", f"/files/{done['output_file_id']}/content")
        assert len(output.splitlines()) == completed

        status, refused = await api(pool, server, "POST", f"/batches/{batch['id']}/cancel")
        assert status == 200
        assert refused["status"] == "cancelled"


async def test_cancelling_a_completed_batch_is_refused(pool: Pool) -> None:
    async with open_mock_server() as server:
        batch = await create(pool, server, await upload(pool, server, line("a", chat_body(1))))
        await wait_terminal(pool, server, batch["id"])
        status, body = await api(pool, server, "POST", f"/batches/{batch['id']}/cancel")
        assert status == 400
        assert body["error"]["message"] == "Cannot cancel a batch with status 'completed'."


@pytest.mark.parametrize(
    ("data", "code", "line_number"),
    [
        (line("a", chat_body(1)) + line("a", chat_body(2)), "duplicate_custom_id", 2),
        (line("a", chat_body(1)) + b"{not json\n", "invalid_json_line", 2),
        (line("a", chat_body(1), url="/v1/embeddings"), "mismatched_endpoint", 1),
        (line("a", chat_body(1), url="/v1/nope"), "invalid_url", 1),
        (
            b'{"custom_id": "a", "method": "GET", "url": "/v1/chat/completions", "body": {}}\n',
            "invalid_method",
            1,
        ),
        (
            b'{"method": "POST", "url": "/v1/chat/completions", "body": {}}\n',
            "missing_required_parameter",
            1,
        ),
        (b"\n\n", "empty_file", None),
    ],
)
async def test_malformed_input_files_fail_the_batch(
    pool: Pool, data: bytes, code: str, line_number: int | None
) -> None:
    async with open_mock_server() as server:
        batch = await create(pool, server, await upload(pool, server, data))
        done = await wait_terminal(pool, server, batch["id"])
        assert done["status"] == "failed"
        assert done["failed_at"] is not None
        assert done["errors"]["object"] == "list"
        codes = [(e["code"], e["line"]) for e in done["errors"]["data"]]
        assert (code, line_number) in codes
        assert "output_file_id" not in done


async def test_batch_create_checks_the_input_file(pool: Pool) -> None:
    async with open_mock_server() as server:
        status, body = await api(
            pool,
            server,
            "POST",
            "/batches",
            {
                "input_file_id": "file-missing",
                "endpoint": "/v1/chat/completions",
                "completion_window": "24h",
            },
        )
        assert status == 404
        assert body["error"]["param"] == "input_file_id"
        other = await upload(pool, server, line("a", chat_body(1)), purpose="assistants")
        status, body = await api(
            pool,
            server,
            "POST",
            "/batches",
            {
                "input_file_id": other,
                "endpoint": "/v1/chat/completions",
                "completion_window": "24h",
            },
        )
        assert status == 400
        assert body["error"]["code"] == "invalid_file_purpose"
        status, body = await api(
            pool,
            server,
            "POST",
            "/batches",
            {"input_file_id": other, "endpoint": "/v1/chat/completions", "completion_window": "1h"},
        )
        assert status == 400
        assert body["error"]["param"] == "completion_window"
        assert (await api(pool, server, "GET", "/batches/batch_nope"))[0] == 404


async def test_embeddings_batches_and_batch_pagination(pool: Pool) -> None:
    async with open_mock_server() as server:
        ids = []
        for i in range(3):
            data = line(
                f"e{i}", {"model": "text-embedding-3-small", "input": "x"}, "/v1/embeddings"
            )
            batch = await create(pool, server, await upload(pool, server, data), "/v1/embeddings")
            ids.append(batch["id"])
            done = await wait_terminal(pool, server, batch["id"])
            assert done["status"] == "completed"
        _, output = await api(pool, server, "GET", f"/files/{done['output_file_id']}/content")
        assert msgspec.json.decode(output)["response"]["body"]["object"] == "list"
        _, page = await api(pool, server, "GET", "/batches?limit=2")
        assert [b["id"] for b in page["data"]] == [ids[2], ids[1]]
        assert page["has_more"] is True
        _, page = await api(pool, server, "GET", f"/batches?limit=2&after={ids[1]}")
        assert [b["id"] for b in page["data"]] == [ids[0]]
        assert page["has_more"] is False
