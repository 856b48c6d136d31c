"""format-prompt / parse-output stages end to end on the repository's example cases."""

from pathlib import Path

import pytest

from nextedit.context.example_request import example_request
from nextedit.io.inputs import read_examples
from nextedit.pipeline import OutputInUse, run_stage
from nextedit.prompts.stages import FormatPromptStage, ParseOutputStage
from nextedit.schema.example import Example, Prediction
from nextedit.text.patch import apply_patch, strip_cursor

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _examples() -> list[Example]:
    if not EXAMPLES.is_dir() or not list(EXAMPLES.glob("*.md")):
        pytest.skip("no example cases in examples/")
    return list(read_examples([str(EXAMPLES)]))


@pytest.mark.parametrize("fmt", ["zeta", "zeta2", "zeta2_1", "teacher"])
def test_expected_output_parses_back_to_expected_patch(fmt):
    stage = FormatPromptStage(fmt)
    parse = ParseOutputStage()  # format taken from the provider string
    n = 0
    for ex in _examples():
        out = stage.process(ex)
        assert out is not None and out.prompt.input
        assert out.prompt.provider == stage.format.provider
        if not out.expected_patches or out.prompt.expected_output is None:
            continue
        out.predictions = [Prediction(actual_output=out.prompt.expected_output, provider=out.prompt.provider)]
        parse.process(out)
        pred = out.predictions[0]
        assert pred.error is None, pred.error
        if (
            "<|user_cursor|>" in out.prompt.expected_output
            or "<|user_cursor_is_here|>" in out.prompt.expected_output
        ):
            c = pred.actual_cursor
            assert c is not None and c.editable_region_offset is not None and c.path == out.cursor_path
            assert "<|user_cursor|>" in pred.actual_patch
        request = example_request(out)
        start_row = request.excerpt_start_row or 0
        want = apply_patch(
            request.cursor_excerpt, strip_cursor(out.expected_patches[0])[0], start_row=start_row
        )
        got = apply_patch(request.cursor_excerpt, strip_cursor(pred.actual_patch)[0], start_row=start_row)
        assert got.rstrip("\n") == want.rstrip("\n") or got == want
        n += 1
    assert n >= 5


def test_unparseable_and_unknown_provider_recorded():
    ex = _examples()[0]
    ex = FormatPromptStage("zeta2_1").process(ex)
    ex.predictions = [
        Prediction(actual_output="total garbage", provider="zeta2:V0318SeedMultiRegions"),
        Prediction(actual_output="x", provider="mystery"),
    ]
    ex.prompt.provider = None
    ParseOutputStage().process(ex)
    assert ex.predictions[0].error.startswith("unparseable output") and ex.predictions[0].actual_patch == ""
    assert "pass --format" in ex.predictions[1].error


def test_run_stage_resumable(tmp_path):
    _examples()
    out = tmp_path / "out.jsonl"
    s1 = run_stage(FormatPromptStage("zeta2"), [str(EXAMPLES)], str(out))
    assert s1.stats.written == s1.stats.seen > 0
    s2 = run_stage(FormatPromptStage("zeta2"), [str(EXAMPLES)], str(out))
    assert s2.stats.skipped_resume == s1.stats.written and s2.stats.seen == 0
    # another format is another run: refused unless started over
    with pytest.raises(OutputInUse):
        run_stage(FormatPromptStage("zeta2_1"), [str(EXAMPLES)], str(out))
    s3 = run_stage(FormatPromptStage("zeta2_1"), [str(EXAMPLES)], str(out), resume=False)
    assert s3.stats.seen == s1.stats.written
