"""`ingest git`: examples from the non-merge commits of a local git repository (git CLI).

For each commit (``git log --no-merges``, newest first, root commits skipped):

1. ``git diff-tree -r -M`` against the first parent. Commits touching a submodule (mode 160000)
   or renaming a file are skipped; deleted files, service files and non-code files are dropped
   (:mod:`nextedit.data.filters`); binary or non-UTF-8 blobs are reported by name and dropped.
2. Nothing left → "docs-only"; fewer than ``min_lines`` or more than ``max_lines`` edited lines →
   "too small" / "too large".
3. :func:`~nextedit.data.commit.order_commit` then :func:`~nextedit.data.split_commit.split_commit`
   produce ``samples`` examples named ``<repo>-<sha[:8]>[-n]`` with ``revision = "<sha>~1"``.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from nextedit.data.commit import FileChange, OrderedCommit, order_commit
from nextedit.data.filters import has_marker, keep_file
from nextedit.data.ingest import IngestItem, SourceStage, decode_source
from nextedit.data.split_commit import SplitConfig, split_commit
from nextedit.pipeline.record import describe
from nextedit.schema.example import Example


class GitError(RuntimeError):
    pass


class GitRepo:
    """Read-only access to a local repository through the git CLI (one ``cat-file --batch`` process)."""

    def __init__(self, path: str | Path):
        self.path = Path(path).resolve()
        if not self.path.exists():
            raise GitError(f"{path}: repository not found")
        try:
            self.git("rev-parse", "--git-dir")
        except GitError as e:
            raise GitError(f"{path}: not a git repository ({e})") from e
        self._cat: subprocess.Popen | None = None

    def git(self, *args: str) -> str:
        r = subprocess.run(["git", "-C", str(self.path), *args], capture_output=True)
        if r.returncode != 0:
            raise GitError(f"git {' '.join(args[:2])}: {r.stderr.decode(errors='replace').strip()}")
        return r.stdout.decode("utf-8", errors="replace")

    def git_bytes(self, *args: str) -> bytes:
        r = subprocess.run(["git", "-C", str(self.path), *args], capture_output=True)
        if r.returncode != 0:
            raise GitError(f"git {' '.join(args[:2])}: {r.stderr.decode(errors='replace').strip()}")
        return r.stdout

    @property
    def name(self) -> str:
        url = self.url
        tail = url.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
        return tail[:-4] if tail.endswith(".git") else tail

    @property
    def url(self) -> str:
        """``remote.origin.url`` if set, else the repository's absolute path."""
        try:
            url = self.git("config", "--get", "remote.origin.url").strip()
        except GitError:
            url = ""
        return url or str(self.path)

    def commits(self, rev: str = "HEAD", max_count: int | None = None) -> list[tuple[str, str]]:
        """``(sha, first parent)`` of non-merge, non-root commits, newest first."""
        args = ["log", "--no-merges", "--format=%H %P", rev]
        if max_count:
            args.insert(1, f"--max-count={max_count}")
        out = []
        for line in self.git(*args).splitlines():
            parts = line.split()
            if len(parts) >= 2:
                out.append((parts[0], parts[1]))
        return out

    def blob(self, sha: str) -> bytes:
        if self._cat is None:
            self._cat = subprocess.Popen(
                ["git", "-C", str(self.path), "cat-file", "--batch"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
            )
        assert self._cat.stdin and self._cat.stdout
        self._cat.stdin.write(sha.encode() + b"\n")
        self._cat.stdin.flush()
        header = self._cat.stdout.readline().split()
        if len(header) < 3 or header[1] != b"blob":
            raise GitError(f"blob {sha}: {b' '.join(header).decode(errors='replace')}")
        data = self._cat.stdout.read(int(header[2]))
        self._cat.stdout.read(1)
        return data

    def close(self) -> None:
        if self._cat is not None:
            if self._cat.stdin:
                self._cat.stdin.close()
            self._cat.wait()
            self._cat = None

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_cat": None}  # a copy in a worker starts its own cat-file process


@dataclass
class RawChange:
    status: str
    old_mode: str
    new_mode: str
    old_sha: str
    new_sha: str
    path: str
    new_path: str | None = None


def diff_tree(repo: GitRepo, parent: str, sha: str) -> list[RawChange]:
    out = repo.git_bytes("diff-tree", "-r", "-M", "--raw", "-z", "--no-commit-id", parent, sha)
    fields = out.split(b"\0")
    changes = []
    i = 0
    while i < len(fields) and fields[i]:
        meta = fields[i].decode().lstrip(":").split()
        status = meta[4][0]
        path = fields[i + 1].decode("utf-8", errors="replace")
        new_path = None
        i += 2
        if status in "RC":
            new_path = fields[i].decode("utf-8", errors="replace")
            i += 1
        changes.append(RawChange(status, meta[0], meta[1], meta[2], meta[3], path, new_path))
    return changes


@dataclass
class CommitFilter:
    """Commit-size limits in edited lines (added + removed, after dropping files)."""

    min_lines: int = 2
    max_lines: int = 1000
    keep: Callable[[str], bool] = field(default=keep_file)


def load_commit(
    repo: GitRepo, sha: str, parent: str, flt: CommitFilter, on_error: Callable[[str], None]
) -> OrderedCommit | str:
    """The ordered commit, or the reason it is skipped (a short string)."""
    raw = diff_tree(repo, parent, sha)
    if any("160000" in (c.old_mode, c.new_mode) for c in raw):
        return "submodule"
    if any(c.status == "R" for c in raw):
        return "rename"
    files: list[FileChange] = []
    for c in sorted(raw, key=lambda c: c.new_path or c.path):
        path = c.new_path or c.path
        if c.status not in "MAC" or not flt.keep(path):
            continue
        try:
            old = "" if c.status in "AC" else decode_source(repo.blob(c.old_sha), f"{sha[:8]}:{c.path}")
            new = decode_source(repo.blob(c.new_sha), f"{sha[:8]}:{path}")
        except (ValueError, GitError) as e:
            on_error(str(e))
            continue
        if has_marker(old) or has_marker(new):
            on_error(f"{sha[:8]}:{path}: contains cursor/prompt marker strings")
            continue
        files.append(FileChange(path, old, new))
    if not files:
        return "docs-only" if raw else "empty"
    commit = order_commit(files)
    if commit.num_edits < flt.min_lines:
        return "too small"
    if commit.num_edits > flt.max_lines:
        return "too large"
    return commit


class GitIngest(SourceStage):
    """Source stage: examples from the commits of one local repository."""

    name = "ingest-git"

    def __init__(
        self,
        repo: str | Path,
        *,
        rev: str = "HEAD",
        max_commits: int | None = None,
        samples: int = 3,
        seed: int = 0,
        cfg: SplitConfig = SplitConfig(),
        flt: CommitFilter | None = None,
        on_error: Callable[[str], None] | None = None,
    ):
        super().__init__(on_error)
        self.repo = GitRepo(repo)
        self.rev, self.max_commits = rev, max_commits
        self.samples, self.seed, self.cfg = samples, seed, cfg
        self.flt = flt or CommitFilter()

    def items(self) -> Iterator[IngestItem]:
        for sha, parent in self.repo.commits(self.rev, self.max_commits):
            yield IngestItem(key=sha, label=sha[:8], data=(sha, parent))

    def fingerprint(self) -> dict:
        """The repository, the commit ``rev`` names now, and the options."""
        return {"head": self.repo.git("rev-parse", self.rev).strip(), "options": describe(self)}

    def load(self, item: IngestItem) -> OrderedCommit | None:
        """The commit of ``item`` ready for splitting, or None (dropped, the reason counted)."""
        sha, parent = item.data
        got = load_commit(self.repo, sha, parent, self.flt, self.report)
        if isinstance(got, str):
            self.stats.drop(got)
            return None
        self.stats.count("commits used")
        return got

    def examples_for(self, item: IngestItem) -> list[Example]:
        got = self.load(item)
        if got is None:
            return []
        sha = item.data[0]
        return split_commit(
            got,
            name=f"{self.repo.name}-{sha[:8]}",
            repository_url=self.repo.url,
            revision=f"{sha}~1",
            seed=self.seed,
            samples=self.samples,
            cfg=self.cfg,
            tags=("source:git",),
        )

    def close(self) -> None:
        self.repo.close()
