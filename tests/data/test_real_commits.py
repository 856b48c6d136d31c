"""`dataset real-commits` on git bundles made by the test from real `git` commits."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nextedit.cli.app import app
from nextedit.data.edit_kind import edit_kind, file_sections
from nextedit.data.git_ingest import GitError
from nextedit.data.real_commits import RealCommitsConfig, build_real_commits, tag_value
from nextedit.io.inputs import read_examples
from tests.data.conftest import commit_files, git
from tests.data.test_git_ingest import check_applies

FUNCS_V1 = "".join(f"def f{i}(x):\n    y = x + {i}\n    return y\n\n\n" for i in range(8))


def _v2(text: str) -> str:
    """Three separate edits in one file: a rename in f1, a new line in f4, a changed constant in f7."""
    text = text.replace(
        "def f1(x):\n    y = x + 1\n    return y", "def f1(value):\n    y = value + 1\n    return y"
    )
    text = text.replace("    y = x + 4\n", "    y = x + 4\n    y = y * 2\n")
    return text.replace("    y = x + 7\n", "    y = x - 70\n")


def _make_bundle(tmp: Path, slug: str, out: Path) -> None:
    repo = tmp / slug.replace("/", "--")
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    commit_files(repo, {"calc.py": FUNCS_V1, "README.md": "# calc\n"}, "root")
    commit_files(repo, {"calc.py": _v2(FUNCS_V1)}, "three hunks")
    ts = FUNCS_V1.replace(".py", ".ts")
    commit_files(repo, {"lib/mod.ts": ts.replace("def ", "function ")}, "add ts file")
    commit_files(repo, {"lib/mod.ts": _v2(ts).replace("def ", "function ")}, "edit ts file")
    out.mkdir(parents=True, exist_ok=True)
    git(repo, "bundle", "create", "-q", str(out / f"{slug.replace('/', '--')}.bundle"), "--all")


@pytest.fixture()
def bundles(tmp_path: Path) -> Path:
    out = tmp_path / "bundles"
    for slug in ("acme/calc", "acme/held"):
        _make_bundle(tmp_path / "src", slug, out)
    return out


def _cfg(bundles: Path, out: Path) -> RealCommitsConfig:
    return RealCommitsConfig(
        bundles_dir=str(bundles),
        out_dir=str(out),
        max_commits=10,
        next_hunk_samples=2,
        valid=["acme/held"],
        context="bm25",
    )


def _files(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.glob("*.jsonl")) if not p.name.endswith(".run.jsonl")}


def test_edit_kinds() -> None:
    def patch(old: list[str], new: list[str]) -> str:
        return (
            "--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n"
            + "".join(f"-{o}\n" for o in old)
            + "".join(f"+{n}\n" for n in new)
        )

    assert edit_kind("") == "no-edit"
    assert edit_kind(patch(["x = 1"], [])) == "deletion"
    assert edit_kind(patch([], ["x = 1"])) == "insertion"
    assert edit_kind(patch(["print(a"], ["print(a, b)"])) == "completion"
    assert edit_kind(patch(["f(qty, qty)", "g(qty)"], ["f(quantity, quantity)", "g(quantity)"])) == "rename"
    assert edit_kind(patch(["f(qty, n)"], ["f(quantity, count)"])) == "rename"
    assert edit_kind(patch(["f(a, a)"], ["f(b, c)"])) == "modification"  # not one consistent mapping
    assert edit_kind(patch(["x = 1"], ["x = 2"])) == "modification"
    assert edit_kind(patch(["x = 1"], ["    x = 1"])) == "whitespace"
    two = patch(["x"], ["y"]) + patch(["p"], ["p2"]).replace("x.py", "b.py")
    assert file_sections(two, "b.py") == patch(["p"], ["p2"]).replace("x.py", "b.py")
    assert file_sections(two, "x.py") == patch(["x"], ["y"]) and file_sections(two, "c.py") == ""


def test_build_holds_out_repositories_and_makes_both_cases(bundles: Path, tmp_path: Path) -> None:
    out = tmp_path / "rc"
    result = build_real_commits(_cfg(bundles, out))
    assert set(result["files"]) == {
        "train-next-hunk",
        "train-split-commit",
        "valid-next-hunk",
        "valid-split-commit",
    }
    for name, count in result["files"].items():
        examples = list(read_examples([out / f"{name}.jsonl"]))
        assert len(examples) == count > 0
        role, case = name.split("-", 1)
        for ex in examples:
            assert tag_value(ex, "repo") == ("acme/held" if role == "valid" else "acme/calc")
            assert tag_value(ex, "case") == case
            assert tag_value(ex, "kind") and tag_value(ex, "lang") in ("python", "typescript")
            assert ex.repository_url == f"https://github.com/{tag_value(ex, 'repo')}"
            assert ex.prompt_inputs and ex.prompt_inputs.get("cursor_excerpt")
            assert not any(t.startswith("context:") for t in ex.tags)  # the clone was found
            if role == "valid":
                assert tag_value(ex, "kind") not in ("no-edit", "whitespace")
    clone = out / "repos" / "acme" / "calc"
    for ex in read_examples([out / "train-next-hunk.jsonl"]):
        # history = the earlier hunks, expected = the next hunk alone (one @@), replayable on the parent
        assert ex.expected_patches[0].count("\n@@ ") == 1 and ex.edit_history
        assert "split:fim" not in ex.tags
        check_applies(clone, ex, tmp_path / "work")
    assert {tag_value(ex, "kind") for ex in read_examples([out / "train-next-hunk.jsonl"])} <= {
        "rename", "insertion", "modification", "completion", "deletion"
    }  # fmt: skip
    build = json.loads((out / "build.json").read_text())
    assert build["config"]["valid"] == ["acme/held"] and (out / "stats.md").exists()
    assert build["breakdown"]["valid-next-hunk"]["repo"] == {"acme/held": result["files"]["valid-next-hunk"]}


def test_build_is_deterministic_and_resumes(bundles: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    build_real_commits(_cfg(bundles, first))
    build_real_commits(_cfg(bundles, second))
    assert _files(first) == _files(second)
    before = {p.name: p.stat().st_mtime_ns for p in first.glob("*.jsonl")}
    build_real_commits(_cfg(bundles, first))  # nothing changed: every file is kept as it is
    assert _files(first) == _files(second)
    assert {p.name: p.stat().st_mtime_ns for p in first.glob("*.jsonl")} == before


def test_unknown_repository_is_a_clear_error(bundles: Path, tmp_path: Path) -> None:
    cfg = _cfg(bundles, tmp_path / "rc")
    cfg.valid = ["encode/starlette"]
    with pytest.raises(GitError, match="no bundle for encode/starlette"):
        build_real_commits(cfg)
    result = CliRunner().invoke(app, ["dataset", "real-commits", "--repos-dir", str(tmp_path / "nope")])
    assert result.exit_code == 2 and "bundle directory not found" in result.output


def test_cli_builds(bundles: Path, tmp_path: Path) -> None:
    out = tmp_path / "cli"
    args = ["dataset", "real-commits", "--repos-dir", str(bundles), "--out", str(out), "--max-commits", "5"]
    result = CliRunner().invoke(app, [*args, "--valid", "acme/held", "--context", "none"])
    assert result.exit_code == 0, result.output
    assert subprocess.run(["git", "-C", str(out / "repos/acme/held"), "remote", "get-url", "origin"],
                          capture_output=True, text=True).stdout.strip() == "https://github.com/acme/held"  # fmt: skip
    assert (out / "valid-next-hunk.jsonl").stat().st_size > 0
