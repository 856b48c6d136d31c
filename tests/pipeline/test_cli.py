"""The pipeline through the real CLI: bad lines (defect 4.2), reused outputs (4.3), checks first."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nextedit.cli import app
from nextedit.cli.options import SKIPPED_EXIT

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
N = len(list(EXAMPLES.glob("*.md")))
runner = CliRunner()


def nextedit(*args: str | Path, code: int = 0):  # noqa: ANN201
    res = runner.invoke(app, [str(a) for a in args])
    assert res.exit_code == code, (res.exit_code, res.stdout, res.stderr)
    assert "Traceback" not in res.stderr
    return res


@pytest.fixture
def predictions(tmp_path: Path) -> Path:
    out = tmp_path / "pred.jsonl"
    nextedit("predict", EXAMPLES, "-p", "heuristic", "-o", out)
    return out


def test_a_malformed_line_is_named_skipped_and_the_rest_scored(tmp_path, predictions):
    src = tmp_path / "f.jsonl"
    src.write_text("not json\n" + predictions.read_text())
    out = tmp_path / "out.jsonl"
    res = nextedit("score", src, "-o", out, code=SKIPPED_EXIT)
    assert f"{src}:1: invalid JSON" in res.stderr
    scored = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(scored) == N and all(len(x["score"]) == len(x["predictions"]) == 1 for x in scored)
    nextedit("score", src, "-o", out, code=SKIPPED_EXIT)  # a rerun (nothing to do) says so too
    # to stdout as well
    res = nextedit("score", src, code=SKIPPED_EXIT)
    assert len(res.stdout.splitlines()) == N


def test_reusing_an_output_for_another_input_is_refused(tmp_path, predictions):
    x = tmp_path / "x.jsonl"
    nextedit("load-project", EXAMPLES, "-o", x)
    first = x.read_bytes()
    other = tmp_path / "other.jsonl"
    other.write_text("".join(predictions.read_text().splitlines(keepends=True)[:2]))
    res = nextedit("load-project", other, "-o", x, code=1)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {x}: exists") and "--no-resume" in lines[0]
    assert x.read_bytes() == first  # nothing appended, nothing mixed
    nextedit("load-project", EXAMPLES, "-o", x)  # the same input: resumed (already complete)
    assert x.read_bytes() == first
    nextedit("load-project", other, "-o", x, "--force")
    assert [json.loads(line)["name"] for line in x.read_text().splitlines()] == [
        json.loads(line)["name"] for line in other.read_text().splitlines()
    ]


def test_inputs_and_outputs_are_checked_before_the_work(tmp_path):
    res = nextedit("score", tmp_path / "nope.jsonl", "-o", tmp_path / "out.jsonl", code=2)
    assert "nope.jsonl: no such file or directory" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    res = nextedit("format-prompt", EXAMPLES, "-o", blocker / "out.jsonl", code=2)
    assert "cannot be written" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    src = tmp_path / "in.jsonl"
    nextedit("read", EXAMPLES, "-o", src)
    res = nextedit("format-prompt", src, "-o", src, code=2)
    assert "also an input; use --in-place" in res.stderr


def test_in_place_rewrites_the_single_input(tmp_path):
    src = tmp_path / "in.jsonl"
    nextedit("read", EXAMPLES, "-o", src)
    nextedit("format-prompt", src, "-i", "--format", "zeta2")
    rows = [json.loads(x) for x in src.read_text().splitlines()]
    assert len(rows) == N and all(r["prompt"]["input"] for r in rows)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "in.jsonl.run.jsonl"]


def test_shared_options_on_a_stage_command(tmp_path):
    out = tmp_path / "out.jsonl"
    nextedit("format-prompt", EXAMPLES, "-o", out, "--offset", "1", "--limit", "3", "--max-parallelism", "2")
    names = sorted(p.stem for p in EXAMPLES.glob("*.md"))
    assert [json.loads(x)["name"] for x in out.read_text().splitlines()] == names[1:4]
    nextedit("format-prompt", EXAMPLES, "-o", out, "--offset", "1", "--limit", "3", "--failed", "skip", code=1)
