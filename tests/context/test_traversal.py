"""Examples that name files outside their repository are rejected with their name, through the CLI:
``..`` in ``cursor_path``, in a patch path or in the repository URL, a local ``repository_url``
outside ``--repos-dir``, and a symlink out of a plain directory. Nothing outside is read."""

import json

import pytest
from typer.testing import CliRunner

from nextedit.cli import app
from nextedit.context.project import UnsafePath
from nextedit.context.stages import LoadProjectStage
from nextedit.schema.example import Example

from .conftest import git, write_tree

SECRET = "TOP SECRET = 1\n"
HISTORY_OUT = """--- a/../../secret.py
+++ b/../../secret.py
@@ -1 +1 @@
-TOP SECRET = 1
+TOP SECRET = 2
"""


def example(name, **kw):
    ex = {
        "name": name,
        "repository_url": "https://github.com/acme/proj.git",
        "revision": "",
        "cursor_path": "a.py",
        "cursor_position": "x = <|user_cursor|>1\n",
    }
    return {**ex, **kw}


def run(tmp_path, command, examples):
    inp = tmp_path / "in.jsonl"
    inp.write_text("".join(json.dumps(e) + "\n" for e in examples))
    out = tmp_path / f"{command}.jsonl"
    res = CliRunner().invoke(app, [command, str(inp), "--repos-dir", str(tmp_path / "repos"), "-o", str(out)])
    written = [json.loads(line) for line in out.read_text().splitlines()]
    failed_file = tmp_path / f"{command}.failed.jsonl"
    failed = [json.loads(line) for line in failed_file.read_text().splitlines()] if failed_file.exists() else []
    return res, written, failed


def test_paths_outside_the_repository_are_rejected(tmp_path):
    write_tree(tmp_path, {"secret.py": SECRET})
    proj = write_tree(tmp_path / "repos" / "acme" / "proj", {"a.py": "x = 1\n"})
    (proj / "link.py").symlink_to(tmp_path / "secret.py")
    crafted = {
        "dotdot-cursor": example("dotdot-cursor", cursor_path="../../../secret.py",
                                 cursor_position="TOP <|user_cursor|>SECRET = 1\n"),
        "absolute-url": example("absolute-url", repository_url=str(tmp_path), cursor_path="secret.py",
                                cursor_position="TOP <|user_cursor|>SECRET = 1\n"),
        "file-url": example("file-url", repository_url=f"file://{tmp_path}", cursor_path="secret.py",
                            cursor_position="TOP <|user_cursor|>SECRET = 1\n"),
        "dotdot-url": example("dotdot-url", repository_url="https://github.com/acme/..", cursor_path="repos/../secret.py"),
        "dotdot-history": example("dotdot-history", edit_history=HISTORY_OUT),
        "symlink": example("symlink", cursor_path="link.py", cursor_position="TOP <|user_cursor|>SECRET = 1\n"),
    }  # fmt: skip
    good = example("good")
    for command in ("load-project", "context"):
        res, written, failed = run(tmp_path, command, [good, *crafted.values()])
        assert res.exception is None or isinstance(res.exception, SystemExit), res.output
        assert {f["name"] for f in failed} == set(crafted), (command, failed)
        for f in failed:
            assert "UnsafePath" in f["error"] and repr(f["name"]) in f["error"], f["error"]
        assert "outside --repos-dir" in next(f["error"] for f in failed if f["name"] == "absolute-url")
        assert "symlink" in next(f["error"] for f in failed if f["name"] == "symlink")
        ok = next(w for w in written if w["name"] == "good")
        assert ok["prompt_inputs"]["cursor_path"] == "proj/a.py"
        for w in written:  # failed examples are kept as they came, without prompt_inputs
            assert "SECRET" not in json.dumps(w.get("prompt_inputs"))


def test_a_git_clone_and_a_local_url_inside_repos_dir_still_load(tmp_path):
    proj = write_tree(tmp_path / "repos" / "proj", {"pkg/a.py": "x = 1\n", "pkg/b.py": "y = 2\n"})
    git(proj, "init", "-q")
    git(proj, "add", "-A")
    git(proj, "commit", "-qm", "init")
    examples = [
        example("by-name", repository_url="https://example.com/proj", cursor_path="pkg/a.py"),
        example("local-inside", repository_url=str(proj), cursor_path="./pkg/a.py"),
        example("root-prefixed", repository_url=str(proj), cursor_path="/proj/pkg/a.py"),
    ]
    res, written, failed = run(tmp_path, "load-project", examples)
    assert res.exit_code == 0 and not failed, (res.output, failed)
    assert [w["prompt_inputs"]["cursor_path"] for w in written] == ["proj/pkg/a.py"] * 3


def test_local_repos_the_caller_vouches_for(tmp_path):
    """The data build passes the clones it ingested (their examples name them by absolute path)."""
    proj = write_tree(tmp_path / "elsewhere" / "proj", {"a.py": "x = 1\n"})
    git(proj, "init", "-q")
    git(proj, "add", "-A")
    git(proj, "commit", "-qm", "init")
    ex = Example(**example("ingested", repository_url=str(proj)))
    out = next(LoadProjectStage(local_repos=[proj]).run([ex.model_copy(deep=True)]))
    assert out.prompt_inputs["cursor_path"] == "proj/a.py" and not out.tags
    with pytest.raises(UnsafePath, match="'ingested'.*without --repos-dir"):
        list(LoadProjectStage().run([ex]))
    outside = Example(**example("outside", repository_url=str(tmp_path / "elsewhere")))
    with pytest.raises(UnsafePath, match="'outside'"):
        list(LoadProjectStage(local_repos=[proj]).run([outside]))
