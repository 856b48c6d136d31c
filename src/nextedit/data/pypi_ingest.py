"""`ingest pypi`: examples from consecutive PyPI releases, each pair read as one commit.

For every consecutive release pair ``(old, new)`` of the manifest, both sdists are fetched
(sha256-verified) and extracted (:mod:`nextedit.data.pypi`), the two trees are compared file by
file (modified and added code files; deleted files, service and non-code files dropped, added
files over ``max_added_lines`` lines dropped as probable moves) and the same ordering and
split-commit algorithm as for git commits produces examples.

An example's ``repository_url`` is ``pypi:<name>==<old version>`` and its ``revision`` is the old
version: the edit history applies to the *old* release tree, the expected patch moves toward the
new one. A large pair is cut into chunks of consecutive hunks (≤ ``max_chunk_units`` edited
lines each; :meth:`OrderedCommit.chunks`), each read as a commit on the old tree, so the
``uncommitted_diff`` of an example stays small. A chunk gives ``clamp(num_edits //
lines_per_sample, 1, max_samples)`` samples; a pair wanting more than ``max_pair_examples`` keeps a
seeded subset of its chunks, so one huge release does not swamp the dataset.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from pathlib import Path

from nextedit.data.commit import FileChange, OrderedCommit, order_commit
from nextedit.data.filters import has_marker, keep_file
from nextedit.data.ingest import IngestItem, SourceStage, decode_source
from nextedit.data.manifest import Manifest, Release, load_manifest
from nextedit.data.pypi import DownloadError, PypiCache, pypi_url
from nextedit.data.split_commit import SplitConfig, split_commit
from nextedit.schema.example import Example


def tree_files(root: Path) -> dict[str, Path]:
    """Relative POSIX path → file, for the regular files under ``root`` (symlinks ignored)."""
    out = {}
    for p in root.rglob("*"):
        if p.is_file() and not p.is_symlink():
            out[p.relative_to(root).as_posix()] = p
    return out


def read_text(path: Path, label: str) -> str:
    """UTF-8 text of a file; ``ValueError`` naming ``label`` if unreadable, binary or undecodable."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ValueError(f"{label}: unreadable: {e}") from e
    return decode_source(data, label)


def release_pair_commit(
    old_root: Path,
    new_root: Path,
    on_error: Callable[[str], None],
    keep: Callable[[str], bool] = keep_file,
    max_added_lines: int = 400,
    label: str = "",
    max_file_bytes: int = 300_000,
) -> OrderedCommit:
    """The ordered commit old tree → new tree (see module doc). Files over ``max_file_bytes``
    (generated tables, data) are left out."""
    old_files, new_files = tree_files(old_root), tree_files(new_root)
    changes: list[FileChange] = []
    for rel in sorted(new_files):
        if not keep(rel):
            continue
        if new_files[rel].stat().st_size > max_file_bytes or (
            rel in old_files and old_files[rel].stat().st_size > max_file_bytes
        ):
            continue
        try:
            new = read_text(new_files[rel], f"{label}{rel}")
            old = read_text(old_files[rel], f"{label}{rel}") if rel in old_files else ""
        except ValueError as e:
            on_error(str(e))
            continue
        if old == new:
            continue
        if rel not in old_files and new.count("\n") > max_added_lines:
            continue
        if has_marker(old) or has_marker(new):
            on_error(f"{label}{rel}: contains cursor/prompt marker strings")
            continue
        changes.append(FileChange(rel, old, new))
    return order_commit(changes)


class PypiIngest(SourceStage):
    """Source stage: examples from the consecutive release pairs of a manifest."""

    name = "ingest-pypi"

    def __init__(
        self,
        manifest: Manifest | str | Path | None = None,
        *,
        cache: PypiCache | None = None,
        seed: int = 0,
        lines_per_sample: int = 10,
        max_samples: int = 16,
        max_chunk_units: int = 300,
        max_pair_examples: int = 120,
        cfg: SplitConfig = SplitConfig(),
        packages: list[str] | None = None,
        on_error: Callable[[str], None] | None = None,
    ):
        super().__init__(on_error)
        self.manifest = manifest if isinstance(manifest, Manifest) else load_manifest(manifest)
        self.cache = cache or PypiCache()
        self.seed, self.cfg = seed, cfg
        self.lines_per_sample, self.max_samples = lines_per_sample, max_samples
        self.max_chunk_units = max_chunk_units
        self.max_pair_examples = max_pair_examples
        self.packages = set(packages) if packages else None

    def items(self) -> Iterator[IngestItem]:
        for old, new in self.manifest.pairs():
            if self.packages and old.name not in self.packages:
                continue
            yield IngestItem(
                key=f"{old.key}->{new.version}",
                label=f"{old.name} {old.version}→{new.version}",
                data=(old, new),
            )

    def examples_for(self, item: IngestItem) -> list[Example]:
        old, new = item.data
        old: Release
        new: Release
        try:
            old_root, new_root = self.cache.extract(old), self.cache.extract(new)
        except DownloadError as e:
            self.report(str(e))
            self.stats.drop("download failed")
            return []
        commit = release_pair_commit(old_root, new_root, self.report, label=f"{new.name}-{new.version}/")
        if commit.num_edits == 0:
            self.stats.drop("no code change")
            return []
        self.stats.count("release pairs used")
        chunks = commit.chunks(self.max_chunk_units)
        want = [max(1, min(self.max_samples, c.num_edits // self.lines_per_sample)) for c in chunks]
        chosen = set(range(len(chunks)))
        if self.max_pair_examples and sum(want) > self.max_pair_examples:
            # a huge release pair would swamp the dataset: keep a seeded subset of its chunks
            order = list(range(len(chunks)))
            random.Random(f"{self.seed}:{item.key}").shuffle(order)
            chosen, total = set(), 0
            for k in order:
                if total + want[k] <= self.max_pair_examples:
                    chosen.add(k)
                    total += want[k]
            self.stats.count("chunks left out (pair cap)", len(chunks) - len(chosen))
        out: list[Example] = []
        for k, chunk in enumerate(chunks):
            if k not in chosen:
                continue
            samples = want[k]
            name = f"{old.name}-{old.version}-{new.version}" + (f".{k}" if len(chunks) > 1 else "")
            out.extend(
                split_commit(
                    chunk,
                    name=name,
                    repository_url=pypi_url(old.name, old.version),
                    revision=old.version,
                    seed=self.seed,
                    samples=samples,
                    cfg=self.cfg,
                    tags=("source:pypi",),
                )
            )
        return out

    def close(self) -> None:
        self.cache.close()
