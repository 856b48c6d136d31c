"""``nextedit serve`` as the teacher, judge and repairer, end to end on loopback through the openai SDK:
``teacher → qa → score → repair → distill → format-prompt → train`` (one step), all from the CLI.

The served model is the ``heuristic`` provider (fast, deterministic; ``hybrid`` answers the same
way, through its model); the eval cases in ``examples/`` are the inputs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from openai import OpenAI
from typer.testing import CliRunner

from nextedit.cli.app import app
from nextedit.io.markdown import parse_markdown
from nextedit.server.app import create_app
from nextedit.server.config import parse_config
from nextedit.server.launch import ServerThread
from nextedit.teacher.prompt import teacher_prompt
from tests.teacher.frontier import ROOT, kv_example, read_jsonl, write_jsonl

EXAMPLES = sorted((ROOT / "examples").glob("*.md"))


@pytest.fixture
def local_teacher(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    monkeypatch.setenv("NEXTEDIT_LLM_API_KEY", "local")
    cfg = parse_config(
        {
            "models": {"teacher": {"provider": "heuristic"}},
            "server": {"store": f"sqlite:///{tmp_path / 'telemetry.db'}", "deadline_ms": 60_000},
        }
    )
    server = ServerThread(create_app(cfg)).start()
    yield server
    server.stop()


def cli(*args: str) -> str:
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


def test_chat_endpoint_answers_in_the_teacher_format(local_teacher) -> None:  # noqa: ANN001
    client = OpenAI(base_url=f"{local_teacher.url}/v1", api_key="local")
    src = ROOT / "examples" / "tinyhttp--rename-timeout-parameter.md"
    prompt = teacher_prompt(parse_markdown(src.read_text(), str(src)))
    reply = client.chat.completions.create(model="teacher", messages=prompt.messages)
    text = reply.choices[0].message.content
    assert "`````\n<|editable_region_start|>\n" in text and text.rstrip().endswith(
        "<|editable_region_end|>\n`````"
    )
    assert reply.choices[0].finish_reason == "stop" and reply.usage.prompt_tokens > 1000

    none = client.chat.completions.create(model="teacher", messages=teacher_prompt(kv_example()).messages)
    assert "`````\nNO_EDITS\n`````" in none.choices[0].message.content

    repair = [
        *prompt.messages,
        {"role": "assistant", "content": text},
        {"role": "user", "content": "# Repair Request\n..."},
    ]
    kept = client.chat.completions.create(model="teacher", messages=repair)
    assert "KEEP_PREVIOUS" in kept.choices[0].message.content


def test_chat_endpoint_bad_input_is_one_clear_error(local_teacher) -> None:  # noqa: ANN001
    import httpx

    url = f"{local_teacher.url}/v1/chat/completions"
    not_teacher = httpx.post(url, json={"model": "teacher", "messages": [{"role": "user", "content": "hi"}]})
    assert not_teacher.status_code == 422 and "teacher prompt" in not_teacher.text
    empty = httpx.post(url, json={"model": "teacher", "messages": []})
    assert empty.status_code in (400, 422)
    streamed = httpx.post(
        url, json={"model": "teacher", "stream": True, "messages": [{"role": "user", "content": "x"}]}
    )
    assert streamed.status_code == 400 and "stream" in streamed.text


def test_the_whole_loop_runs_here(local_teacher, tmp_path, small_tokenizer) -> None:  # noqa: ANN001
    examples = [parse_markdown(p.read_text(), str(p)) for p in EXAMPLES]
    src = write_jsonl(tmp_path / "examples.jsonl", examples)
    llm = ["--llm", f"openai-compatible:{local_teacher.url}/v1#teacher", "--cache", tmp_path / "cache.sqlite"]
    out = {s: tmp_path / f"{s}.jsonl" for s in ("teacher", "qa", "score", "repair", "distill", "sft")}

    cli("teacher", src, "-o", out["teacher"], *llm, "--max-parallelism", 2)
    taught = read_jsonl(out["teacher"])
    assert len(taught) == len(examples)
    assert all(
        ex.predictions[0].provider == "teacher:teacher" and not ex.predictions[0].error for ex in taught
    )
    with_edit = [ex.name for ex in taught if ex.predictions[0].actual_patch]
    assert len(with_edit) >= 3  # the heuristic's edits (the rest: NO_EDITS)

    cli("qa", out["teacher"], "-o", out["qa"], *llm)
    judged = [ex for ex in read_jsonl(out["qa"]) if ex.predictions[0].actual_patch]
    assert all(ex.qa[0].confidence == 4 and ex.qa[0].reverts_edits is False for ex in judged)

    cli("score", out["qa"], "-o", out["score"])
    # threshold 4: every judged prediction goes to repair; the local teacher keeps its answer
    cli("repair", out["score"], "-o", out["repair"], *llm, "--confidence-threshold", 4)
    repaired = [ex for ex in read_jsonl(out["repair"]) if len(ex.predictions) == 2]
    assert sorted(ex.name for ex in repaired) == sorted(with_edit)
    assert all(ex.predictions[1].actual_output.count("KEEP_PREVIOUS") for ex in repaired)

    cli("distill", out["repair"], "-o", out["distill"])
    distilled = read_jsonl(out["distill"])
    assert len(distilled) == len(examples)
    assert all(not ({"prompt", "predictions", "score", "qa"} & ex.to_dict().keys()) for ex in distilled)
    by_name = {ex.name: ex for ex in distilled}
    assert all(by_name[n].expected_patches[0].startswith("--- a/") for n in with_edit)

    cli("format-prompt", out["distill"], "-o", out["sft"])
    sft = read_jsonl(out["sft"])
    assert sft and all(ex.prompt.input and ex.prompt.expected_output for ex in sft)

    # a second pass over the same input asks the server nothing: every answer is in the cache
    again = cli("teacher", src, "-o", tmp_path / "again.jsonl", *llm, "--cache-only")
    assert f"({len(examples)} cached), 0 requests sent" in again

    pytest.importorskip("torch")
    from nextedit.training.recipe import recipe_from_dict
    from nextedit.training.train import train

    recipe = recipe_from_dict(
        {
            "name": "distilled",
            "out": str(tmp_path / "run"),
            "model": {
                "hidden_size": 32,
                "num_layers": 1,
                "num_heads": 2,
                "num_kv_heads": 1,
                "intermediate_size": 64,
            },
            "tokenizer": {"path": str(small_tokenizer)},
            "train": {
                "lr": 1e-3,
                "warmup_steps": 1,
                "batch_tokens": 512,
                "log_every": 1,
                "checkpoint_every": 1,
                "threads": 1,
            },
            "phases": [
                {"name": "sft", "kind": "sft", "steps": 1, "seq_len": 256, "train": [str(out["sft"])]}
            ],
        }
    )
    summary = train(recipe)
    assert summary["step"] == 1


def test_the_local_judge_flags_a_revert(local_teacher) -> None:  # noqa: ANN001
    import json

    from nextedit.teacher.parse import parse_teacher_text
    from nextedit.teacher.qa import current_file_block, parse_qa_answer, qa_prompt
    from tests.teacher.frontier import reverting_answer

    ex = kv_example()
    prompt = teacher_prompt(ex)
    reverting = parse_teacher_text(prompt.request, reverting_answer(prompt.text), "teacher:x")
    assert "-    pub max_retries: u32," in reverting.actual_patch
    judge = qa_prompt(ex.edit_history, current_file_block(prompt.text), reverting.actual_patch)
    client = OpenAI(base_url=f"{local_teacher.url}/v1", api_key="local")
    text = client.chat.completions.create(model="teacher", messages=[{"role": "user", "content": judge}])
    verdict = parse_qa_answer(text.choices[0].message.content)
    assert verdict.error is None, json.dumps(verdict.to_dict())
    assert verdict.reverts_edits is True and verdict.confidence == 2
