"""A commit as an *ordered* sequence of edited lines — the input of split-commit (zeta.md §3.10).

A commit is a list of :class:`FileChange` (old text → new text of one file). Each file's line diff
gives hunks; each hunk's edited lines become *units* (``("-", i)`` deletes old line ``i`` of the
hunk, ``("+", j)`` adds new line ``j``). A modification block is interleaved pairwise
(``-a +A -b +B``), the way a person rewrites lines top to bottom.

:func:`order_commit` puts the hunks into a plausible typing order: all hunks of a file together,
files whose new definitions are used by other changed files first, code before tests, otherwise by
path; inside a file top to bottom, except that a hunk defining a name moves before the hunks that
use it. ``num_edits`` (§3.10 step 1) is the number of units.

:func:`render` materialises the file text after any prefix of the units, plus an optional
half-typed line, and reports where each hunk's region landed (for diffs and cursor placement).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from nextedit.data.filters import is_service_file, is_test_file
from nextedit.text.diff import line_diff, split_lines

Unit = tuple[str, int]

_DEF_RE = re.compile(
    r"^\s*(?:(?:async\s+)?def|class|fn|func|function|struct|enum|trait|interface|type|"
    r"(?:pub(?:\([^)]*\))?\s+)?(?:const|static|let|var|mod))\s+\*?([A-Za-z_]\w*)"
    r"|^\s*([A-Za-z_]\w*)\s*(?::[^=\n]*)?=(?!=)"
)
_IDENT_RE = re.compile(r"[A-Za-z_]\w*")


@dataclass
class FileChange:
    """One file of a commit: ``old`` → ``new`` (``old == ""`` for an added file)."""

    path: str
    old: str
    new: str
    old_lines: list[str] = field(default_factory=list, repr=False)
    new_lines: list[str] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self.old_lines = split_lines(self.old)
        self.new_lines = split_lines(self.new)


@dataclass
class Hunk:
    """Old lines ``[old_start, old_end)`` → new lines ``[new_start, new_end)`` of ``files[file]``."""

    file: int
    old_start: int
    old_end: int
    new_start: int
    new_end: int
    units: list[Unit] = field(default_factory=list)
    n_del: int = field(init=False, default=0)
    n_add: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.n_del = self.old_end - self.old_start
        self.n_add = self.new_end - self.new_start


@dataclass
class OrderedCommit:
    """A commit's hunks in typing order; ``units`` flattens them as ``(hunk index, unit index)``."""

    files: list[FileChange]
    hunks: list[Hunk]
    units: list[tuple[int, int]] = field(default_factory=list, repr=False)
    # per file: indices into ``hunks`` sorted by old_start (for rendering)
    file_hunks: list[list[int]] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self.units = [(h, u) for h, hunk in enumerate(self.hunks) for u in range(len(hunk.units))]
        self.file_hunks = [[] for _ in self.files]
        for i, h in enumerate(self.hunks):
            self.file_hunks[h.file].append(i)
        for lst in self.file_hunks:
            lst.sort(key=lambda i: self.hunks[i].old_start)

    @property
    def num_edits(self) -> int:
        return len(self.units)

    def chunks(self, max_units: int) -> list[OrderedCommit]:
        """Consecutive runs of hunks with at most ``max_units`` units each (a hunk larger than that
        is a chunk on its own). Each chunk is a valid commit on the same old files: hunks of a
        file are independent, so applying any subset of them is well defined."""
        out: list[list[Hunk]] = [[]]
        size = 0
        for h in self.hunks:
            if out[-1] and size + len(h.units) > max_units:
                out.append([])
                size = 0
            out[-1].append(h)
            size += len(h.units)
        return [OrderedCommit(self.files, hs) for hs in out if hs]

    def unit_path(self, k: int) -> str:
        return self.files[self.hunks[self.units[k][0]].file].path

    def is_service_unit(self, k: int) -> bool:
        return is_service_file(self.unit_path(k))


def _hunk_units(n_del: int, n_add: int) -> list[Unit]:
    units: list[Unit] = []
    for i in range(max(n_del, n_add)):
        if i < n_del:
            units.append(("-", i))
        if i < n_add:
            units.append(("+", i))
    return units


def _defs_and_uses(lines: list[str]) -> tuple[set[str], set[str]]:
    defs: set[str] = set()
    uses: set[str] = set()
    for line in lines:
        m = _DEF_RE.match(line)
        if m:
            defs.add(m.group(1) or m.group(2))
        uses.update(_IDENT_RE.findall(line))
    return defs, uses - defs


def _topo(n: int, deps: dict[int, set[int]], key) -> list[int]:  # noqa: ANN001
    """Stable topological order of ``range(n)``: among ready items the smallest ``key`` first;
    a cycle is broken by taking the smallest remaining item."""
    if not deps:
        return sorted(range(n), key=key)
    remaining = set(range(n))
    order: list[int] = []
    while remaining:
        ready = [i for i in remaining if not (deps.get(i, set()) & remaining)]
        pick = min(ready or remaining, key=key)
        order.append(pick)
        remaining.discard(pick)
    return order


def order_commit(files: list[FileChange]) -> OrderedCommit:
    """Diff every file and order all hunks into a plausible typing order (see module doc)."""
    per_file: list[list[Hunk]] = []
    for fi, fc in enumerate(files):
        hunks = []
        for d in line_diff(fc.old, fc.new):
            h = Hunk(fi, d.old_start, d.old_end, d.new_start, d.new_end)
            h.units = _hunk_units(h.n_del, h.n_add)
            if h.units:
                hunks.append(h)
        per_file.append(hunks)
    info = [
        [_defs_and_uses(files[h.file].new_lines[h.new_start : h.new_end]) for h in hunks]
        for hunks in per_file
    ]
    # file order: a file defining names another changed file uses goes first
    file_defs = [set().union(*(d for d, _ in inf)) if inf else set() for inf in info]
    file_uses = [set().union(*(u for _, u in inf)) if inf else set() for inf in info]
    n = len(files)
    fdeps: dict[int, set[int]] = {}
    if n <= 200:
        for b in range(n):
            for a in range(n):
                if a != b and file_defs[a] & file_uses[b] and not (file_defs[b] & file_uses[a]):
                    fdeps.setdefault(b, set()).add(a)
    file_order = _topo(n, fdeps, key=lambda i: (is_test_file(files[i].path), files[i].path))
    ordered: list[Hunk] = []
    for fi in file_order:
        hunks = per_file[fi]
        deps: dict[int, set[int]] = {}
        if len(hunks) <= 200:
            for b, (_, uses_b) in enumerate(info[fi]):
                for a, (defs_a, _) in enumerate(info[fi]):
                    if a > b and defs_a & uses_b:
                        deps.setdefault(b, set()).add(a)
        for i in _topo(len(hunks), deps, key=lambda i: i):
            ordered.append(hunks[i])
    return OrderedCommit(files, ordered)


# ------------------------------------------------------------------------------------ render


@dataclass
class Rendered:
    """A file's text after some units: ``lines`` plus, per hunk index, ``(start row, row count)``
    of its region, and the rows of requested marks."""

    lines: list[str]
    regions: dict[int, tuple[int, int]]
    marks: dict[tuple[int, str, int], int]

    @property
    def text(self) -> str:
        return "".join(self.lines)


def render(
    commit: OrderedCommit,
    file: int,
    applied: dict[int, int],
    partial: tuple[int, int, str] | None = None,
    marks: set[tuple[int, str, int]] | frozenset = frozenset(),
) -> Rendered:
    """Text of ``files[file]`` with the first ``applied[h]`` units of each hunk ``h`` applied.

    ``partial = (hunk, add index, text)`` puts a half-typed line where that added line goes.
    ``marks`` are ``(hunk, "+"|"-", index)``: the row where that new/old line is or would be.
    A line lacking its newline that is not last gets one (so lines never merge).
    """
    fc = commit.files[file]
    old, new = fc.old_lines, fc.new_lines
    if not applied and partial is None and not marks:
        return _render_old(commit, file)
    out: list[str] = []
    regions: dict[int, tuple[int, int]] = {}
    mrows: dict[tuple[int, str, int], int] = {}
    unterminated: list[int] = []  # rows of region lines lacking "\n" (at most a few)
    pos = 0
    marked = {m[0] for m in marks}
    if partial is not None:
        marked.add(partial[0])
    for hi in commit.file_hunks[file]:
        h = commit.hunks[hi]
        out.extend(old[pos : h.old_start])
        start = len(out)
        k = applied.get(hi, 0)
        plain = hi not in marked
        if plain and k == 0:
            out.extend(old[h.old_start : h.old_end])
            if h.old_end == len(old) and old and not old[-1].endswith("\n"):
                unterminated.append(len(out) - 1)
        elif plain and k == len(h.units):
            out.extend(new[h.new_start : h.new_end])
            if h.new_end == len(new) and new and not new[-1].endswith("\n"):
                unterminated.append(len(out) - 1)
        else:
            done = h.units[:k]
            dels = {i for kind, i in done if kind == "-"}
            adds = {j for kind, j in done if kind == "+"}
            for i in range(max(h.n_del, h.n_add)):
                if i < h.n_del:
                    if (hi, "-", i) in marks:
                        mrows[(hi, "-", i)] = len(out)
                    if i not in dels:
                        out.append(old[h.old_start + i])
                if i < h.n_add:
                    if (hi, "+", i) in marks:
                        mrows[(hi, "+", i)] = len(out)
                    if i in adds:
                        out.append(new[h.new_start + i])
                    elif partial is not None and partial[0] == hi and partial[1] == i:
                        out.append(partial[2])
                    else:
                        continue
                    if not out[-1].endswith("\n"):
                        unterminated.append(len(out) - 1)
                if i < h.n_del and i not in dels and not out[-1].endswith("\n"):
                    unterminated.append(len(out) - 1)
        regions[hi] = (start, len(out) - start)
        pos = h.old_end
    out.extend(old[pos:])
    for r in unterminated:
        if r < len(out) - 1 and not out[r].endswith("\n"):
            out[r] += "\n"
    return Rendered(out, regions, mrows)


def _render_old(commit: OrderedCommit, file: int) -> Rendered:
    """The untouched file (cached on the commit: it is rendered for every sample)."""
    cache = commit.__dict__.setdefault("_old_renders", {})
    got = cache.get(file)
    if got is None:
        old = commit.files[file].old_lines
        regions = {hi: (commit.hunks[hi].old_start, commit.hunks[hi].n_del) for hi in commit.file_hunks[file]}
        got = cache[file] = Rendered(old, regions, {})
    return got
