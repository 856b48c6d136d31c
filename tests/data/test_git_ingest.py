"""git ingest on a repository built by the test with real `git` commits."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from nextedit.data.git_ingest import GitError, GitIngest, GitRepo
from nextedit.data.split_commit import SplitConfig
from nextedit.io.markdown import cursor_excerpt
from nextedit.pipeline import ExampleWriter, run_pipeline
from nextedit.schema.example import Example
from tests.pipeline.helpers import InterruptAfter


def _apply(tmp: Path, patch: str) -> None:
    if patch:
        r = subprocess.run(["git", "apply", "-"], cwd=tmp, input=patch.encode(), capture_output=True)
        assert r.returncode == 0, r.stderr.decode()


def check_applies(repo: Path, ex: Example, work: Path) -> str:
    """Materialise ``ex.revision``, replay uncommitted diff + history, check the cursor excerpt is
    there and that the expected patch applies; returns the cursor file after the patch."""
    if work.exists():
        shutil.rmtree(work)
    subprocess.run(["git", "clone", "-q", str(repo), str(work)], check=True)
    subprocess.run(["git", "-C", str(work), "checkout", "-q", "--detach", ex.revision], check=True)
    _apply(work, ex.uncommitted_diff)
    _apply(work, ex.edit_history)
    text = (work / ex.cursor_path).read_text()
    excerpt, _ = cursor_excerpt(ex.cursor_position, ex.cursor_path)
    assert excerpt in text
    _apply(work, ex.expected_patches[0])
    return (work / ex.cursor_path).read_text() if (work / ex.cursor_path).exists() else ""


def test_exact_examples_for_fixed_seed(small_repo):
    sha = small_repo["rename_param"]
    stage = GitIngest(small_repo["path"], samples=1, seed=7, cfg=SplitConfig(split=3), max_commits=4)
    exs = [ex for ex in stage.run() if ex.revision == f"{sha}~1"]
    assert len(exs) == 1
    ex = exs[0]
    assert ex.name == f"inventory-{sha[:8]}"
    assert ex.repository_url == str(Path(small_repo["path"]).resolve())
    assert ex.tags == ["source:git", "split:fim"]
    assert ex.cursor_path == "stock.py"
    assert ex.edit_history == (
        "--- a/stock.py\n+++ b/stock.py\n@@ -1,8 +1,8 @@\n import os\n \n \n"
        "-def restock(item, qty):\n-    if qty <= 0:\n+def restock(item, quantity):\n+    if quantit <= 0:\n"
        '         raise ValueError("qty must be positive")\n     item.count += qty\n     return item\n'
    )
    assert ex.cursor_position == (
        "import os\n\n\ndef restock(item, quantity):\n    if quantit <= 0:\n    #         ^[CURSOR_POSITION]\n"
        '        raise ValueError("qty must be positive")\n    item.count += qty\n    return item\n'
    )
    assert ex.expected_patches == [
        "--- a/stock.py\n+++ b/stock.py\n@@ -2,7 +2,7 @@\n \n \n def restock(item, quantity):\n"
        '-    if quantit <= 0:\n-        raise ValueError("qty must be positive")\n-    item.count += qty\n'
        '+    if quantity <= 0:\n+        raise ValueError("quantity must be positive")\n+    item.count += quantity\n'
        "     return item\n"
        "--- a/use.py\n+++ b/use.py\n@@ -0,0 +1,5 @@\n+from stock import restock\n+\n+\n"
        "+def refill(item):\n+    return restock(item, 10)\n"
    ]


def test_last_split_point_leaves_cross_file_or_nothing(small_repo):
    sha = small_repo["rename_param"]
    stage = GitIngest(small_repo["path"], samples=1, seed=7, cfg=SplitConfig(split=8))
    ex = next(ex for ex in stage.run() if ex.revision == f"{sha}~1")
    # all of stock.py typed; the next edit is the new file use.py, typed halfway on its first line
    assert ex.cursor_path == "use.py"
    assert "+def restock(item, quantity):" in ex.edit_history
    assert ex.expected_patches[0].startswith(
        "--- a/use.py\n+++ b/use.py\n@@ -1,1 +1,5 @@\n-from stock import"
    )


def test_filters_and_skips(small_repo):
    errors: list[str] = []
    stage = GitIngest(small_repo["path"], samples=2, seed=1, on_error=errors.append)
    exs = list(stage.run())
    revs = {ex.revision for ex in exs}
    assert f"{small_repo['rename_param']}~1" in revs
    assert f"{small_repo['docs']}~1" not in revs  # README + lock file only
    assert f"{small_repo['rename']}~1" not in revs  # rename
    assert stage.stats.dropped["docs-only"] == 1
    assert stage.stats.dropped["rename"] == 1
    # the latin-1 blob is reported by name and dropped; the commit's code change survives
    assert any("latin.py" in e and "UTF-8" in e for e in errors)
    latin = [ex for ex in exs if ex.revision == f"{small_repo['latin1']}~1"]
    assert latin and all("latin.py" not in ex.edit_history + ex.expected_patches[0] for ex in latin)
    # several distinct samples per commit, named <repo>-<sha8>[-n]
    names = sorted(ex.name for ex in exs if ex.revision == f"{small_repo['rename_param']}~1")
    sha8 = small_repo["rename_param"][:8]
    assert names == [f"inventory-{sha8}", f"inventory-{sha8}-1"]


def test_every_split_point_applies(small_repo, tmp_path):
    repo = small_repo["path"]
    sha = small_repo["rename_param"]
    from nextedit.data.git_ingest import CommitFilter, load_commit

    commit = load_commit(GitRepo(repo), sha, f"{sha}~1", CommitFilter(), print)
    assert not isinstance(commit, str)
    for s in range(1, commit.num_edits + 1):
        stage = GitIngest(repo, samples=1, seed=s, cfg=SplitConfig(split=s), max_commits=4)
        ex = next(ex for ex in stage.run() if ex.revision == f"{sha}~1")
        check_applies(repo, ex, tmp_path / "work")
        if s == commit.num_edits:
            assert ex.expected_patches == [""] and "split:no-edit" in ex.tags


def test_missing_repository(tmp_path):
    with pytest.raises(GitError, match="not found"):
        GitRepo(tmp_path / "nope")
    (tmp_path / "plain").mkdir()
    with pytest.raises(GitError, match="not a git repository"):
        GitRepo(tmp_path / "plain")


def test_resume_after_interruption(small_repo, tmp_path):
    def pipeline(out: Path) -> list:
        return [GitIngest(small_repo["path"], samples=3, seed=5), ExampleWriter(out)]

    full, part = tmp_path / "full.jsonl", tmp_path / "part.jsonl"
    run_pipeline(pipeline(full), shard_size=1)
    expected = full.read_text()
    assert expected
    # interrupted after the first commit's examples are written, in the middle of the next one's
    with pytest.raises(KeyboardInterrupt):
        run_pipeline(pipeline(part), shard_size=1, progress=InterruptAfter(1))
    with open(part, "a") as f:
        f.write(expected.splitlines(keepends=True)[-1][:20])
    result = run_pipeline(pipeline(part), shard_size=1)
    assert part.read_text() == expected
    assert result.resumed == 1 and result.stages[0].stats.seen == len(result.stages[0].repo.commits()) - 1
    # a second rerun does nothing and changes nothing
    result = run_pipeline(pipeline(part), shard_size=1)
    assert part.read_text() == expected
    assert result.items == 0


def test_deterministic(small_repo, tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    run_pipeline([GitIngest(small_repo["path"], samples=4, seed=3), ExampleWriter(a)])
    run_pipeline([GitIngest(small_repo["path"], samples=4, seed=3), ExampleWriter(b)])
    assert a.read_bytes() == b.read_bytes()
