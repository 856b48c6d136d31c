"""``nextedit bench teacher``, tiny: a real ``nextedit serve`` child process on loopback (the heuristic),
the real teacher stage through the openai SDK, 8 examples at parallelism 1 and 2."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from nextedit.bench.teacher import distinct_copies, load_examples
from nextedit.cli.app import app
from nextedit.teacher.prompt import teacher_prompt
from tests.teacher.frontier import ROOT

EXAMPLES = ROOT / "examples"


def test_copies_ask_distinct_questions() -> None:
    base = load_examples(EXAMPLES)
    copies = distinct_copies(base, 2 * len(base) + 1)
    assert len({c.name for c in copies}) == len(copies)
    assert len({teacher_prompt(c).text for c in copies}) == len(copies)


def test_bench_teacher_tiny(tmp_path) -> None:  # noqa: ANN001
    out = tmp_path / "figures.json"
    args = ["bench", "teacher", "--examples", str(EXAMPLES), "--count", "8", "--parallelism", "1,2"]
    result = CliRunner().invoke(app, [*args, "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "nextedit bench teacher" in result.output
    figures = json.loads(out.read_text())
    assert figures["provider"] == "heuristic"
    assert [r["parallelism"] for r in figures["rows"]] == [1, 2]
    for row in figures["rows"]:
        assert row["examples"] == 8 and row["requests"] == 8  # each copy is its own request
        assert row["edits"] >= 1 and row["examples_per_s"] > 0 and row["requests_per_s"] > 0
        assert row["cached_requests"] == 0 and row["cache_hits_per_s"] > 0  # the rerun asks nothing
    layer = figures["client_layer"]
    assert {"raw_http_ms", "client_ms", "overhead_ms", "layer_ms", "cache_hits_per_s"} <= layer.keys()


def test_bench_teacher_bad_input_is_one_line(tmp_path) -> None:  # noqa: ANN001
    runner = CliRunner()
    missing = runner.invoke(app, ["bench", "teacher", "--examples", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "no such file or directory" in missing.output
    bad = runner.invoke(app, ["bench", "teacher", "--parallelism", "1,x"])
    assert bad.exit_code == 2 and "expected integers" in bad.output
    empty = tmp_path / "empty"
    empty.mkdir()
    none = runner.invoke(app, ["bench", "teacher", "--examples", str(empty)])
    assert none.exit_code == 2 and "no examples" in none.output and "Traceback" not in none.output
