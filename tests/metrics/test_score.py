import pytest

from nextedit.metrics.report import build_report, percentile, summarize, summary_lines
from nextedit.metrics.score import ScoreStage, score_example, score_prediction
from nextedit.schema.example import Example, Prediction, QaResult

EXCERPT = "def area(w, h):\n    return w * h\n\n\ndef main():\n    print(area(2, 3))\n"
CURSOR_POSITION = EXCERPT.replace("return w * h", "return w * h<|user_cursor|>")
FIX = "--- a/geo.py\n+++ b/geo.py\n@@ -1,2 +1,2 @@\n def area(w, h):\n-    return w * h\n+    return abs(w * h)<|user_cursor|>\n"
ALT = "--- a/geo.py\n+++ b/geo.py\n@@ -1,2 +1,2 @@\n def area(w, h):\n-    return w * h\n+    return w * h * 1\n"


def _example(patches, **kw):
    return Example(name="geo", cursor_path="geo.py", cursor_position=CURSOR_POSITION, expected_patches=patches, **kw)


def test_perfect_prediction():
    ex = _example([FIX])
    s = score_prediction(ex, Prediction(actual_patch=FIX))
    assert s["delta_chr_f"] == pytest.approx(100.0)
    assert (s["exact_lines_tp"], s["exact_lines_fp"], s["exact_lines_fn"]) == (2, 0, 0)
    assert s["kept_rate"] == 1.0 and s["recall_rate"] == 1.0
    assert s["cursor_evaluated"] and s["cursor_exact_match"] and s["cursor_distance"] == 0
    assert s["actual_patch_applied"] is True and s["expected_patch_index"] == 0
    assert s["braces_disbalance"] == 0 and not s["wrong_editable_region"]


def test_best_of_alternatives_is_kept():
    ex = _example([FIX, ALT])
    s = score_prediction(ex, Prediction(actual_patch=ALT))
    assert s["expected_patch_index"] == 1 and s["delta_chr_f"] == pytest.approx(100.0)
    assert not s["cursor_evaluated"]  # ALT has no cursor


def test_patch_that_does_not_apply_scores_as_no_edit():
    ex = _example([FIX])
    bad = "--- a/geo.py\n+++ b/geo.py\n@@ -1 +1 @@\n-not in the file\n+x\n"
    s = score_prediction(ex, Prediction(actual_patch=bad))
    assert s["actual_patch_applied"] is False and "context not found" in s["actual_patch_error"]
    garbage = score_prediction(ex, Prediction(actual_patch="this is not a diff\n+ but has a plus line\n"))
    assert garbage["delta_chr_f"] == 0.0 and garbage["actual_patch_applied"] is False
    assert garbage["actual_patch_error"].startswith("PatchError")
    assert s["delta_chr_f"] == 0.0 and s["empty_prediction"]
    # an unapplied patch contributes no changed lines
    assert s["exact_lines_fp"] == 0


def test_no_expected_patch_means_no_edit_expected():
    ex = _example([])
    assert score_prediction(ex, Prediction(actual_patch=""))["delta_chr_f"] == 100.0
    assert score_prediction(ex, Prediction(actual_patch=FIX))["delta_chr_f"] == 0.0


def test_cursor_distance_and_noop_cursor_pair():
    ex = _example([FIX])
    # same edit, cursor 2 bytes earlier
    moved = FIX.replace("abs(w * h)<|user_cursor|>", "abs(w * <|user_cursor|>h)")
    s = score_prediction(ex, Prediction(actual_patch=moved))
    assert s["cursor_distance"] == 2 and not s["cursor_exact_match"]
    assert s["delta_chr_f"] == pytest.approx(100.0)
    # a -x/+x pair that only carries the cursor marker (what region_patch writes) is not a change
    carrier = (
        "--- a/geo.py\n+++ b/geo.py\n@@ -1,2 +1,2 @@\n-def area(w, h):\n-    return w * h\n"
        "+def area(w, h):<|user_cursor|>\n+    return abs(w * h)\n"
    )
    s = score_prediction(ex, Prediction(actual_patch=carrier))
    assert (s["exact_lines_tp"], s["exact_lines_fp"], s["exact_lines_fn"]) == (2, 0, 0)
    assert s["delta_chr_f"] == pytest.approx(100.0)
    assert s["cursor_distance"] == len("\n    return abs(w * h)")


def test_prompt_inputs_excerpt_is_preferred():
    pi = {"cursor_path": "geo.py", "cursor_excerpt": EXCERPT, "cursor_offset_in_excerpt": 0, "excerpt_start_row": 0,
          "events": [], "related_files": [{"path": "x.py", "excerpts": [{"text": "abcd"}]}]}
    ex = Example(name="g", cursor_path="geo.py", cursor_position="broken, no marker", expected_patches=[FIX],
                 prompt_inputs=pi)
    s = score_prediction(ex, Prediction(actual_patch=FIX))
    assert s["delta_chr_f"] == pytest.approx(100.0) and s["retrieved_context_bytes"] == 4


def test_reversal_in_score_uses_history():
    hist = "--- a/geo.py\n+++ b/geo.py\n@@ -1,2 +1,2 @@\n def area(w, h):\n-    return w + h\n+    return w * h\n"
    ex = _example([FIX], edit_history=hist)
    undo = "--- a/geo.py\n+++ b/geo.py\n@@ -1,2 +1,2 @@\n def area(w, h):\n-    return w * h\n+    return w + h\n"
    assert score_prediction(ex, Prediction(actual_patch=undo))["reversal_ratio"] == 1.0
    assert score_prediction(ex, Prediction(actual_patch=FIX))["reversal_ratio"] == 0.0


def test_score_stage_and_qa_copy():
    ex = _example([FIX], predictions=[Prediction(actual_patch=FIX), Prediction(actual_patch="")],
                  qa=[QaResult(reverts_edits=False, confidence=5), None])
    stage = ScoreStage()
    (out,) = stage.run([ex])
    assert len(out.score) == 2 and out.score[0]["qa_confidence"] == 5 and "qa_confidence" not in out.score[1]
    assert stage.is_complete(out)
    broken = Example(name="b", cursor_position="no marker", predictions=[Prediction(actual_patch="")])
    (kept,) = stage.run([broken])
    assert kept.score == [] and stage.stats.messages[0].startswith("warning: b: cannot score")


def test_summary_pooling_and_means():
    ex = _example([FIX], predictions=[Prediction(actual_patch=FIX), Prediction(actual_patch="")])
    scores = score_example(ex)
    summary = summarize(scores)
    assert summary["total_examples"] == 2
    assert summary["avg_delta_chr_f"] == pytest.approx(50.0)
    # pooled: TP 2 (first) + FN 2 (second)
    assert (summary["exact_lines_tp"], summary["exact_lines_fp"], summary["exact_lines_fn"]) == (2, 0, 2)
    assert summary["exact_lines_precision"] == 1.0 and summary["exact_lines_recall"] == 0.5
    assert summary["exact_lines_f1"] == pytest.approx(2 / 3)
    assert summary["cursor_total_evaluated"] == 2 and summary["cursor_exact_matches"] == 1
    assert summary["cursor_exact_match_rate"] == 0.5 and summary["cursor_avg_distance"] == 0
    assert summary["qa_avg_confidence"] is None and summary["jump_location_f1"] is None
    assert summary["kept_rate_examples"] == 2
    assert any(line.startswith("Delta chrF (β=0.5)") for line in summary_lines(summary))


def test_summary_of_nothing():
    s = summarize([])
    assert s["total_examples"] == 0 and s["avg_delta_chr_f"] == 0.0 and s["cursor_exact_match_rate"] is None


def test_percentile_nearest_rank():
    assert percentile([], 50) is None
    assert percentile([5], 99) == 5
    vals = list(range(1, 11))  # n=10: index round(p/100*9)
    assert [percentile(vals, p) for p in (25, 50, 75, 90, 99)] == [3, 5, 8, 9, 10]


def test_prompt_inputs_events_with_worktree_prefix():
    pi = {
        "cursor_path": "proj/geo.py", "cursor_excerpt": EXCERPT, "cursor_offset_in_excerpt": 10,
        "excerpt_start_row": 0, "related_files": None,
        "events": [{"event": "BufferChange", "path": "proj/geo.py", "old_path": "proj/geo.py",
                    "diff": "@@ -1,2 +1,2 @@\n def area(w, h):\n-    return w + h\n+    return w * h\n"}],
    }
    ex = Example(name="g", cursor_path="geo.py", cursor_position="x", expected_patches=[FIX], prompt_inputs=pi)
    undo = "--- a/geo.py\n+++ b/geo.py\n@@ -1,2 +1,2 @@\n def area(w, h):\n-    return w * h\n+    return w + h\n"
    s = score_prediction(ex, Prediction(actual_patch=undo))
    assert s["reversal_ratio"] == 1.0 and s["retrieved_context_bytes"] is None


def test_blank_line_at_cursor_is_not_isolated_whitespace():
    # cursor on row 2 (0-based; the blank line after `return`), prediction adds a blank line there
    cursor_position = EXCERPT.replace("\n\n\ndef main", "\n<|user_cursor|>\n\ndef main")
    ex = Example(name="w", cursor_path="geo.py", cursor_position=cursor_position, expected_patches=[])
    at_cursor = "--- a/geo.py\n+++ b/geo.py\n@@ -2,2 +2,3 @@\n     return w * h\n+\n \n"
    elsewhere = "--- a/geo.py\n+++ b/geo.py\n@@ -5,2 +5,3 @@\n def main():\n+\n     print(area(2, 3))\n"
    assert not score_prediction(ex, Prediction(actual_patch=at_cursor))["has_isolated_whitespace_changes"]
    assert score_prediction(ex, Prediction(actual_patch=elsewhere))["has_isolated_whitespace_changes"]


STALE = "--- a/geo.py\n+++ b/geo.py\n@@ -1,2 +1,2 @@\n def perimeter(w, h):\n-    return w + h\n+    return 2 * (w + h)\n"


def test_example_whose_expected_patch_does_not_apply_is_excluded():
    broken = _example([STALE], predictions=[Prediction(actual_patch="")])
    (s,) = score_example(broken)
    assert "no expected patch applies" in s["excluded"] and "expected patch 0" in s["excluded"]
    assert "delta_chr_f" not in s  # nothing to average: "no edit" is not the expected answer
    good = _example([FIX], predictions=[Prediction(actual_patch=FIX)])
    summary = summarize([s, *score_example(good)])
    assert summary["total_examples"] == 1 and summary["excluded_examples"] == 1
    assert summary["avg_delta_chr_f"] == pytest.approx(100.0)


def test_one_stale_alternative_among_good_ones_still_scores():
    (s,) = score_example(_example([STALE, FIX], predictions=[Prediction(actual_patch=FIX)]))
    assert "excluded" not in s and s["expected_patch_index"] == 1 and s["expected_patch_errors"]


def test_report_names_the_excluded_examples():
    rows = [
        ("geo-good", score_example(_example([FIX], predictions=[Prediction(actual_patch="")]))[0]),
        ("geo-stale", score_example(_example([STALE], predictions=[Prediction(actual_patch="")]))[0]),
    ]
    report = build_report(rows)
    assert report.summary["excluded_example_names"] == ["geo-stale"]
    assert report.rows[1][:2] == ["geo-stale", "excluded"]
    (warning,) = report.warnings
    assert warning.startswith("1 of 2 predictions excluded from every average") and "geo-stale" in warning
    assert report.lines[0].startswith("Scored: 1 predictions; excluded from the averages: 1")
    assert report.total[1] == "0.00"  # the good example's "none" answer; the stale one is not in it


def test_score_stage_reports_exclusion():
    stage = ScoreStage()
    ex = _example([STALE], predictions=[Prediction(actual_patch="")]).model_copy(update={"name": "stale"})
    list(stage.run([ex]))
    assert stage.stats.messages[0].startswith("warning: stale: excluded from the averages")


def test_score_warnings_and_counts_are_the_same_in_worker_processes(tmp_path):
    """The stage's warnings and counters travel back from worker processes as its stats."""
    from nextedit.pipeline import ExampleReader, LocalExecutor, MemoryWriter, run_pipeline

    examples = [
        _example([FIX], predictions=[Prediction(actual_patch=FIX)]).model_copy(update={"name": "ok"}),
        _example([STALE], predictions=[Prediction(actual_patch="")]).model_copy(update={"name": "stale"}),
        Example(name="broken", cursor_position="no marker", predictions=[Prediction(actual_patch="")]),
        _example([FIX]).model_copy(update={"name": "unpredicted"}),
    ] * 2
    path = tmp_path / "in.jsonl"
    path.write_text("".join(ex.to_json() + "\n" for ex in examples))
    runs = []
    for workers in (1, 2):
        stage = ScoreStage()
        run_pipeline([ExampleReader([str(path)]), stage, MemoryWriter()], LocalExecutor(workers), shard_size=2)
        runs.append((dict(stage.stats.counters), sorted(stage.stats.messages)))
    (counters, messages), other = runs
    assert other == runs[0]
    assert counters["excluded: no expected patch applies"] == 2 and counters["no predictions"] == 2
    assert len(messages) == 4 and sum("warning: broken: cannot score" in m for m in messages) == 2
