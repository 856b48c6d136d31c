"""run_pipeline on real files with real steps: order, stats, resume, refusal, failed examples, selection."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nextedit.data.dedup import DedupStage
from nextedit.pipeline import (
    ExampleFailed,
    ExampleReader,
    ExampleWriter,
    LocalExecutor,
    MemoryWriter,
    OutputInUse,
    Stage,
    failed_path,
    run_pipeline,
    run_stage,
)
from nextedit.prompts.stages import FormatPromptStage
from tests.pipeline.helpers import Fussy, InterruptAfter, Recorder

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
N = len(list(EXAMPLES.glob("*.md")))


def _pipeline(out: Path, *steps: Stage, inputs: list | None = None) -> list[Stage]:
    return [ExampleReader(inputs or [EXAMPLES]), *steps, ExampleWriter(out)]


def test_steps_run_in_order_with_stats(tmp_path):
    assert N >= 5
    out = tmp_path / "out.jsonl"
    fmt = FormatPromptStage("zeta2")
    listener = Recorder()
    result = run_pipeline(_pipeline(out, fmt), progress=listener, label="format")
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert result.clean and result.lines == len(lines) == N == result.items
    assert fmt.stats.seen == N and result.stages[0].stats.seen == N  # per-step stats, on the caller's objects
    assert all(x["prompt"]["provider"] == fmt.format.provider for x in lines)
    assert [x["name"] for x in lines] == sorted(p.stem for p in EXAMPLES.glob("*.md"))
    assert listener.started == [("format", N)] and listener.done == N and listener.results == [result]
    # the shorthand runs the same pipeline
    stage = run_stage(FormatPromptStage("zeta2"), [str(EXAMPLES)], str(tmp_path / "b.jsonl"))
    assert stage.stats.written == N and (tmp_path / "b.jsonl").read_bytes() == out.read_bytes()


def test_interrupted_run_resumes_after_its_last_shard(tmp_path):
    whole, part = tmp_path / "whole.jsonl", tmp_path / "part.jsonl"
    run_pipeline(_pipeline(whole, FormatPromptStage("zeta2")), shard_size=3)
    with pytest.raises(KeyboardInterrupt):
        run_pipeline(_pipeline(part, FormatPromptStage("zeta2")), shard_size=3, progress=InterruptAfter(2))
    assert len(part.read_text().splitlines()) == 6
    with open(part, "a") as f:  # the next shard was being written: a torn half line
        f.write('{"name": "torn')
    fmt = FormatPromptStage("zeta2")
    result = run_pipeline(_pipeline(part, fmt), shard_size=3)
    assert part.read_bytes() == whole.read_bytes()
    assert result.resumed == 6 and result.items == N - 6 and fmt.stats.seen == N - 6
    assert fmt.stats.skipped_resume == 6
    # a finished run is not redone
    again = run_pipeline(_pipeline(part, FormatPromptStage("zeta2")), shard_size=3)
    assert again.items == 0 and again.resumed == N and part.read_bytes() == whole.read_bytes()


def test_output_of_another_run_is_refused(tmp_path):
    out = tmp_path / "out.jsonl"
    run_pipeline(_pipeline(out, FormatPromptStage("zeta2")))
    made = out.read_bytes()
    with pytest.raises(OutputInUse, match="another run.*--no-resume"):
        run_pipeline(_pipeline(out, FormatPromptStage("zeta2_1")))  # other options
    one = sorted(EXAMPLES.glob("*.md"))[0]
    with pytest.raises(OutputInUse):
        run_pipeline(_pipeline(out, FormatPromptStage("zeta2"), inputs=[one]))  # other input
    with pytest.raises(OutputInUse):
        run_pipeline(_pipeline(out, FormatPromptStage("zeta2")), limit=2)  # other selection
    assert out.read_bytes() == made
    out.write_bytes(made[: len(made) // 2])  # changed since: not that run's output any more
    with pytest.raises(OutputInUse):
        run_pipeline(_pipeline(out, FormatPromptStage("zeta2")))
    # resume=False starts over
    result = run_pipeline(_pipeline(out, FormatPromptStage("zeta2"), inputs=[one]), resume=False)
    assert result.lines == 1 and len(out.read_text().splitlines()) == 1


def test_failed_examples_go_to_the_failed_file(tmp_path):
    out = tmp_path / "out.jsonl"
    listener = Recorder()
    result = run_pipeline(_pipeline(out, Fussy(), FormatPromptStage("zeta2")), progress=listener)
    failed = [json.loads(x) for x in failed_path(out).read_text().splitlines()]
    assert failed_path(out).name == "out.failed.jsonl"
    assert len(failed) == 1 and failed[0]["name"].startswith("dashboard")
    assert failed[0]["error"] == "fussy: ValueError: no dashboards"
    assert result.failed == 1 and not result.clean
    assert any(m.startswith("failed: dashboard") for m in listener.messages)
    kept = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(kept) == N  # --failed keep: in the output as it was, not formatted by later steps
    bad = next(x for x in kept if x["name"].startswith("dashboard"))
    assert "prompt" not in bad and all("prompt" in x for x in kept if x is not bad)

    skipped = tmp_path / "skipped.jsonl"
    result = run_pipeline(_pipeline(skipped, Fussy(), FormatPromptStage("zeta2")), failed="skip")
    assert len(skipped.read_text().splitlines()) == N - 1 and result.failed == 1

    with pytest.raises(ExampleFailed, match="dashboard.*fussy: ValueError"):
        run_pipeline(_pipeline(tmp_path / "ff.jsonl", Fussy()), failfast=True)


def test_bad_lines_are_reported_and_the_rest_is_read(tmp_path):
    good = (tmp_path / "good.jsonl")
    run_pipeline(_pipeline(good))
    lines = good.read_text().splitlines()
    src = tmp_path / "mixed.jsonl"
    src.write_text("\n".join(["not json", *lines[:3], "[1, 2]", *lines[3:]]) + "\n")
    listener = Recorder()
    result = run_pipeline(_pipeline(tmp_path / "out.jsonl", inputs=[src]), progress=listener)
    assert result.lines == N and result.unreadable == 2 and not result.clean
    assert (tmp_path / "out.jsonl").read_text().splitlines() == lines
    assert listener.messages == [
        f"skipped: {src}:1: invalid JSON (Expecting value at column 1)",
        f"skipped: {src}:5: expected a JSON object, got list",
    ]


def test_whole_stream_step_sees_every_example_in_one_shard(tmp_path):
    one = tmp_path / "one.jsonl"
    run_pipeline(_pipeline(one))
    dedup = DedupStage()
    out = MemoryWriter()
    result = run_pipeline([ExampleReader([one, one]), dedup, out], shard_size=2)
    assert len(out.examples) == N and dedup.stats.dropped["exact duplicate"] == N
    assert result.items == 2 * N


def test_worker_processes_give_the_same_output(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    in_process, workers = FormatPromptStage("zeta2"), FormatPromptStage("zeta2")
    run_pipeline(_pipeline(a, Fussy(), in_process), shard_size=2)
    result = run_pipeline(_pipeline(b, Fussy(), workers), executor=LocalExecutor(2), shard_size=2)
    assert a.read_bytes() == b.read_bytes()
    assert failed_path(a).read_bytes() == failed_path(b).read_bytes()
    assert workers.stats.counters == in_process.stats.counters and workers.stats.seen == N - 1
    assert result.stages[1].stats.messages == ["failed: " + json.loads(failed_path(b).read_text())["name"]
                                               + ": fussy: ValueError: no dashboards"]


def test_limit_offset_name_select_examples(tmp_path):
    names = sorted(p.stem for p in EXAMPLES.glob("*.md"))
    out = MemoryWriter()
    run_pipeline([ExampleReader([EXAMPLES]), out], offset=2, limit=3)
    assert [ex.name for ex in out.examples] == names[2:5]
    out = MemoryWriter()
    run_pipeline([ExampleReader([EXAMPLES]), out], name="cursor")
    assert [ex.name for ex in out.examples] == [n for n in names if "cursor" in n] != []
