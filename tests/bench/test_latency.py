"""`nextedit bench latency` runs end to end on a tiny real model and reports sane figures."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from nextedit.bench.latency import bench_latency, percentile, typed_one_more  # noqa: E402
from nextedit.context.example_request import example_request  # noqa: E402
from nextedit.io.inputs import read_examples  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def test_percentile_nearest_rank() -> None:
    assert percentile([5.0, 1.0, 3.0], 50) == 3.0
    assert percentile([1.0, 2.0, 3.0, 4.0, 100.0], 99) == 100.0


def test_typed_one_more_moves_cursor_and_ranges() -> None:
    ex = next(iter(read_examples([ROOT / "examples"])))
    req = example_request(ex)
    after = typed_one_more(req)
    assert after.cursor_offset_in_excerpt == req.cursor_offset_in_excerpt + 1
    assert len(after.excerpt_bytes()) == len(req.excerpt_bytes()) + 1
    old = req.excerpt_ranges.editable_350
    new = after.excerpt_ranges.editable_350
    assert new.end == old.end + 1 and new.start == old.start


def test_bench_latency_rows(tiny_model_dir: Path) -> None:
    rows = bench_latency(str(tiny_model_dir), [str(ROOT / "examples")], limit=3, modes=(True, False), max_output_tokens=4)
    assert [r["run"] for r in rows] == ["spec/cold/idle", "spec/warm/idle", "greedy/cold/idle", "greedy/warm/idle"]
    for r in rows:
        assert r["n"] == 3
        assert 0 < r["p50_ms"] <= r["p95_ms"] <= r["p99_ms"]
    greedy = rows[2]
    assert greedy["passes_per_token"] == pytest.approx(1.0, abs=0.05)
    assert rows[0]["passes_per_token"] <= greedy["passes_per_token"]
