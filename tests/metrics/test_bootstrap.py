"""Bootstrap intervals over examples, and the eval report's intervals and shown figures."""

from __future__ import annotations

import json
import random
import statistics
from pathlib import Path

from typer.testing import CliRunner

from nextedit.cli import app
from nextedit.metrics.bootstrap import (
    bootstrap_clusters,
    bootstrap_mean,
    bootstrap_paired,
    eval_intervals,
    example_of,
)
from nextedit.metrics.report import build_report

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_interval_contains_the_mean_is_seeded_and_narrows_with_more_examples() -> None:
    rng = random.Random(1)
    small = [rng.gauss(10, 3) for _ in range(30)]
    big = [rng.gauss(10, 3) for _ in range(600)]
    iv = bootstrap_mean(small, seed=3)
    assert iv.lo < iv.mean < iv.hi and iv.n == 30
    assert abs(iv.mean - statistics.fmean(small)) < 1e-9
    assert bootstrap_mean(small, seed=3) == iv  # same seed, same interval
    assert bootstrap_mean(small, seed=4) != iv
    wide, narrow = iv.hi - iv.lo, bootstrap_mean(big, seed=3).hi - bootstrap_mean(big, seed=3).lo
    assert narrow < wide / 3  # ≈ 1/sqrt(20) as wide
    # the normal-theory 95% half-width for 600 draws of σ=3 is ≈ 0.24; the bootstrap agrees roughly
    assert 0.18 < narrow / 2 < 0.30


def test_degenerate_inputs() -> None:
    empty = bootstrap_mean([])
    assert (empty.mean, empty.lo, empty.hi, empty.n) == (None, None, None, 0) and empty.format() == "-"
    one = bootstrap_mean([0.7])
    assert (one.mean, one.lo, one.hi) == (0.7, 0.7, 0.7)
    same = bootstrap_mean([2.0] * 50)
    assert same.lo == same.hi == 2.0 and same.excludes_zero()


def test_clusters_resample_whole_examples() -> None:
    # 10 examples × 20 identical repetitions: the interval is that of 10 values, not of 200
    per_example = [[float(i)] * 20 for i in range(10)]
    clustered = bootstrap_clusters(per_example, seed=0)
    flat = bootstrap_mean([v for c in per_example for v in c], seed=0)
    assert clustered.n == 10 and flat.n == 200
    assert (clustered.hi - clustered.lo) > 3 * (flat.hi - flat.lo)


def test_paired_difference_sees_a_small_consistent_gain() -> None:
    rng = random.Random(0)
    a = {f"ex{i}": rng.uniform(0, 100) for i in range(80)}
    b = {k: v + 1.0 + rng.uniform(-0.5, 0.5) for k, v in a.items()}
    paired = bootstrap_paired(a, b)
    assert paired.excludes_zero() and 0.8 < paired.lo < paired.mean < paired.hi < 1.2
    # unpaired, the same gain drowns in the spread between examples
    unpaired_a, unpaired_b = bootstrap_mean(list(a.values())), bootstrap_mean(list(b.values()))
    assert unpaired_a.hi > unpaired_b.lo


def test_eval_intervals_and_shown_figures() -> None:
    def score(chrf: float, kept: float, empty: bool) -> dict:
        return {"delta_chr_f": chrf, "kept_rate": kept, "empty_prediction": empty}

    rows = [
        ("a", score(0.0, 0.0, True)),
        ("b", score(80.0, 1.0, False)),
        ("c", score(20.0, 0.5, False)),
        ("d", {"excluded": "no expected patch applies"}),
        ("e#0", score(0.0, 0.0, True)),
        ("e#1", score(60.0, 0.5, False)),
    ]
    assert example_of("e#1") == "e" and example_of("a#b") == "a#b"
    iv = eval_intervals(rows, seed=0)
    assert iv["delta_chr_f"].n == 4 and iv["delta_chr_f"].mean == 32.0  # d excluded, e counted once
    assert iv["shown"].mean == 3 / 5 and iv["kept_rate_of_shown"].n == 3
    assert abs(iv["kept_rate_of_shown"].mean - 2 / 3) < 1e-12
    report = build_report(rows, resamples=200, seed=1)
    s = report.summary
    assert (
        s["shown_examples"] == 3
        and s["shown_rate"] == 3 / 5
        and abs(s["avg_kept_rate_of_shown"] - 2 / 3) < 1e-12
    )
    assert s["intervals"]["kept_rate"]["lo"] <= s["avg_kept_rate"] <= s["intervals"]["kept_rate"]["hi"]
    assert s["bootstrap"] == {"resamples": 200, "seed": 1, "unit": "example"}
    text = "\n".join(report.lines)
    assert "95% intervals (bootstrap over 4 examples" in text and "kept rate of shown: 66.67%" in text


def test_eval_cli_prints_and_writes_intervals(tmp_path: Path) -> None:
    summary = tmp_path / "s.json"
    res = CliRunner().invoke(
        app, ["eval", str(EXAMPLES), "-p", "heuristic", "--summary-json", str(summary), "--bootstrap", "300"]
    )
    assert res.exit_code == 0, res.output
    assert "95% intervals (bootstrap over" in res.output and "kept rate of shown" in res.output
    s = json.loads(summary.read_text())
    for figure in ("delta_chr_f", "kept_rate", "shown", "kept_rate_of_shown"):
        iv = s["intervals"][figure]
        assert iv["n"] == 0 or iv["lo"] <= iv["mean"] <= iv["hi"]
    assert abs(s["intervals"]["delta_chr_f"]["mean"] - s["avg_delta_chr_f"]) < 1e-9
