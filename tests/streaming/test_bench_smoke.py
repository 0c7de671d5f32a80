"""The streaming benchmarks still run (tiny sizes), so they cannot rot unnoticed.

No speed is asserted: the numbers are for humans (see each benchmark's docstring).
"""

from __future__ import annotations

import pytest

pytest.importorskip("openai")  # the SDK is the other contender


def test_bench_sse_smoke(capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks import bench_sse

    results = bench_sse.main(["--smoke"])
    assert results["events"] == 2001
    for name in ("trio_openai decoder", "openai SDK decoder"):
        summary = results[name]
        assert isinstance(summary, dict)
        assert summary["median"] > 0
    assert "events/s" in capsys.readouterr().out


# The official SDK leaves the async generators behind its streams to the garbage
# collector even after `async with stream` (seen with openai 3.x), which trio reports
# as a ResourceWarning; that is the SDK's, not ours, and the benchmark must still run.
@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_bench_stream_smoke(capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks import bench_stream

    results = bench_stream.main(["--smoke"])
    throughput = results["throughput"]
    assert isinstance(throughput, dict)
    for contender in ("ours", "sdk", "floor"):
        assert throughput[contender]["wall"]["median"] > 0
        assert throughput[contender]["cpu"]["median"] > 0
    memory = results["memory"]
    assert isinstance(memory, dict)
    assert set(memory) == {"ours", "sdk", "floor"}
    assert all(m["peak_kib"] >= m["baseline_kib"] > 0 for m in memory.values())
    assert "chunks/s" in capsys.readouterr().out
