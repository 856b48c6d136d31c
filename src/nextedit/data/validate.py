"""Check that built examples are consistent with their projects.

For each example: read the base files (a ``pypi:`` release tree from the cache, or ``git show
<revision>:<path>`` for a local repository), apply ``uncommitted_diff`` then ``edit_history``,
check the cursor excerpt occurs in the cursor file, then apply the expected patch — all with
:mod:`nextedit.text.patch` in memory. :func:`check_examples` returns counts and the failures.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from nextedit.data.pypi import PYPI_PREFIX, resolve_pypi_url
from nextedit.io.markdown import cursor_excerpt
from nextedit.schema.example import Example
from nextedit.text.patch import PatchError, apply_patch, patch_files


def _reader(ex: Example, cache_root: Path | None) -> Callable[[str], str]:
    if ex.repository_url.startswith(PYPI_PREFIX):
        root = resolve_pypi_url(ex.repository_url, ex.revision, cache_root)

        def read(path: str) -> str:
            p = root / path
            return p.read_bytes().decode("utf-8") if p.exists() else ""

        return read
    repo = ex.repository_url

    def read_git(path: str) -> str:
        r = subprocess.run(["git", "-C", repo, "show", f"{ex.revision}:{path}"], capture_output=True)
        return r.stdout.decode("utf-8") if r.returncode == 0 else ""

    return read_git


def check_example(ex: Example, cache_root: Path | None = None) -> str | None:
    """None if the example is consistent, else the reason."""
    try:
        read = _reader(ex, cache_root)
    except (FileNotFoundError, ValueError) as e:
        return f"project: {e}"
    files: dict[str, str] = {}
    for stage, blob in (("uncommitted_diff", ex.uncommitted_diff), ("edit_history", ex.edit_history)):
        if not blob:
            continue
        for path in patch_files(blob):
            if path not in files:
                files[path] = read(path)
            try:
                files[path] = apply_patch(files[path], blob, path)
            except PatchError as e:
                return f"{stage} {path}: {e}"
    if ex.cursor_path not in files:
        files[ex.cursor_path] = read(ex.cursor_path)
    excerpt, _ = cursor_excerpt(ex.cursor_position, ex.cursor_path)
    if excerpt.strip() and excerpt not in files[ex.cursor_path]:
        return "cursor excerpt not found in the cursor file"
    for patch in ex.expected_patches:
        for path in patch_files(patch) if patch else []:
            if path not in files:
                files[path] = read(path)
            try:
                apply_patch(files[path], patch, path)
            except PatchError as e:
                return f"expected patch {path}: {e}"
    return None


@dataclass
class CheckReport:
    total: int = 0
    ok: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.ok / self.total if self.total else 1.0


def check_examples(examples: Iterable[Example], cache_root: Path | None = None) -> CheckReport:
    rep = CheckReport()
    for ex in examples:
        rep.total += 1
        why = check_example(ex, cache_root)
        if why is None:
            rep.ok += 1
        else:
            rep.failures.append((ex.name, why))
    return rep
