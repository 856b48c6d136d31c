"""Benchmarks for the data builders.

* :func:`make_release_repo` turns the release trees of a manifest into a git repository (one
  commit per release, each package in its own directory) — a large local repository with real
  history, built without cloning anything.
* :func:`bench_split_commit` loads commits of a repository, then times split-commit alone
  (examples/s of wall time, and per CPU second — the figure for one idle core on a shared machine);
  the loading (git + line diffs) is timed separately.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from nextedit.data.manifest import Manifest
from nextedit.data.pypi import PypiCache

_GIT_ENV = {
    "GIT_AUTHOR_NAME": "nextedit",
    "GIT_AUTHOR_EMAIL": "nextedit@example.invalid",
    "GIT_COMMITTER_NAME": "nextedit",
    "GIT_COMMITTER_EMAIL": "nextedit@example.invalid",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
}


def make_release_repo(
    manifest: Manifest, cache: PypiCache, dest: Path, *, on_error: Callable[[str], None]
) -> Path:
    """A git repo at ``dest`` whose history is: for each release index i, for each package, the
    tree of its i-th release copied to ``<package>/`` and committed (deterministic). A release
    that cannot be extracted is skipped and reported to ``on_error`` (one line)."""
    import os

    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    env = {**os.environ, **_GIT_ENV}

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(dest), *args], check=True, capture_output=True, env=env)

    git("init", "-q", "-b", "main")
    depth = max((len(p.releases) for p in manifest.packages), default=0)
    for i in range(depth):
        for pkg in manifest.packages:
            if i >= len(pkg.releases):
                continue
            rel = pkg.releases[i]
            try:
                tree = cache.extract(rel)
            except Exception as e:  # noqa: BLE001 - reported and skipped
                on_error(str(e))
                continue
            target = dest / pkg.name
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(tree, target, symlinks=True)
            git("add", "-A", pkg.name)
            git("commit", "-q", "--allow-empty", "-m", f"{pkg.name} {rel.version}")
    return dest


def bench_split_commit(
    repo: str | Path, samples: int = 8, max_commits: int | None = None, chunk_units: int = 300, seed: int = 0
) -> dict[str, float]:
    """Load the repository's commits (chunked to ``chunk_units``) then time split-commit."""
    from nextedit.data.git_ingest import CommitFilter, GitRepo, load_commit
    from nextedit.data.split_commit import split_commit

    r = GitRepo(repo)
    t0 = time.perf_counter()
    commits = []
    for sha, parent in r.commits(max_count=max_commits):
        got = load_commit(r, sha, parent, CommitFilter(min_lines=1, max_lines=10**9), lambda _m: None)
        if not isinstance(got, str):
            commits.extend((f"{sha[:8]}.{k}", c) for k, c in enumerate(got.chunks(chunk_units)))
    r.close()
    t1 = time.perf_counter()
    c1 = time.process_time()
    n = 0
    for name, c in commits:
        n += len(
            split_commit(c, name=name, repository_url=str(repo), revision="x", seed=seed, samples=samples)
        )
    t2 = time.perf_counter()
    cpu = time.process_time() - c1
    return {
        "cpu_seconds": cpu,
        "examples_per_cpu_second": n / max(cpu, 1e-9),
        "commits": len(commits),
        "examples": n,
        "load_seconds": t1 - t0,
        "split_seconds": t2 - t1,
        "examples_per_second": n / max(t2 - t1, 1e-9),
    }
