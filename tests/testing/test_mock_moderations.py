"""``/v1/moderations`` of the mock server."""

from __future__ import annotations

from typing import TYPE_CHECKING

from _mock_helpers import send

if TYPE_CHECKING:
    from trio_openai._http._pool import Pool
    from trio_openai.testing import MockOpenAIServer


async def test_moderations_flag_violent_text(server: MockOpenAIServer, pool: Pool) -> None:
    body = {"input": ["I will kill the process", "a lovely day"]}
    r = (await send(pool, server, "POST", "/moderations", body)).json()
    assert r["id"].startswith("modr-")
    assert r["model"] == "omni-moderation-latest"
    flagged, calm = r["results"]
    assert flagged["flagged"] is True
    assert flagged["categories"]["violence"] is True
    assert calm["flagged"] is False
    assert not any(calm["categories"].values())
    for result in r["results"]:
        assert set(result["categories"]) == set(result["category_scores"])
        assert set(result["categories"]) == set(result["category_applied_input_types"])
        assert len(result["categories"]) == 13
