"""Related definitions for a cursor (§1.10 "LSP context"), emulated with the symbol index.

1. Identifiers on rows cursor±3 plus those in the signatures of the outline items enclosing the
   cursor; deduplicated by name (closest occurrence), the 32 closest by byte distance kept; equal
   distances share a rank (dense ranking: 0, 1, 2...).
2. Each name is resolved through the :class:`~nextedit.context.symbols.SymbolIndex` (our
   go-to-definition; targets longer than 128 bytes are skipped). Name lookup is ambiguous where
   LSP is not, so candidates are ranked: the cursor file, then files the cursor file imports, then
   its directory, then anywhere; a name defined in too many unrelated places is skipped, and
   variables/fields are only taken from the cursor file or imported files.
3. A definition expands to whole lines of its outline item; an item whose body is over 512 bytes
   contributes its header (signature) lines, its children's signatures and a closing line instead
   of the body; enclosing items contribute their headers. Gaps between kept rows render as
   ``...`` at prompt time.
4. One :class:`RelatedFile` per file (path = ``root_name/relative``), excerpts = contiguous row
   runs in row order, ``order`` = the best rank among their rows; files sorted by (min order, path).

Offsets are UTF-8 bytes; ``row_range`` ends are exclusive; ``max_row`` is the last row index.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nextedit.context.languages import Language, language_for_path
from nextedit.context.symbols import Symbol, SymbolIndex, enclosing, extract_symbols
from nextedit.context.syntax import parse
from nextedit.schema.request import ByteRange, RelatedExcerpt, RelatedFile
from nextedit.text.lines import line_starts

MAX_IDENTIFIERS = 32
IDENTIFIER_ROW_WINDOW = 3
MAX_TARGET_BYTES = 128
LARGE_BODY_BYTES = 512
MAX_DEFINITIONS_PER_NAME = 2
MAX_UNRELATED_CANDIDATES = 3
SOURCE_LSP = "lsp"
SOURCE_BM25 = "bm25"

_IDENT_RE = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")
_KEYWORDS = frozenset(
    b"""and as assert async await break case catch class const continue def del do elif else enum
    except export extends false final finally fn for from func function go if impl import in interface
    is let loop match mod module mut new nil none not null or package pass private protected pub public
    raise return self static struct super switch this throw trait true try type typeof use var void
    while with yield None True False int str bool float char u8 u16 u32 u64 i32 i64 usize isize""".split()
)
_CLOSER_RE = re.compile(r"^\s*[})\]]+[;,)]*\s*$|^\s*end\s*$")


@dataclass(frozen=True)
class Identifier:
    """A name near the cursor: its closest occurrence ``start..end`` (bytes), its byte distance
    to the cursor (0 = the cursor touches it) and its rank (equal distances share one)."""

    name: str
    start: int
    end: int
    distance: int
    rank: int = 0


def _distance(start: int, end: int, cursor: int) -> int:
    if start <= cursor <= end:
        return 0
    return start - cursor if start > cursor else cursor - end


def _identifier_nodes(node: Any, lo: int, hi: int, out: list[tuple[int, int, bytes]]) -> None:
    """Leaf identifier-like nodes overlapping ``lo..hi``."""
    stack = [node]
    while stack:
        n = stack.pop()
        if n.end_byte < lo or n.start_byte > hi:
            continue
        if n.child_count == 0:
            t = n.type
            if (t.endswith("identifier") or t in ("constant", "name")) and n.start_byte < hi and n.end_byte > lo:
                out.append((n.start_byte, n.end_byte, n.text))
            continue
        stack.extend(n.children)


def _regex_identifiers(data: bytes, lo: int, hi: int, out: list[tuple[int, int, bytes]]) -> None:
    for m in _IDENT_RE.finditer(data, lo, hi):
        if m.group() not in _KEYWORDS:
            out.append((m.start(), m.end(), m.group()))


def identifiers_near_cursor(
    data: bytes,
    cursor: int,
    *,
    tree: Any | None = None,
    outline: list[Symbol] | None = None,
    row_window: int = IDENTIFIER_ROW_WINDOW,
    limit: int = MAX_IDENTIFIERS,
) -> list[Identifier]:
    """The ranked identifiers whose definitions are looked up (step 1 of the module docstring).

    ``tree``: the buffer's tree-sitter tree (regex fallback without it); ``outline``: the
    buffer's symbols (for the enclosing items' signatures).
    """
    starts = line_starts(data)
    import bisect

    row = bisect.bisect_right(starts, cursor) - 1
    lo = starts[max(0, row - row_window)]
    last = min(len(starts) - 1, row + row_window)
    hi = starts[last + 1] if last + 1 < len(starts) else len(data)
    found: list[tuple[int, int, bytes]] = []
    windows = [(lo, hi)]
    for i in enclosing(outline or [], cursor):
        s = outline[i]  # type: ignore[index]
        windows.append((s.start, s.header_end))
    for a, b in windows:
        if tree is not None:
            _identifier_nodes(tree.root_node, a, b, found)
        else:
            _regex_identifiers(data, a, b, found)
    best: dict[bytes, tuple[int, int, int]] = {}
    for s, e, name in found:
        if len(name) > MAX_TARGET_BYTES or not name.strip():
            continue
        d = _distance(s, e, cursor)
        if name not in best or d < best[name][2]:
            best[name] = (s, e, d)
    items = sorted(best.items(), key=lambda kv: (kv[1][2], kv[1][0]))[:limit]
    out: list[Identifier] = []
    rank, prev = -1, None
    for name, (s, e, d) in items:
        if d != prev:
            rank += 1
            prev = d
        out.append(Identifier(name.decode("utf-8", "replace"), s, e, d, rank))
    return out


# ---------------------------------------------------------------------------- resolution

_PY_IMPORT = re.compile(r"^\s*(?:from\s+(\.*[\w.]*)\s+import\s+([\w., ()]+)|import\s+([\w.]+))", re.M)
_STR_IMPORT = re.compile(r"""(?:from|import|require\s*\(|include)\s*['"<]([^'">]+)['">]""")
_RUST_USE = re.compile(r"^\s*(?:pub\s+)?(?:use|mod)\s+([\w:]+)", re.M)
_JAVA_IMPORT = re.compile(r"^\s*import\s+(?:static\s+)?([\w.]+)", re.M)


def import_hints(text: str, path: str) -> list[tuple[str, ...]]:
    """Module paths the buffer imports, as path components relative to the tree root where
    resolvable (``from .models import X`` in ``pkg/a.py`` → ``("pkg", "models")``)."""
    here = posixpath.dirname(path)
    out: list[tuple[str, ...]] = []
    for m in _PY_IMPORT.finditer(text):
        mod = m.group(1) if m.group(1) is not None else m.group(3)
        if mod is None:
            continue
        dots = len(mod) - len(mod.lstrip("."))
        parts = [p for p in mod.lstrip(".").split(".") if p]
        if dots:
            base = here
            for _ in range(dots - 1):
                base = posixpath.dirname(base)
            parts = [p for p in base.split("/") if p] + parts
        if m.group(2):  # `from pkg import mod` may name submodules too
            for name in re.findall(r"\w+", m.group(2)):
                out.append((*parts, name))
        if parts:
            out.append(tuple(parts))
    for m in _STR_IMPORT.finditer(text):
        spec = m.group(1)
        if spec.startswith("."):
            spec = posixpath.normpath(posixpath.join(here, spec))
        out.append(tuple(p for p in re.split(r"[/.]", spec) if p and p not in ("js", "ts", "h", "hpp")))
    for m in _RUST_USE.finditer(text):
        out.append(tuple(p for p in m.group(1).split("::") if p and p not in ("crate", "self", "super")))
    for m in _JAVA_IMPORT.finditer(text):
        out.append(tuple(m.group(1).split(".")))
    return [h for h in out if h]


def _module_parts(path: str) -> tuple[str, ...]:
    stem = posixpath.splitext(path)[0]
    parts = tuple(p for p in stem.split("/") if p)
    if parts and parts[-1] in ("__init__", "index", "mod", "lib"):
        parts = parts[:-1]
    return parts


class ImportMatcher:
    """Does a file path match one of the buffer's imports? A path matches an import ``h`` when
    its module path (or its directory) ends with ``h`` entirely, or with ``h``'s last two
    components, or — for a one-component import — with that component. O(1) per path."""

    def __init__(self, hints: list[tuple[str, ...]]) -> None:
        self.allowed: dict[int, set[tuple[str, ...]]] = {}
        for h in hints:
            ks = {len(h), min(2, len(h))}
            for k in ks:
                if k >= 2 or len(h) == 1:
                    self.allowed.setdefault(k, set()).add(h[-k:])
        self._memo: dict[str, bool] = {}

    def __call__(self, path: str) -> bool:
        hit = self._memo.get(path)
        if hit is None:
            parts = _module_parts(path)
            dir_parts = tuple(p for p in posixpath.dirname(path).split("/") if p)
            hit = any(parts[-k:] in sfx or dir_parts[-k:] in sfx for k, sfx in self.allowed.items())
            self._memo[path] = hit
        return hit


def resolve(
    name: str,
    index: SymbolIndex,
    cursor_path: str,
    hints: list[tuple[str, ...]] | ImportMatcher,
    buffer_symbols: list[Symbol] | None = None,
) -> list[Symbol]:
    """Definitions of ``name`` as go-to-definition from ``cursor_path`` would most likely find
    them (see the module docstring), at most :data:`MAX_DEFINITIONS_PER_NAME`.
    ``buffer_symbols``: the current outline of the cursor buffer, used instead of the index's
    (possibly stale) entry for that file."""
    imported = hints if isinstance(hints, ImportMatcher) else ImportMatcher(hints)
    cands = index.definitions(name)
    if buffer_symbols is not None:
        cands = [c for c in cands if c.path != cursor_path] + [s for s in buffer_symbols if s.name == name]
    if not cands:
        return []
    if any(c.kind != "impl" for c in cands):
        cands = [c for c in cands if c.kind != "impl"]
    here = posixpath.dirname(cursor_path)
    tiers: dict[str, int] = {}

    def tier(path: str) -> int:
        t = tiers.get(path)
        if t is None:
            if path == cursor_path:
                t = 3
            elif imported.allowed and imported(path):
                t = 2
            elif posixpath.dirname(path) == here:
                t = 1
            else:
                t = 0
            tiers[path] = t
        return t

    best, chosen = -1, []
    for c in cands:
        t = tier(c.path)
        if t > best:
            best, chosen = t, [c]
        elif t == best:
            chosen.append(c)
    if best <= 1:
        chosen = [c for c in chosen if c.kind not in ("variable", "field")]
        if len(chosen) > MAX_UNRELATED_CANDIDATES:
            return []
    chosen.sort(key=lambda c: (c.path, c.start))
    return [c for c in chosen if c.name_end - c.name_start <= MAX_TARGET_BYTES][:MAX_DEFINITIONS_PER_NAME]


# ---------------------------------------------------------------------------- expansion


def definition_rows(symbols: list[Symbol], index: int, lines: list[str]) -> set[int]:
    """Rows shown for the definition ``symbols[index]`` (rule 3 of the module docstring)."""
    s = symbols[index]
    rows: set[int] = set()

    def closing(sym: Symbol) -> None:
        if sym.end_row > sym.header_end_row and sym.end_row < len(lines) and _CLOSER_RE.match(lines[sym.end_row]):
            rows.add(sym.end_row)

    if s.end - s.header_end > LARGE_BODY_BYTES:
        rows.update(range(s.start_row, s.header_end_row + 1))
        for c in symbols:
            if c.parent == index:
                rows.update(range(c.start_row, c.header_end_row + 1))
        closing(s)
    else:
        rows.update(range(s.start_row, s.end_row + 1))
    p = s.parent
    while p >= 0:
        anc = symbols[p]
        rows.update(range(anc.start_row, anc.header_end_row + 1))
        closing(anc)
        p = anc.parent
    return rows


def _runs(rows: dict[int, int]) -> list[tuple[int, int, int]]:
    """Contiguous runs ``(first, last, min rank)`` of ``rows`` (row → rank)."""
    out: list[tuple[int, int, int]] = []
    for r in sorted(rows):
        if out and out[-1][1] == r - 1:
            a, _b, k = out[-1]
            out[-1] = (a, r, min(k, rows[r]))
        else:
            out.append((r, r, rows[r]))
    return out


def build_related_file(
    display_path: str,
    text: str,
    rows: dict[int, int],
    *,
    source: str,
    in_open_source_repo: bool = False,
) -> RelatedFile:
    """A :class:`RelatedFile` showing ``rows`` (row → order) of ``text``."""
    lines = text.split("\n")  # rows as tree-sitter counts them (only \n breaks a line)
    max_row = len(lines) - 1
    excerpts = []
    for a, b, order in _runs({r: k for r, k in rows.items() if 0 <= r < len(lines)}):
        excerpts.append(
            RelatedExcerpt(
                row_range=ByteRange(start=a, end=b + 1),
                text="\n".join(lines[a : b + 1]) + ("\n" if b < max_row else ""),
                order=order,
                context_source=source,
            )
        )
    return RelatedFile(path=display_path, max_row=max_row, in_open_source_repo=in_open_source_repo, excerpts=excerpts)


def sort_related_files(files: Iterable[RelatedFile]) -> list[RelatedFile]:
    """Files by (best excerpt order, path); files sharing a path are merged first (rows shown by
    both keep the earlier source's order and ``context_source``)."""
    merged: dict[str, RelatedFile] = {}
    for f in files:
        if f.path in merged:
            merged[f.path] = _merge_two(merged[f.path], f)
        else:
            merged[f.path] = f
    return sorted(merged.values(), key=lambda f: (min((e.order for e in f.excerpts), default=1 << 30), f.path))


def _merge_two(a: RelatedFile, b: RelatedFile) -> RelatedFile:
    rows: dict[int, tuple[int, str | None, str]] = {}
    for f in (a, b):
        for e in f.excerpts:
            lines = e.text.split("\n")
            for k in range(e.row_range.end - e.row_range.start):
                r = e.row_range.start + k
                if r not in rows:
                    rows[r] = (e.order, e.context_source, lines[k] if k < len(lines) else "")
    runs: list[tuple[int, int, str | None, list[str]]] = []  # (first row, order, source, lines)
    for r in sorted(rows):
        order, source, line = rows[r]
        if runs and runs[-1][0] + len(runs[-1][3]) == r and runs[-1][2] == source:
            first, o, src, lines = runs[-1]
            lines.append(line)
            runs[-1] = (first, min(o, order), src, lines)
        else:
            runs.append((r, order, source, [line]))
    excerpts = [
        RelatedExcerpt(
            row_range=ByteRange(start=first, end=first + len(lines)),
            text="\n".join(lines) + ("\n" if first + len(lines) - 1 < a.max_row else ""),
            order=order,
            context_source=source,
        )
        for first, order, source, lines in runs
    ]
    return RelatedFile(path=a.path, max_row=a.max_row, in_open_source_repo=a.in_open_source_repo, excerpts=excerpts)


class _FileCache:
    """Texts and outlines of files under ``root`` for one request (read each file once)."""

    def __init__(self, root: Path, index: SymbolIndex | None, overrides: dict[str, str]) -> None:
        self.root, self.index, self.overrides = root, index, overrides
        self._text: dict[str, str | None] = {}
        self._outline: dict[str, list[Symbol]] = {}

    def text(self, rel: str) -> str | None:
        if rel not in self._text:
            if rel in self.overrides:
                self._text[rel] = self.overrides[rel]
            else:
                try:
                    self._text[rel] = (self.root / rel).read_text(encoding="utf-8", errors="replace")
                except OSError:
                    self._text[rel] = None
        return self._text[rel]

    def outline(self, rel: str) -> list[Symbol]:
        if rel not in self._outline:
            syms = self.index.file_symbols(rel) if self.index is not None and rel not in self.overrides else []
            if not syms:
                t = self.text(rel)
                syms = extract_symbols(t.encode("utf-8"), rel) if t is not None else []
            self._outline[rel] = syms
        return self._outline[rel]


def related_definitions(
    root: str | Path,
    cursor_path: str,
    text: str,
    cursor_offset: int,
    index: SymbolIndex,
    *,
    root_name: str | None = None,
    in_open_source_repo: bool = False,
    language: Language | None = None,
) -> list[RelatedFile]:
    """LSP-style related files for a cursor at byte ``cursor_offset`` of ``text`` (the current
    buffer of ``cursor_path``, relative to ``root``). ``[]`` when nothing resolves."""
    root = Path(root)
    root_name = root.name if root_name is None else root_name
    language = language or language_for_path(cursor_path)
    data = text.encode("utf-8")
    tree = parse(data, language) if language is not None else None
    outline = extract_symbols(data, cursor_path, language, tree=tree) if tree is not None else []
    idents = identifiers_near_cursor(data, cursor_offset, tree=tree, outline=outline)
    hints = ImportMatcher(import_hints(text, cursor_path))
    files = _FileCache(root, index, {cursor_path: text})
    shown: dict[str, dict[int, int]] = {}
    for ident in idents:
        for sym in resolve(ident.name, index, cursor_path, hints, outline):
            syms = outline if sym.path == cursor_path else files.outline(sym.path)
            t = files.text(sym.path)
            if t is None:
                continue
            try:
                i = next(j for j, s in enumerate(syms) if (s.start, s.name) == (sym.start, sym.name))
            except StopIteration:
                continue
            rows = definition_rows(syms, i, t.split("\n"))
            dest = shown.setdefault(sym.path, {})
            for r in rows:
                dest[r] = min(dest.get(r, ident.rank), ident.rank)
    return _related_files(shown, files, root_name, SOURCE_LSP, in_open_source_repo)


def _related_files(
    shown: dict[str, dict[int, int]], files: _FileCache, root_name: str, source: str, in_open_source_repo: bool
) -> list[RelatedFile]:
    """The related files for ``shown`` (path → shown row → rank, lower first), named ``root_name/path``,
    best first; a file that cannot be read is left out."""
    out = []
    for rel, rows in shown.items():
        t = files.text(rel)
        if t is None:
            continue
        display = f"{root_name}/{rel}" if root_name else rel
        out.append(build_related_file(display, t, rows, source=source, in_open_source_repo=in_open_source_repo))
    return sort_related_files(out)


def bm25_related(
    bm25: Any,
    cursor_path: str,
    text: str,
    cursor_offset: int,
    *,
    root: str | Path,
    root_name: str | None = None,
    exclude_rows: tuple[int, int] | None = None,
    k: int = 5,
    in_open_source_repo: bool = False,
) -> list[RelatedFile]:
    """BM25 fallback: the ``k`` best 40-line chunks for the cursor's ±20-line window as query,
    excluding the cursor file's ``exclude_rows`` (first, last inclusive; the excerpt shown)."""
    root = Path(root)
    root_name = root.name if root_name is None else root_name
    data = text.encode("utf-8")
    starts = line_starts(data)
    import bisect

    row = bisect.bisect_right(starts, min(cursor_offset, len(data))) - 1
    a = starts[max(0, row - 20)]
    last = min(len(starts) - 1, row + 20)
    b = starts[last + 1] if last + 1 < len(starts) else len(data)
    query = data[a:b].decode("utf-8", "replace")
    excl = [(cursor_path, *exclude_rows)] if exclude_rows else [(cursor_path, max(0, row - 20), last)]
    hits = bm25.search(query, k=k, exclude=excl)
    files = _FileCache(root, None, {cursor_path: text})
    shown: dict[str, dict[int, int]] = {}
    for order, h in enumerate(hits):
        dest = shown.setdefault(h.path, {})
        for r in range(h.start_row, h.end_row + 1):
            dest[r] = min(dest.get(r, order), order)
    return _related_files(shown, files, root_name, SOURCE_BM25, in_open_source_repo)
