"""`nextedit compare`: paired differences of two scored runs, per kind and language, and the plot."""

from __future__ import annotations

import json
import random
from pathlib import Path

from typer.testing import CliRunner

from nextedit.cli import app
from nextedit.metrics.compare import compare_runs
from nextedit.schema.example import Example


def _runs(n: int = 60) -> tuple[list[Example], list[Example]]:
    """B beats A by ≈ 10 delta chrF on renames, ties on insertions; B shows more often."""
    rng = random.Random(7)
    a, b = [], []
    for i in range(n):
        kind = "rename" if i % 2 else "insertion"
        lang = "python" if i % 3 else "rust"
        base = rng.uniform(0, 50)
        gain = 10.0 + rng.uniform(-2, 2) if kind == "rename" else 0.0
        tags = ["case:next-hunk", f"kind:{kind}", f"lang:{lang}"]
        for runs, chrf, shown in ((a, base, False), (b, base + gain, kind == "rename")):
            score = {"delta_chr_f": chrf, "kept_rate": 0.5 if shown else 0.0, "empty_prediction": not shown}
            runs.append(Example(name=f"ex{i}", tags=tags, score=[score]))
    a.append(Example(name="only-a", tags=["kind:rename"], score=[{"delta_chr_f": 1.0}]))
    b[0] = b[0].model_copy(update={"score": [{"excluded": "no expected patch applies"}]})
    return a, b


def test_paired_differences_per_group() -> None:
    a, b = _runs()
    result = compare_runs(a, b, seed=0)
    assert result.pairs == 59 and result.only_in_a == ["only-a"] and result.excluded == ["ex0"]
    rows = {(r.group, r.figure): r for r in result.rows}
    assert result.groups() == ["all", "kind:insertion", "kind:rename", "lang:python", "lang:rust"]
    rename = rows[("kind:rename", "delta_chr_f")]
    assert rename.diff.excludes_zero() and 8 < rename.diff.lo < rename.diff.mean < rename.diff.hi < 12
    assert rename.diff.n == 30 and abs(rename.b - rename.a - rename.diff.mean) < 1e-9
    insertion = rows[("kind:insertion", "delta_chr_f")]
    assert insertion.diff.mean == insertion.diff.lo == insertion.diff.hi == 0.0  # identical on every pair
    assert rows[("all", "shown")].diff.mean > 0 and rows[("kind:rename", "kept_rate")].diff.mean == 0.5
    assert compare_runs(a, b, seed=0).to_dict() == result.to_dict()  # seeded


def test_compare_cli_table_plot_and_json(tmp_path: Path) -> None:
    a, b = _runs()
    paths = []
    for name, run in (("a", a), ("b", b)):
        p = tmp_path / f"{name}.jsonl"
        p.write_text("".join(ex.to_json() + "\n" for ex in run), encoding="utf-8")
        paths.append(str(p))
    plot, summary = tmp_path / "out" / "cmp.png", tmp_path / "cmp.json"
    res = CliRunner().invoke(app, ["compare", *paths, "--plot", str(plot), "--summary-json", str(summary)])
    assert res.exit_code == 0, res.output
    assert "kind:rename" in res.output and "lang:rust" in res.output and "only in A: 1" in res.output
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = json.loads(summary.read_text())["rows"]
    assert {r["group"] for r in rows} >= {"all", "kind:rename", "lang:python"}


def test_compare_refuses_unscored_files(tmp_path: Path) -> None:
    p = tmp_path / "plain.jsonl"
    p.write_text(Example(name="x").to_json() + "\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["compare", str(p), str(p)])
    assert res.exit_code == 2 and "scored examples" in res.output
    res = CliRunner().invoke(app, ["compare", str(p), str(tmp_path / "missing.jsonl")])
    assert res.exit_code == 2 and "missing.jsonl" in res.output
