"""The Realtime benchmark runs end to end at a tiny size (no speed is asserted)."""

from __future__ import annotations

import pytest


@pytest.mark.slow
def test_bench_realtime_smoke(capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks.bench_realtime import main

    result = main(["--smoke"])
    row = result["rows"][0]  # type: ignore[index]
    assert row["ours"] > 0 and row["theirs"] > 0
    assert "floor: trio-websocket + json.loads" in capsys.readouterr().out
