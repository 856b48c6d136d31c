"""``TeacherStage`` through the real openai SDK against the replay server: every answer shape the
§3.4 parser must handle, repetitions, the cache (a rerun makes no request), the CLI."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from nextedit.cli.app import app
from nextedit.llm.replay import Reply
from nextedit.pipeline import run_stage
from nextedit.prompts.teacher import FENCE
from nextedit.teacher import TeacherStage
from tests.teacher.frontier import (
    NEW_LINE,
    block,
    good_answer,
    good_region,
    kv_example,
    read_jsonl,
    region_of,
    write_jsonl,
)


def run_teacher(llm, tmp_path, examples, **kw):  # noqa: ANN001, ANN201
    src = write_jsonl(tmp_path / "in.jsonl", examples)
    out = tmp_path / "out.jsonl"
    stage = run_stage(TeacherStage(llm, **kw), [str(src)], str(out), resume=False)
    return stage, read_jsonl(out)


CASES = {
    "good region": (good_answer, "edit"),
    "prose around the block": (
        lambda p: "Thinking aloud first.\n\n" + block(good_region(p)) + "\n\nThat completes the constructor.",
        "edit",
    ),
    "NO_EDITS in a fence": (lambda p: f"Nothing follows.\n\n{FENCE}\nNO_EDITS\n{FENCE}\n", "no edit"),
    "NO_EDITS bare": (lambda p: "The change is complete. NO_EDITS", "no edit"),
    "NO_EDITS in a three-backtick fence": (lambda p: "Done.\n```\nNO_EDITS\n```", "no edit"),
    "unclosed fence": (
        lambda p: f"Here it is:\n\n{FENCE}\n<|editable_region_start|>\n{good_region(p)}",
        "error:unparseable",
    ),
    "no block at all": (lambda p: "I think the user should add a field.", "error:unparseable"),
    "region that does not match the prompt": (
        lambda p: block('fn main() {\n    println!("hello");\n}\n'),
        "error:does not match",
    ),
    "truncated output": (
        lambda p: Reply(text=good_answer(p)[:80], finish_reason="length"),
        "error:truncated",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_every_answer_shape_becomes_a_prediction(case, frontier, llm, tmp_path) -> None:  # noqa: ANN001
    script, expect = CASES[case]
    frontier.scripts["teacher"] = script
    stage, [ex] = run_teacher(llm, tmp_path, [kv_example()])
    [pred] = ex.predictions
    assert pred.provider == "teacher:frontier"
    assert pred.actual_output  # the raw answer is always kept
    if expect == "edit":
        assert pred.error is None
        assert f"+{NEW_LINE}<|user_cursor|>" in pred.actual_patch  # the cursor inline in the patch
        assert pred.actual_cursor is not None and pred.actual_cursor.row == 14
        assert stage.stats.counters["predictions with an edit"] == 1
    elif expect == "no edit":
        assert pred.error is None and pred.actual_patch == ""
    else:
        assert pred.error and expect.split(":", 1)[1] in pred.error
        assert pred.actual_patch == ""
        assert stage.stats.counters["predictions with error"] == 1
    assert stage.stats.counters["llm.http_attempts"] == 1
    assert stage.stats.counters["llm.prompt_tokens"] == 100


def test_the_teacher_prompt_has_the_section_structure(frontier, llm, tmp_path) -> None:  # noqa: ANN001
    run_teacher(llm, tmp_path, [kv_example()])
    [prompt] = frontier.answered
    for header in (
        "# Instructions",
        "## Rules",
        "## Examples",
        "# 1. Edit History",
        "# 2. Related Code",
        "# 3. Current File",
    ):
        assert f"\n{header}\n" in "\n" + prompt
    assert "+    pub max_retries: u32," in prompt  # the edit history
    assert "    pub max_retries: u32,<|user_cursor|>\n" in prompt  # the cursor in the current file
    assert "pub max_retries: u32," in region_of(prompt)
    assert prompt.endswith("predict the user's next edit within the editable region.")


def test_repetitions_are_separate_requests_and_a_rerun_makes_none(server, frontier, llm, tmp_path) -> None:  # noqa: ANN001
    examples = [kv_example(i) for i in range(3)]
    stage, out = run_teacher(llm, tmp_path, examples, repetitions=2)
    assert [len(ex.predictions) for ex in out] == [2, 2, 2]
    assert server.model_requests() == 6  # seed 0 and seed 1 of each example
    assert {body["seed"] for _, body in server.bodies} == {0, 1}
    assert stage.stats.counters["llm.answers"] == 6

    again, out2 = run_teacher(llm, tmp_path, examples, repetitions=2)
    assert server.model_requests() == 6  # all from the cache
    assert again.stats.counters["llm.cache_hits"] == 6
    assert [ex.to_json() for ex in out2] == [ex.to_json() for ex in out]


def test_an_example_already_answered_passes_through(server, llm, tmp_path) -> None:  # noqa: ANN001
    _, out = run_teacher(llm, tmp_path, [kv_example()])
    before = server.model_requests()
    stage, out2 = run_teacher(llm, tmp_path, out)
    assert server.model_requests() == before
    assert stage.stats.counters["already done"] == 1
    assert out2[0].predictions == out[0].predictions


def test_a_failed_request_is_a_prediction_with_error(server, llm, tmp_path) -> None:  # noqa: ANN001
    from nextedit.llm.replay import Fault

    server.faults.extend([Fault.error(500), Fault.error(500)])  # both attempts fail
    _, [ex] = run_teacher(llm, tmp_path, [kv_example()])
    [pred] = ex.predictions
    assert pred.error.startswith("error:") and pred.actual_patch == ""


def test_cli_runs_the_stage_and_reports_tokens_and_cost(server, llm, tmp_path) -> None:  # noqa: ANN001
    src = write_jsonl(tmp_path / "in.jsonl", [kv_example(i) for i in range(2)])
    out = tmp_path / "out.jsonl"
    args = ["teacher", str(src), "-o", str(out), "--llm", llm.backend, "--cache", llm.cache]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "2 answers (0 cached), 2 requests sent, 0 failed, 200+40 tokens" in result.output
    assert [len(ex.predictions) for ex in read_jsonl(out)] == [1, 1]
    again = CliRunner().invoke(app, [*args[:3], str(tmp_path / "again.jsonl"), *args[4:], "--cache-only"])
    assert again.exit_code == 0, again.output
    assert "(2 cached), 0 requests sent" in again.output
    assert server.model_requests() == 2


def test_cli_bad_backend_is_one_line(tmp_path) -> None:  # noqa: ANN001
    src = write_jsonl(tmp_path / "in.jsonl", [kv_example()])
    result = CliRunner().invoke(app, ["teacher", str(src), "--llm", "gpt-5"])
    assert result.exit_code == 2
    assert "expected anthropic:MODEL" in result.output


@pytest.mark.parametrize("executor", ["local", "ray"])
def test_the_stage_runs_in_worker_processes_and_on_ray(executor, server, llm, tmp_path) -> None:  # noqa: ANN001
    if executor == "ray":
        pytest.importorskip("ray")
    from nextedit.pipeline import ExampleReader, ExampleWriter, make_executor, run_pipeline

    examples = [kv_example(i) for i in range(4)]
    src = write_jsonl(tmp_path / "in.jsonl", examples)
    out = tmp_path / "out.jsonl"
    stage = TeacherStage(llm)
    run_pipeline(
        [ExampleReader([str(src)]), stage, ExampleWriter(str(out))],
        executor=make_executor(executor, 2),
        shard_size=2,
    )
    result = read_jsonl(out)
    assert [ex.name for ex in result] == [ex.name for ex in examples]
    assert all(f"+{NEW_LINE}<|user_cursor|>" in ex.predictions[0].actual_patch for ex in result)
    assert server.model_requests() == 4
    assert stage.stats.counters["llm.answers"] == 4  # the workers' figures, merged


def test_a_spent_error_budget_stops_the_run_and_a_rerun_resumes(server, llm, tmp_path) -> None:  # noqa: ANN001
    from dataclasses import replace

    from nextedit.llm.replay import Fault
    from nextedit.teacher.llm_stage import RunStopped

    examples = [kv_example(i) for i in range(40)]
    src = write_jsonl(tmp_path / "in.jsonl", examples)
    out = tmp_path / "out.jsonl"
    flaky = replace(llm, max_attempts=1, error_budget=3, max_parallelism=1)
    server.faults.extend(Fault.error(500, match=f"endpoint_{i}:") for i in range(20, 40))
    with pytest.raises(RunStopped, match="stopped after 3 consecutive failed requests"):
        run_stage(TeacherStage(flaky), [str(src)], str(out))
    assert server.model_requests() == 23  # 20 answers, then 3 failures, then nothing more
    assert len(read_jsonl(out)) == 16  # the finished shard; the rest is redone on resume

    server.faults.clear()
    run_stage(TeacherStage(flaky), [str(src)], str(out))
    result = read_jsonl(out)
    assert [ex.name for ex in result] == [ex.name for ex in examples]
    assert all(not ex.predictions[0].error for ex in result)
    assert server.model_requests() == 23 + 20  # the 20 answered ones came from the cache


def test_batched_answers_are_collected_by_a_rerun_in_place(server, llm, tmp_path) -> None:  # noqa: ANN001
    src = write_jsonl(tmp_path / "in.jsonl", [kv_example(i) for i in range(3)])
    out = tmp_path / "out.jsonl"
    args = ["--llm", llm.backend, "--cache", llm.cache, "--batch"]
    first = CliRunner().invoke(app, ["teacher", str(src), "-o", str(out), *args])
    assert first.exit_code == 0, first.output
    assert "3 requests wait in provider batches" in first.output
    assert all(ex.predictions[0].error.startswith("pending:") for ex in read_jsonl(out))
    assert server.counts["batches.create"] == 1 and server.model_requests() == 0

    second = CliRunner().invoke(app, ["teacher", str(out), "--in-place", *args])
    assert second.exit_code == 0, second.output
    result = read_jsonl(out)
    assert all(f"+{NEW_LINE}<|user_cursor|>" in ex.predictions[0].actual_patch for ex in result)
    assert server.counts["batches.create"] == 1  # collected, not submitted again
