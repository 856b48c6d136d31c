"""``nextedit bench ab`` prints power figures (a tiny run: the figures' shape, not their values)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from nextedit.bench.ab import bench_ab
from nextedit.cli import app


def test_bench_ab_cli_prints_and_writes_figures(tmp_path: Path) -> None:
    out = tmp_path / "power.json"
    args = [
        "bench",
        "ab",
        "--users",
        "300",
        "--lift",
        "0",
        "--lift",
        "0.5",
        "--sims",
        "40",
        "--json",
        str(out),
    ]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "power" in res.stdout and "alpha spending" in res.stdout
    rows = json.loads(out.read_text())
    assert [r["lift"] for r in rows] == ["+0%", "+50%"]
    big = rows[1]
    assert big["fixed_cuped"] > 0.9 and big["alpha_spending"] > 0.9 and big["msprt"] > 0.5
    assert all(0 <= r[k] <= 1 for r in rows for k in ("fixed_plain", "msprt", "alpha_spending"))


def test_bench_ab_reports_rows_as_they_finish() -> None:
    seen: list[dict] = []
    rows = bench_ab(users=[200], lifts=[0.0], sims=20, looks=4, on_row=seen.append)
    assert seen == rows and rows[0]["users_per_arm"] == 200
