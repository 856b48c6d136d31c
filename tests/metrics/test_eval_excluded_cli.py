"""`nextedit eval` on real .md cases, one of which has an expected patch that does not apply."""

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from nextedit.cli import app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_eval_excludes_and_names_cases_whose_expected_patch_does_not_apply(tmp_path):
    good = EXAMPLES / "ledger--import-after-use.md"
    shutil.copy(good, tmp_path / good.name)
    stale = good.read_text(encoding="utf-8").replace(" import java.util.List;\n+import", " import java.util.Set;\n+import")
    assert stale != good.read_text(encoding="utf-8")
    (tmp_path / "stale--patch-context-changed.md").write_text(stale, encoding="utf-8")
    summary_path = tmp_path / "summary.json"

    res = CliRunner().invoke(app, ["eval", str(tmp_path), "-p", "none", "--summary-json", str(summary_path)])

    assert res.exit_code == 0, res.output
    assert "1 of 2 predictions excluded from every average" in res.output
    assert "stale--patch-context-changed" in res.output.split("excluded from every average")[1]
    summary = json.loads(summary_path.read_text())
    assert summary["total_examples"] == 1 and summary["excluded_examples"] == 1
    assert summary["excluded_example_names"] == ["stale--patch-context-changed"]
    assert summary["avg_delta_chr_f"] == 0.0  # "none" on the good case; not 50 from the stale one
