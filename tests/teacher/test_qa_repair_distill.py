"""``QaStage``, ``RepairStage`` and ``DistillStage`` through the real openai SDK and the replay server:
judge answers with and without fences and malformed ones, the repair rules and its answers
(``KEEP_PREVIOUS``, ``NO_EDITS``, a new region), skipping what is done, and the distilled labels."""

from __future__ import annotations

from dataclasses import replace

import pytest

from nextedit.llm.replay import Reply
from nextedit.pipeline import run_stage
from nextedit.prompts.teacher import FENCE
from nextedit.teacher import DistillStage, QaStage, RepairStage, TeacherStage
from nextedit.teacher.repair import needs_repair
from nextedit.teacher.word_diff import word_diff
from tests.teacher.frontier import (
    NEW_LINE,
    block,
    good_region,
    judge_json,
    kv_example,
    read_jsonl,
    reverting_answer,
    write_jsonl,
)


def run(stage, tmp_path, examples, name):  # noqa: ANN001, ANN201
    src = write_jsonl(tmp_path / f"{name}.in.jsonl", examples)
    out = tmp_path / f"{name}.jsonl"
    run_stage(stage, [str(src)], str(out), resume=False)
    return read_jsonl(out)


def taught(llm, tmp_path, n=1):  # noqa: ANN001, ANN201
    return run(TeacherStage(llm), tmp_path, [kv_example(i) for i in range(n)], "teacher")


JUDGE_CASES = {
    "fenced": (judge_json(4), (4, False, None)),
    "prose around bare JSON": (judge_json(2, reverts=True, fenced=False), (2, True, None)),
    "no JSON": ("Looks fine to me, 5/5.", (None, None, "no JSON object")),
    "confidence out of range": (
        '```json\n{"reasoning": "x", "reverts_edits": false, "confidence": 9}\n```',
        (None, False, "confidence is not an integer 1-5"),
    ),
    "truncated": (Reply(text='{"reasoning": "the pre', finish_reason="length"), (None, None, "truncated")),
}


@pytest.mark.parametrize("case", list(JUDGE_CASES))
def test_judge_answers(case, frontier, llm, tmp_path) -> None:  # noqa: ANN001
    answer, (confidence, reverts, error) = JUDGE_CASES[case]
    frontier.scripts["qa"] = lambda _prompt: answer
    [ex] = run(QaStage(llm), tmp_path, taught(llm, tmp_path), "qa")
    [qa] = ex.qa
    assert (qa.confidence, qa.reverts_edits) == (confidence, reverts)
    assert (error is None and qa.error is None) or error in qa.error
    assert qa.response  # the judge's raw text is kept


def test_the_judge_sees_word_diffs_and_the_region(frontier, llm, tmp_path) -> None:  # noqa: ANN001
    run(QaStage(llm), tmp_path, taught(llm, tmp_path), "qa")
    prompt = frontier.answered[-1]
    assert f"{{+{NEW_LINE}+}}\n" in prompt  # the predicted patch, word-diffed, no cursor
    assert "{+    pub max_retries: u32,+}" in prompt  # the edit history, word-diffed
    assert "<|editable_region_start|>" in prompt and "<|user_cursor|>" in prompt


def test_no_patch_no_judge(frontier, llm, tmp_path) -> None:  # noqa: ANN001
    frontier.scripts["teacher"] = lambda _p: f"{FENCE}\nNO_EDITS\n{FENCE}"
    [ex] = run(QaStage(llm), tmp_path, taught(llm, tmp_path), "qa")
    assert ex.qa == [None]
    assert frontier.kinds == ["teacher"]


def test_word_diff_marks_changed_tokens() -> None:
    patch = (
        "--- a/x.py\n+++ b/x.py\n@@ -1,3 +1,3 @@\n def f(a):\n-    return a + 1\n+    return a + 2\n-y = 2\n"
    )
    assert word_diff(patch) == (
        "--- a/x.py\n+++ b/x.py\n@@ -1,3 +1,3 @@\ndef f(a):\n    return a + [-1-]{+2+}\n[-y = 2-]\n"
    )


def judged(frontier, llm, tmp_path, teacher, verdict):  # noqa: ANN001, ANN201
    frontier.scripts["teacher"] = teacher
    frontier.scripts["qa"] = lambda _p: verdict
    return run(QaStage(llm), tmp_path, taught(llm, tmp_path), "qa")


def test_repair_keep_previous_copies_the_patch(frontier, llm, tmp_path) -> None:  # noqa: ANN001
    examples = judged(frontier, llm, tmp_path, reverting_answer, judge_json(1, reverts=True))
    stage = RepairStage(llm)
    [ex] = run(stage, tmp_path, examples, "repair")
    teacher, repair = ex.predictions
    assert repair.provider == "repair" and repair.actual_output == "KEEP_PREVIOUS"
    assert repair.actual_patch == teacher.actual_patch and repair.error is None
    assert frontier.kinds[-1] == "repair"
    message = frontier.answered[-1]
    assert "# Repair Request" in message and "- **Reverts user edits**: yes" in message
    assert "- **Confidence score**: 1/5" in message and "KEEP_PREVIOUS" in message
    assert "[-    pub max_retries: u32,-]" in message  # the previous prediction, word-diffed


def test_repair_rewrites_and_no_edits(frontier, llm, tmp_path) -> None:  # noqa: ANN001
    examples = judged(frontier, llm, tmp_path, reverting_answer, judge_json(2))
    frontier.scripts["repair"] = lambda prompt: "Better:\n\n" + block(good_region(prompt))
    [fixed] = run(RepairStage(llm), tmp_path, examples, "repair")
    assert f"+{NEW_LINE}<|user_cursor|>" in fixed.predictions[-1].actual_patch

    frontier.scripts["repair"] = lambda _p: f"{FENCE}\nNO_EDITS\n{FENCE}"
    fresh = replace(llm, cache=str(tmp_path / "other_cache.sqlite"))  # the same conversation, asked anew
    [dropped] = run(RepairStage(fresh, confidence_threshold=3), tmp_path, examples, "repair3")
    assert dropped.predictions[-1].actual_patch == "" and dropped.predictions[-1].error is None


def test_repair_skips_what_needs_none_or_is_done(server, frontier, llm, tmp_path) -> None:  # noqa: ANN001
    good = judged(frontier, llm, tmp_path, lambda p: "ok\n\n" + block(good_region(p)), judge_json(4))
    assert not needs_repair(good[0])
    before = server.model_requests()
    stage = RepairStage(llm)
    [same] = run(stage, tmp_path, good, "repair")
    assert len(same.predictions) == 1 and server.model_requests() == before
    assert stage.stats.counters["no repair needed"] == 1

    llm = replace(llm, cache=str(tmp_path / "other_cache.sqlite"))  # the teacher asked anew
    bad = judged(frontier, llm, tmp_path, reverting_answer, judge_json(1))
    repaired = run(RepairStage(llm), tmp_path, bad, "repair")
    n = server.model_requests()
    again = RepairStage(llm)
    [ex] = run(again, tmp_path, repaired, "repair2")
    assert server.model_requests() == n and again.stats.counters["already repaired"] == 1
    assert [p.provider for p in ex.predictions] == ["teacher:frontier", "repair"]


def test_repair_without_qa_uses_the_scores(frontier, llm, tmp_path) -> None:  # noqa: ANN001
    [ex] = taught(llm, tmp_path)
    ex.score = [{"reversal_ratio": 0.95, "deleted_tokens": 150, "inserted_tokens": 3}]
    assert needs_repair(ex)
    run(RepairStage(llm), tmp_path, [ex], "repair")
    message = frontier.answered[-1]
    assert "automated scoring flagged" in message and "high reversal ratio (0.95)" in message
    assert "Deleted tokens: 150" in message and "more scoped edit" in message


def test_distill_prefers_the_repair_and_drops_the_llm_fields(frontier, llm, tmp_path) -> None:  # noqa: ANN001
    examples = judged(frontier, llm, tmp_path, reverting_answer, judge_json(1))
    frontier.scripts["repair"] = lambda prompt: block(good_region(prompt))
    repaired = run(RepairStage(llm), tmp_path, examples, "repair")
    [ex] = run(DistillStage(), tmp_path, repaired, "distill")
    assert ex.expected_patches == [repaired[0].predictions[-1].actual_patch]
    assert "<|user_cursor|>" in ex.expected_patches[0]
    data = ex.to_dict()
    assert not {"prompt", "predictions", "score", "qa"} & data.keys()


def test_distill_takes_every_teacher_patch_and_drops_unusable(frontier, llm, tmp_path) -> None:  # noqa: ANN001
    answers = iter([lambda p: block(good_region(p)), lambda p: "no block"])
    frontier.scripts["teacher"] = lambda p: next(answers)(p)
    examples = taught(llm, tmp_path, n=2)
    stage = DistillStage()
    out = run(stage, tmp_path, examples, "distill")
    assert [ex.name for ex in out] == [examples[0].name]
    assert out[0].expected_patches == [examples[0].predictions[0].actual_patch]
    assert stage.stats.dropped["no usable prediction"] == 1
