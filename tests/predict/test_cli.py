import json

from typer.testing import CliRunner

from nextedit.cli import app
from nextedit.io.inputs import read_examples

SUMMARY_KEYS = {
    "total_examples", "avg_delta_chr_f", "delta_chr_f_beta", "delta_chr_f_true_positives",
    "delta_chr_f_false_positives", "delta_chr_f_false_negatives", "delta_chr_f_precision",
    "delta_chr_f_recall", "avg_braces_disbalance", "exact_lines_tp", "exact_lines_fp", "exact_lines_fn",
    "exact_lines_precision", "exact_lines_recall", "exact_lines_f1", "avg_reversal_ratio",
    "qa_avg_reverts_edits", "qa_avg_confidence", "cursor_exact_match_rate", "cursor_exact_matches",
    "cursor_avg_distance", "cursor_total_evaluated", "wrong_editable_region_rate",
    "isolated_whitespace_rate", "isolated_whitespace_count", "avg_kept_rate", "kept_rate_examples",
    "avg_recall_rate", "recall_rate_examples", "total_kept_chars", "total_correctly_deleted_chars",
    "total_discarded_chars", "avg_retrieved_context_bytes", "total_retrieved_context_bytes",
    "editable_context_precision", "editable_context_recall", "editable_context_f1",
    "jump_location_precision", "jump_location_recall", "jump_location_f1",
}

runner = CliRunner()


def test_eval_oracle_end_to_end(examples_dir, tmp_path):
    summary = tmp_path / "summary.json"
    res = runner.invoke(app, ["eval", str(examples_dir), "--provider", "oracle", "--summary-json", str(summary)])
    assert res.exit_code == 0, res.output
    assert "TOTAL / AVERAGE" in res.output
    data = json.loads(summary.read_text())
    assert set(data) >= SUMMARY_KEYS
    assert data["avg_delta_chr_f"] == 100.0
    assert data["exact_lines_f1"] == 1.0
    assert data["total_examples"] == len(list(examples_dir.glob("*.md")))
    assert data["delta_chr_f_beta"] == 0.5


def test_predict_score_eval_pipeline(spec_case_dir, tmp_path):
    pred = tmp_path / "pred.jsonl"
    scored = tmp_path / "scored.jsonl"
    res = runner.invoke(app, ["predict", str(spec_case_dir), "--provider", "heuristic", "-o", str(pred)])
    assert res.exit_code == 0, res.output
    (ex,) = read_examples([pred])
    assert ex.predictions[0].provider == "heuristic" and ex.predictions[0].actual_patch
    res = runner.invoke(app, ["score", str(pred), "-o", str(scored)])
    assert res.exit_code == 0, res.output
    (ex,) = read_examples([scored])
    assert ex.score[0]["delta_chr_f"] == 100.0
    summary = tmp_path / "s.json"
    res = runner.invoke(
        app, ["eval", str(scored), "--beta", "2", "--whitespace", "ignore", "--summary-json", str(summary), "-v"]
    )
    assert res.exit_code == 0, res.output
    data = json.loads(summary.read_text())
    assert data["delta_chr_f_beta"] == 2.0 and data["avg_delta_chr_f"] == 100.0


def test_eval_none_and_bad_provider(spec_case_dir, tmp_path):
    summary = tmp_path / "s.json"
    res = runner.invoke(app, ["eval", str(spec_case_dir), "-p", "none", "--summary-json", str(summary)])
    assert res.exit_code == 0, res.output
    assert json.loads(summary.read_text())["avg_delta_chr_f"] == 0.0
    res = runner.invoke(app, ["eval", str(spec_case_dir), "-p", "nonsense"])
    assert res.exit_code != 0
