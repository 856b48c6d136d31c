import pytest

from nextedit.context.example_prediction import prediction_from_edit
from nextedit.context.example_request import example_request
from nextedit.io.inputs import read_examples
from nextedit.metrics.score import score_example
from nextedit.predict.heuristic import HeuristicProvider, complete_identifier, propagate_rename
from nextedit.predict.registry import get_provider
from nextedit.predict.stage import PredictStage
from nextedit.schema.prediction import EditPrediction
from nextedit.schema.provider import Provider
from nextedit.text.patch import apply_patch


def _run(spec, paths, repetitions=1):
    stage = PredictStage(get_provider(spec), repetitions=repetitions)
    out = list(stage.run(read_examples([str(p) for p in paths])))
    return stage, out


def test_oracle_is_perfect_on_bundled_examples(examples_dir):
    _, examples = _run("oracle", [examples_dir])
    assert len(examples) >= 5
    for ex in examples:
        (s,) = score_example(ex)
        assert s["delta_chr_f"] == pytest.approx(100.0), ex.name
        assert s["actual_patch_applied"] in (True, None), ex.name
        if ex.expected_patches:
            assert s["exact_lines_f1"] == 1.0, ex.name
            if s["cursor_evaluated"]:
                assert s["cursor_exact_match"], ex.name


def test_none_scores_zero_where_an_edit_is_expected(examples_dir):
    _, examples = _run("none", [examples_dir])
    with_edits = [ex for ex in examples if ex.expected_patches]
    assert with_edits
    for ex in with_edits:
        (s,) = score_example(ex)
        assert s["delta_chr_f"] == 0.0 and s["exact_lines_f1"] == 0.0, ex.name
        assert s["empty_prediction"]
    for ex in examples:
        if not ex.expected_patches:  # expected "no edit": doing nothing is right
            assert score_example(ex)[0]["delta_chr_f"] == 100.0


def test_heuristic_gets_the_spec_rename_case(spec_case_dir):
    _, (ex,) = _run("heuristic", [spec_case_dir])
    (s,) = score_example(ex)
    assert s["delta_chr_f"] == pytest.approx(100.0)
    assert s["exact_lines_f1"] == 1.0
    assert s["reversal_ratio"] == 0.0
    assert ex.predictions[0].provider == "heuristic"


def test_heuristic_on_bundled_rename(examples_dir):
    paths = list(examples_dir.glob("*rename*.md"))
    if not paths:
        pytest.skip("no rename example bundled")
    _, examples = _run("heuristic", paths)
    for ex in examples:
        (s,) = score_example(ex)
        assert s["delta_chr_f"] == pytest.approx(100.0), ex.name


def test_oracle_and_none_on_own_case(spec_case_dir):
    _, (ex,) = _run("oracle", [spec_case_dir])
    assert score_example(ex)[0]["delta_chr_f"] == pytest.approx(100.0)
    _, (ex,) = _run("none", [spec_case_dir], repetitions=2)
    assert len(ex.predictions) == 2
    assert [s["delta_chr_f"] for s in score_example(ex)] == [0.0, 0.0]


def test_example_request_infers_start_row(spec_case_dir):
    (ex,) = read_examples([spec_case_dir])
    req = example_request(ex)
    assert req.cursor_excerpt.startswith("def restock(item, quantity):")
    assert req.cursor_excerpt.encode()[: req.cursor_offset_in_excerpt].endswith(b"quantity")
    # history hunk @@ +10: two blank lines then "def restock" = buffer row 11 (0-based)
    assert req.excerpt_start_row == 11
    assert req.events and req.events[0].path == "inventory/stock.py"
    assert req.excerpt_ranges.editable_350 is not None
    req.validate_offsets()


def test_prediction_from_edit_region_patch_and_cursor(spec_case_dir):
    (ex,) = read_examples([spec_case_dir])
    req = example_request(ex)
    data = req.excerpt_bytes()
    start = data.index(b"    item.count")
    end = data.index(b"\n", start)
    edit = EditPrediction(output="    item.count += quantity", editable_range=(start, end), cursor_offset=26)
    pred = prediction_from_edit(req, edit, "fake")
    assert "-    item.count += qty" in pred.actual_patch
    assert "+    item.count += quantity<|user_cursor|>" in pred.actual_patch
    assert pred.actual_cursor.editable_region_offset == 26
    assert pred.actual_cursor.offset == start + 26
    assert pred.actual_cursor.row == req.excerpt_start_row + 3
    new = apply_patch(req.cursor_excerpt, pred.actual_patch, req.cursor_path, start_row=req.excerpt_start_row)
    assert "item.count += quantity\n" in new
    # "no edit" conventions
    assert prediction_from_edit(req, EditPrediction("", (0, 0)), "fake").actual_patch == ""
    same = data[start:end].decode()
    assert prediction_from_edit(req, EditPrediction(same, (start, end)), "fake").actual_patch == ""


class _Boom(Provider):
    name = "boom"

    def predict(self, request, *, cancel=None, cache_key=None):
        raise RuntimeError("model exploded")


def test_provider_errors_are_recorded(spec_case_dir):
    stage = PredictStage(_Boom())
    (ex,) = stage.run(read_examples([spec_case_dir]))
    (p,) = ex.predictions
    assert p.error == "RuntimeError: model exploded" and p.actual_patch == "" and p.provider == "boom"
    assert stage.stats.counters["prediction errors"] == 1
    assert not stage.is_complete(ex.model_copy(update={"predictions": []}))
    assert stage.is_complete(ex)


def test_registry():
    assert get_provider("none").name == "none"
    assert get_provider("oracle").name == "oracle"
    assert get_provider("heuristic").name == "heuristic"
    with pytest.raises(ValueError, match="unknown provider"):
        get_provider("gpt-17")
    with pytest.raises(ValueError, match="URL"):
        get_provider("openai-compatible")


def test_propagate_rename_rules():
    diff = "@@ -1,3 +1,3 @@\n-def f(qty):\n+def f(quantity):\n     pass\n"
    region = "def f(quantity):\n    x = qty + 1\n    obj.qty = qty\n    g(qty=qty)\n    qtyx = 2\n"
    out = propagate_rename(region, diff)
    assert out == "def f(quantity):\n    x = quantity + 1\n    obj.qty = quantity\n    g(qty=quantity)\n    qtyx = 2\n"
    attr_diff = "@@ -1 +1 @@\n-    self.size = n\n+    self.capacity = n\n"
    assert propagate_rename("return self.size + size\n", attr_diff) == "return self.capacity + size\n"
    assert propagate_rename("nothing here\n", diff) is None
    span_diff = "@@ -1 +1 @@\n-    t = datetime.utcnow()\n+    t = datetime.now(timezone.utc)\n"
    assert propagate_rename("u = datetime.utcnow().x\n", span_diff) == "u = datetime.now(timezone.utc).x\n"


def test_complete_identifier():
    corpus = ["total_price = 0\nfor item in items:\n    total_price += item.price\n    tot"]
    text = corpus[0]
    assert complete_identifier(text, "", corpus, len(text)) == "al_price"
    # a fragment that is itself a common identifier is left alone
    c2 = ["err = f()\nif err:\n    raise error\nerr"]
    assert complete_identifier(c2[0], "", c2, len(c2[0])) is None
    # mid-word or too short: nothing
    assert complete_identifier("x = to", "tal", corpus, 6) is None
    assert complete_identifier("x = t", "", corpus, 5) is None


def test_heuristic_no_edit_without_signal(spec_case_dir):
    (ex,) = read_examples([spec_case_dir])
    req = example_request(ex)
    req.events = []
    edit = HeuristicProvider().predict(req)
    assert edit.is_no_edit(req.cursor_excerpt)
