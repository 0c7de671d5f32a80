"""``/v1/models`` of the mock server: list, retrieve, delete."""

from __future__ import annotations

from typing import TYPE_CHECKING

from _mock_helpers import send

if TYPE_CHECKING:
    from trio_openai._http._pool import Pool
    from trio_openai.testing import MockOpenAIServer


async def test_models_list_retrieve_and_delete(server: MockOpenAIServer, pool: Pool) -> None:
    listing = (await send(pool, server, "GET", "/models")).json()
    assert listing["object"] == "list"
    assert "has_more" not in listing
    ids = [m["id"] for m in listing["data"]]
    assert "gpt-4o-mini" in ids
    model = (await send(pool, server, "GET", "/models/gpt-4o-mini")).json()
    assert model == {
        "id": "gpt-4o-mini",
        "object": "model",
        "created": model["created"],
        "owned_by": "system",
    }
    missing = await send(pool, server, "GET", "/models/nope")
    assert missing.status == 404
    assert missing.error()["code"] == "model_not_found"

    base = await send(pool, server, "DELETE", "/models/gpt-4o-mini")
    assert base.status == 403
    assert base.error()["param"] == "model"

    (ft,) = [i for i in ids if i.startswith("ft:")]
    deleted = await send(pool, server, "DELETE", f"/models/{ft}")
    assert deleted.json() == {"id": ft, "object": "model", "deleted": True}
    assert (await send(pool, server, "DELETE", f"/models/{ft}")).status == 404
    assert ft not in [m["id"] for m in (await send(pool, server, "GET", "/models")).json()["data"]]
