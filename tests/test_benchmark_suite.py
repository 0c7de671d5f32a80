"""The benchmark suite runs end to end at tiny sizes, so it cannot rot.

No speed is asserted here: figures come from full runs (``python -m benchmarks``).
"""

from __future__ import annotations

import json
import pathlib

import pytest


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::ResourceWarning")  # the SDK's own stream generators
def test_suite_smoke(tmp_path: object, capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks.__main__ import SUITE, main, render_table

    result = main(
        [
            "--smoke",
            "--only",
            "bench_transport",
            "bench_client",
            "bench_embeddings",
            "bench_import",
            "bench_sse",
            "bench_jobs",
            "bench_realtime",
        ]
    )
    rows = result["rows"]
    scenarios = {row["scenario"] for row in rows}
    assert any("transport" in s for s in scenarios)
    assert any("chat.completions.create" in s for s in scenarios)
    assert any("over TLS 1.3" in s for s in scenarios), scenarios
    assert any("added over a bare `import trio`" in s for s in scenarios)
    with_floor = [row for row in rows if "floor" in row]
    assert len(with_floor) >= 4  # the client rows: sequential and 64, plain and TLS
    assert all(row["floor"] > 0 and row["ratio_floor"] > 0 for row in with_floor)
    assert any("embeddings" in s for s in scenarios)
    assert any("import" in s for s in scenarios)
    assert any("runner" in s.lower() for s in scenarios), scenarios
    assert any("Realtime" in s for s in scenarios), scenarios
    for row in rows:
        assert row["ours"] >= 0 and row["theirs"] >= 0, row
    assert "| scenario |" in render_table(rows)
    assert "bench_stream" in SUITE  # smoke-tested in tests/streaming
    out = capsys.readouterr().out
    assert "ours / theirs" in out and "ours / floor" in out


def test_the_docs_table_shows_the_range_over_every_full_run_of_the_commit(
    tmp_path: pathlib.Path,
) -> None:
    from benchmarks.__main__ import render_table, run_ranges

    def save(name: str, ratio: float, *, smoke: bool = False) -> None:
        row = {"scenario": "s", "unit": "req/s", "ours": 1.0, "theirs": 1.0, "ratio": ratio}
        saved = {"meta": {"smoke": smoke}, "results": {"bench_x": {"rows": [row]}}}
        (tmp_path / name).write_text(json.dumps(saved))

    save("20261205T100000Z-abc1234.json", 7.5)
    save("20261205T110000Z-abc1234.json", 7.1)
    save("20261205T120000Z-abc1234.json", 1.0, smoke=True)  # not a full run
    save("20261205T130000Z-fff0000.json", 2.0)  # another commit
    ranges = run_ranges(str(tmp_path), "abc1234")
    assert ranges == {"s": (2, 7.1, 7.5)}
    row = {"scenario": "s", "unit": "req/s", "ours": 1.0, "theirs": 1.0, "ratio": 7.5}
    assert "| 7.10-7.50x (2 runs) |" in render_table([row], ranges)
    assert "every run" not in render_table([row])
