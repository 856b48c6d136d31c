"""``nextedit synthesize`` against a real git repository and the replay server (openai SDK): commit
filters, valid answers become examples, ``NO_PATTERN`` and answers whose diffs do not apply are
counted, and a rerun asks nothing and writes nothing twice."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nextedit.cli.app import app
from nextedit.llm import LLMConfig
from nextedit.llm.replay import ReplayServer, Reply
from nextedit.teacher.prompt import teacher_prompt
from nextedit.teacher.synthesize import synthesize
from tests.teacher.frontier import read_jsonl

N = 15


def shapes(name: str, upto: int = N) -> str:
    """``def NAME`` and 15 callers, the first ``upto`` of them calling ``NAME``, the rest ``area``."""
    out = f"def {name}(w, h):\n    return w * h\n"
    for k in range(1, N + 1):
        out += f"\n\ndef f{k}():\n    return {name if k <= upto else 'area'}({k}, {k})\n"
    return out


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "shapes"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "t@example.com")
    git(repo, "config", "user.name", "T")

    def commit(message: str, **files: str) -> None:
        for name, text in files.items():
            (repo / name.replace("_", ".")).write_text(text)
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", message)

    commit("shapes", shapes_py=shapes("area"))
    commit("Rename area to surface", shapes_py=shapes("surface"))
    commit("Docs", README_md="".join(f"line {i}\n" for i in range(40)))
    commit("Tiny fix", shapes_py=shapes("surface").replace("w * h", "h * w"))
    commit("Rename surface to size", shapes_py=shapes("size"))
    return repo


def hunk(line: int, context: str, old: str, new: str) -> str:
    return f"@@ -{line},2 +{line},2 @@\n {context}\n-{old}\n+{new}\n"


HEADER = "--- a/shapes.py\n+++ b/shapes.py\n"
HISTORY = HEADER + "".join(
    [
        "@@ -1,2 +1,2 @@\n-def area(w, h):\n+def surface(w, h):\n     return w * h\n",
        hunk(5, "def f1():", "    return area(1, 1)", "    return surface(1, 1)"),
        hunk(9, "def f2():", "    return area(2, 2)", "    return surface(2, 2)"),
    ]
)
EXPECTED = HEADER + hunk(13, "def f3():", "    return area(3, 3)", "    return surface(3, 3)")
GOOD = (
    "ANALYSIS: The function is renamed and its callers follow one by one.\nNAME: Rename Area\n"
    f"EDIT_HISTORY:\n```diff\n{HISTORY}```\nEXPECTED_PATCH:\n```diff\n{EXPECTED}```\n"
)


SCRIPT = {"rename": GOOD}  # what the model answers about the first rename (a test may change it)


def answer(messages) -> Reply:  # noqa: ANN001
    prompt = messages[-1]["content"]
    if "Rename area to surface" in prompt:
        return Reply(text=SCRIPT["rename"])
    return Reply(text="NO_PATTERN: the diff does not match the story")


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    monkeypatch.setenv("NEXTEDIT_LLM_API_KEY", "local")
    with ReplayServer(answer=answer) as s:
        yield s


def test_commits_become_validated_examples_and_a_rerun_asks_nothing(repo, server, tmp_path) -> None:  # noqa: ANN001
    llm = LLMConfig(f"openai-compatible:{server.openai_base}#frontier", cache=str(tmp_path / "c.sqlite"))
    out = tmp_path / "synth.jsonl"
    result = synthesize(repo, llm, out)
    assert result.counts == {
        "examples": 1,
        "no pattern": 1,
        "skipped: no code files": 1,
        "skipped: too small": 1,
    }
    assert server.model_requests() == 2  # only the two rename commits were worth asking about
    [ex] = read_jsonl(out)
    parent = git(repo, "rev-parse", "HEAD~4").strip()
    assert ex.revision == parent and ex.cursor_path == "shapes.py"
    assert ex.name.startswith("shapes-") and ex.name.endswith("-rename-area")
    assert ex.reasoning.startswith(f"Source commit: {git(repo, 'rev-parse', 'HEAD~3').strip()} (Rename area")
    assert ex.edit_history == HISTORY and ex.expected_patches == [EXPECTED]
    assert ex.cursor_position.splitlines()[3] == "    return <|user_cursor|>area(3, 3)"
    assert len(ex.cursor_position.splitlines()) == 8
    assert "    return area(3, 3)<|user_cursor|>" not in teacher_prompt(ex).text  # a usable teacher input
    assert "    return <|user_cursor|>area(3, 3)" in teacher_prompt(ex).text

    again = synthesize(repo, llm, out)
    assert again.written == 0 and again.counts["already processed"] == 2
    assert server.model_requests() == 2 and len(read_jsonl(out)) == 1


def test_an_answer_whose_diffs_do_not_apply_is_counted_not_written(repo, server, tmp_path) -> None:  # noqa: ANN001
    SCRIPT["rename"] = GOOD.replace("return area(1, 1)", "return area(9, 9)")
    try:
        llm = LLMConfig(f"openai-compatible:{server.openai_base}#frontier")
        result = synthesize(repo, llm, tmp_path / "synth.jsonl")
    finally:
        SCRIPT["rename"] = GOOD
    assert result.written == 0 and result.counts["invalid: a diff does not apply"] == 1


def test_cli(repo, server, tmp_path) -> None:  # noqa: ANN001
    out = tmp_path / "synth.jsonl"
    args = [
        "synthesize",
        "--repo",
        str(repo),
        "-o",
        str(out),
        "--llm",
        f"openai-compatible:{server.openai_base}#m",
        "--cache",
        str(tmp_path / "c.sqlite"),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "1 examples appended" in result.output and "no pattern: 1" in result.output
    bad = CliRunner().invoke(app, [*args[:2], str(tmp_path), *args[3:]])
    assert bad.exit_code == 1 and "not a git repository" in bad.output
