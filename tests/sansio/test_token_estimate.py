"""Token estimates, sans-IO: what a request body will count against a token budget."""

from __future__ import annotations

from trio_openai._resilience._token_estimate import estimate_tokens

# --------------------------------------------------------------------------- estimates


def test_chat_estimate_counts_text_messages_and_output() -> None:
    body = {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "x" * 400},
            {"role": "user", "content": [{"type": "text", "text": "y" * 400}]},
        ],
        "max_completion_tokens": 50,
    }
    # 800 characters of text / 4 = 200; 4 per message + 3 to prime the reply; output 50.
    assert estimate_tokens(body) == 200 + 11 + 50


def test_chat_without_max_tokens_uses_the_default_allowance_times_n() -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "hello"}], "n": 3}
    assert estimate_tokens(body) == 2 + 7 + 3 * 256
    assert estimate_tokens(body, default_output_tokens=10) == 2 + 7 + 30


def test_embeddings_estimate_has_no_output_and_counts_token_ids() -> None:
    assert estimate_tokens({"model": "text-embedding-3-small", "input": "a" * 40}) == 10
    assert (
        estimate_tokens({"model": "x", "input": [[1, 2, 3], [4]]}, endpoint="/v1/embeddings") == 4
    )
    assert (
        estimate_tokens({"model": "x", "input": ["abcd", "efgh"], "encoding_format": "float"}) == 2
    )


def test_completions_and_responses_estimates() -> None:
    assert estimate_tokens({"model": "m", "prompt": "abcd" * 10}) == 10 + 16
    assert estimate_tokens({"model": "m", "prompt": "abcd", "max_tokens": 5, "best_of": 2}) == 11
    assert (
        estimate_tokens(
            {"model": "m", "input": "abcdefgh", "instructions": "abcd"}, endpoint="/v1/responses"
        )
        == 3 + 256
    )
    assert estimate_tokens({"model": "m", "input": "abcd", "max_output_tokens": 100}) == 101


def test_images_and_tools_count_and_blobs_do_not() -> None:
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64," + "A" * 10_000}}
    body = {"model": "m", "messages": [{"role": "user", "content": [image]}], "max_tokens": 0}
    assert estimate_tokens(body) == 765 + 7
    tools = [{"type": "function", "function": {"name": "get", "parameters": {"type": "object"}}}]
    with_tools = estimate_tokens({**body, "tools": tools})
    assert with_tools > estimate_tokens(body)


def test_estimate_tolerates_odd_bodies() -> None:
    assert estimate_tokens({}) == 256
    assert estimate_tokens({"messages": "not a list", "max_tokens": "ten"}) >= 0
    deep: object = "x"
    for _ in range(200):
        deep = [deep]
    assert estimate_tokens({"input": deep, "max_output_tokens": 0}) == 0
