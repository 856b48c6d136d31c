"""A symbol index over a working tree: where each name is defined (our stand-in for LSP
go-to-definition).

Definitions come from tree-sitter queries in ``queries/<language>.scm`` (captures ``@name`` and
``@definition.<kind>``). Each :class:`Symbol` records the item's byte/row range, the name's range
and the header (signature) range: the item up to its body. Symbols of a file are kept sorted by
start offset with ``parent`` links, so a file's symbol list doubles as its outline.

The index is built once per tree, then kept current with :meth:`SymbolIndex.update` (a changed
mtime or size re-parses the file). Building a large tree can run in a background thread
(:meth:`SymbolIndex.start`) while lookups see the files indexed so far, and can be persisted to a
pickle cache so the next process re-parses only what changed.

All offsets are UTF-8 bytes; rows are 0-based; ``end_row`` is inclusive.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import pickle
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from nextedit.context.languages import Language, language_for_path, ts_language

MAX_FILE_BYTES = 1 << 20
"""Files larger than this are not indexed (generated code, data)."""
MAX_FILES = 200_000
SKIP_DIRS = frozenset(
    {
        ".git", ".hg", ".svn", "node_modules", "bower_components", "__pycache__", ".venv", "venv",
        ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".idea", ".vscode", "build",
        "dist", "target", "vendor", "_vendor", ".next", ".cache", ".eggs", ".gradle", ".terraform",
    }
)
CACHE_VERSION = 1

# Node types that are an item's body: the header/signature is everything before it.
BODY_TYPES = frozenset(
    {
        "block", "class_body", "declaration_list", "field_declaration_list", "enum_variant_list",
        "interface_body", "enum_body", "statement_block", "object_type", "compound_statement",
        "body_statement", "field_list", "struct_type", "interface_type", "annotation_type_body",
        "record_body", "constructor_body", "enum_member_declaration_list", "class_heritage_body",
        "function_body", "template_body", "protocol_body", "enum_class_body",
    }
)
# Parents that belong to the item (decorators, ``export``): the item range grows to include them.
WRAPPER_TYPES = frozenset({"decorated_definition", "export_statement", "template_declaration"})
CONTAINER_KINDS = frozenset({"class", "struct", "impl", "trait", "interface", "enum", "module"})


@dataclass(frozen=True, slots=True)
class Symbol:
    """One definition. ``start..end`` is the whole item (with decorators/export), ``name_start..
    name_end`` the defined name, ``start..header_end`` the signature (the item before its body;
    the whole item when it has no body). ``parent`` indexes the enclosing item in the file's
    symbol list (-1 = top level)."""

    name: str
    kind: str
    path: str
    start: int
    end: int
    start_row: int
    end_row: int
    name_start: int
    name_end: int
    header_end: int
    header_end_row: int
    parent: int = -1

    @property
    def body_bytes(self) -> int:
        return self.end - self.header_end


@dataclass(slots=True)
class FileEntry:
    path: str
    mtime_ns: int
    size: int
    symbols: list[Symbol] = field(default_factory=list)


#: languages whose definitions are written exactly like another's (same node types)
SHARED_QUERIES = {"tsx": "typescript"}


@cache
def _query(lang_name: str, grammar: str) -> Any | None:
    qfile = Path(__file__).with_name("queries") / f"{SHARED_QUERIES.get(lang_name, lang_name)}.scm"
    lang = ts_language(grammar)
    if lang is None or not qfile.exists():
        return None
    from tree_sitter import Query

    return Query(lang, qfile.read_text(encoding="utf-8"))


def has_symbol_queries(language: Language | None) -> bool:
    return language is not None and language.grammar is not None and _query(language.name, language.grammar) is not None


def _body_node(item: Any) -> Any | None:
    body = item.child_by_field_name("body")
    if body is not None:
        return body
    frontier = list(item.named_children)
    for _ in range(3):  # a shallow search: Go's type_spec → struct_type, C's struct_specifier...
        nxt = []
        for n in frontier:
            if n.type in BODY_TYPES:
                return n
            nxt.extend(n.named_children)
        frontier = nxt
    return None


def extract_symbols(
    text: bytes, path: str, language: Language | None = None, *, tree: Any | None = None
) -> list[Symbol]:
    """Definitions in one file (``text`` = its bytes), sorted by start, with parent links.
    ``tree``: an already parsed tree of ``text`` (saves a parse)."""
    language = language or language_for_path(path)
    if language is None or language.grammar is None:
        return []
    query = _query(language.name, language.grammar)
    if query is None:
        return []
    from tree_sitter import QueryCursor

    from nextedit.context.syntax import parse

    if tree is None:
        tree = parse(text, language, cache=False)
    if tree is None:
        return []
    raw: dict[tuple[int, int, str], tuple[int, str, Any, Any]] = {}
    for pattern, caps in QueryCursor(query).matches(tree.root_node):
        names = caps.get("name")
        if not names:
            continue
        for key, nodes in caps.items():
            if not key.startswith("definition."):
                continue
            item, name_node = nodes[0], names[0]
            ident = (item.start_byte, item.end_byte, name_node.text.decode("utf-8", "replace"))
            if ident not in raw or pattern < raw[ident][0]:  # earlier pattern wins (struct > type)
                raw[ident] = (pattern, key.split(".", 1)[1], item, name_node)
    items = []
    for (_s, _e, name), (_p, kind, item, name_node) in raw.items():
        outer = item
        while outer.parent is not None and outer.parent.type in WRAPPER_TYPES:
            outer = outer.parent
        end, end_row = outer.end_byte, outer.end_point.row
        while end > outer.start_byte and text[end - 1] in b" \t\r\n":
            end -= 1
        if end < outer.end_byte:
            end_row -= text.count(b"\n", end, outer.end_byte)
        body = _body_node(item)
        if body is not None and body.start_byte > item.start_byte:
            # The header ends before the body; its last row is that of its last non-blank byte
            # (Python's block starts on the next line, a `{` on the header's own line).
            header_end = body.start_byte
            while header_end > outer.start_byte and text[header_end - 1] in b" \t\r\n":
                header_end -= 1
            header_end_row = outer.start_point.row + text.count(b"\n", outer.start_byte, header_end)
        else:
            header_end, header_end_row = end, end_row
        items.append((outer.start_byte, -end, name, kind, outer, end_row, name_node, header_end, header_end_row))
    items.sort(key=lambda t: (t[0], t[1], t[2]))
    symbols: list[Symbol] = []
    stack: list[int] = []  # indices of open ancestors
    for start, neg_end, name, kind, outer, end_row, name_node, header_end, header_end_row in items:
        end = -neg_end
        while stack and not _strictly_contains(symbols[stack[-1]], start, end):
            stack.pop()
        parent = stack[-1] if stack else -1
        if kind == "function" and parent >= 0 and symbols[parent].kind in CONTAINER_KINDS:
            kind = "method"
        symbols.append(
            Symbol(
                name=name,
                kind=kind,
                path=path,
                start=start,
                end=end,
                start_row=outer.start_point.row,
                end_row=end_row,
                name_start=name_node.start_byte,
                name_end=name_node.end_byte,
                header_end=header_end,
                header_end_row=header_end_row,
                parent=parent,
            )
        )
        stack.append(len(symbols) - 1)
    return symbols


def _strictly_contains(p: Symbol, start: int, end: int) -> bool:
    return p.start <= start and end <= p.end and (p.start, p.end) != (start, end)


def children(symbols: list[Symbol], index: int) -> list[Symbol]:
    return [s for s in symbols if s.parent == index]


def enclosing(symbols: list[Symbol], start: int, end: int | None = None) -> list[int]:
    """Indices of the items containing ``start..end`` (bytes), innermost first."""
    end = start if end is None else end
    hits = [i for i, s in enumerate(symbols) if s.start <= start and end <= s.end]
    return sorted(hits, key=lambda i: symbols[i].end - symbols[i].start)


# --------------------------------------------------------------------------------------- walking


class _Ignore:
    """A rough ``.gitignore``: the root file's plain patterns (no negation), matched by name or,
    for patterns with a ``/``, by path relative to the root."""

    def __init__(self, root: Path) -> None:
        self.names: list[str] = []
        self.paths: list[str] = []
        self.dir_names: list[str] = []
        gi = root / ".gitignore"
        try:
            lines = gi.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            lines = []
        for line in lines:
            line = line.strip()
            if not line or line.startswith(("#", "!")):
                continue
            dir_only = line.endswith("/")
            line = line.rstrip("/")
            if "/" in line:
                self.paths.append(line.lstrip("/"))
            elif dir_only:
                self.dir_names.append(line)
            else:
                self.names.append(line)

    def ignored(self, rel: str, name: str, is_dir: bool) -> bool:
        if any(fnmatch.fnmatchcase(name, p) for p in self.names):
            return True
        if is_dir and any(fnmatch.fnmatchcase(name, p) for p in self.dir_names):
            return True
        return any(fnmatch.fnmatchcase(rel, p) or rel.startswith(p + "/") for p in self.paths)


def iter_source_files(root: Path) -> Iterator[tuple[str, os.stat_result]]:
    """``(relative posix path, stat)`` of indexable files under ``root``: a known language with
    symbol queries, not in a skipped/vendored/virtualenv/ignored directory, not huge."""
    ignore = _Ignore(root)
    stack = [("", root)]
    count = 0
    while stack:
        rel_dir, abs_dir = stack.pop()
        try:
            entries = sorted(os.scandir(abs_dir), key=lambda e: e.name)
        except OSError:
            continue
        if rel_dir and any(e.name == "pyvenv.cfg" for e in entries):
            continue  # a virtualenv
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name in SKIP_DIRS or entry.name.endswith(".egg-info"):
                        continue
                    if ignore.ignored(rel, entry.name, True):
                        continue
                    stack.append((rel, Path(entry.path)))
                elif entry.is_file(follow_symlinks=False):
                    if not has_symbol_queries(language_for_path(entry.name)):
                        continue
                    if ignore.ignored(rel, entry.name, False):
                        continue
                    st = entry.stat()
                    if st.st_size > MAX_FILE_BYTES:
                        continue
                    count += 1
                    if count > MAX_FILES:
                        return
                    yield rel, st
            except OSError:
                continue


def _read_source(path: Path) -> bytes | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if b"\0" in data[:8192]:
        return None  # binary
    return data


# ----------------------------------------------------------------------------------------- index


def _parse_job(args: tuple[str, str]) -> list[Symbol]:
    """Worker-process entry: the symbols of ``root/rel``."""
    root, rel = args
    data = _read_source(Path(root) / rel)
    return extract_symbols(data, rel) if data is not None else []


class ContentCache:
    """Bounded LRU ``(path, content digest) → value`` shared by every index in the process, so
    trees of other revisions of a repository (or a rebuilt temp checkout) re-parse only the files
    whose content changed."""

    def __init__(self, max_entries: int = 200_000) -> None:
        self.max_entries = max_entries
        self._d: OrderedDict[tuple[str, bytes], Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, bytes]) -> Any | None:
        with self._lock:
            v = self._d.get(key)
            if v is not None:
                self._d.move_to_end(key)
            return v

    def put(self, key: tuple[str, bytes], value: Any) -> None:
        with self._lock:
            self._d[key] = value
            while len(self._d) > self.max_entries:
                self._d.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._d.clear()


_content_cache = ContentCache()


class SymbolIndex:
    """Name → definitions for the files under ``root``.

    >>> index = SymbolIndex(root).build()          # or .start() to build in the background
    >>> index.definitions("Foo")                   # [Symbol(...)]
    >>> index.update(["src/foo.py"])               # after an edit

    Thread-safe: lookups during a background build see the files indexed so far
    (``index.ready`` tells whether the build finished). ``cache_dir``: persist entries to
    ``<cache_dir>/<hash of root>.pkl`` and reuse unchanged files on the next build.
    ``workers`` > 1 parses a build's new files in that many processes.
    """

    def __init__(self, root: str | Path, *, cache_dir: str | Path | None = None, workers: int = 1) -> None:
        self.root = Path(root).resolve()
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.workers = max(1, workers)
        self._files: dict[str, FileEntry] = {}
        self._by_name: dict[str, dict[str, list[Symbol]]] = {}  # name → path → definitions
        self._lock = threading.RLock()
        self._thread: threading.Thread | None = None
        self._done = threading.Event()
        self.build_seconds: float | None = None
        self.parsed_files = 0

    # ------------------------------------------------------------------ building
    @property
    def ready(self) -> bool:
        return self._done.is_set()

    def build(self) -> SymbolIndex:
        """Index every source file (blocking). Returns ``self``."""
        t0 = time.perf_counter()
        cached = self._load_cache()
        seen: set[str] = set()
        todo: list[tuple[str, os.stat_result]] = []
        for rel, st in iter_source_files(self.root):
            seen.add(rel)
            old = cached.get(rel) or self._files.get(rel)
            if old is not None and old.mtime_ns == st.st_mtime_ns and old.size == st.st_size:
                self._put(old)
            elif self.workers > 1:
                todo.append((rel, st))
            else:
                self._index_file(rel, st)
        if todo:
            self._index_parallel(todo)
        with self._lock:
            for rel in [p for p in self._files if p not in seen]:
                self._remove(rel)
        self.build_seconds = time.perf_counter() - t0
        self._save_cache()
        self._done.set()
        return self

    def start(self) -> SymbolIndex:
        """Build in a daemon thread; the index is usable (partial) meanwhile. Returns ``self``."""
        if self._thread is None:
            self._thread = threading.Thread(target=self.build, name="symbol-index", daemon=True)
            self._thread.start()
        return self

    def wait(self, timeout: float | None = None) -> bool:
        """Block until a background build finishes; True if it did."""
        return self._done.wait(timeout)

    def update(self, paths: Iterable[str] | None = None) -> int:
        """Re-index the given relative paths (all known + new files when ``None``) whose mtime or
        size changed; drop deleted ones. Returns the number of files re-parsed."""
        if paths is None:
            before = self.parsed_files
            self.build()
            return self.parsed_files - before
        n = 0
        for rel in paths:
            rel = rel.replace("\\", "/").lstrip("/")
            p = self.root / rel
            try:
                st = p.stat()
            except OSError:
                with self._lock:
                    self._remove(rel)
                continue
            old = self._files.get(rel)
            if old is not None and old.mtime_ns == st.st_mtime_ns and old.size == st.st_size:
                continue
            if not has_symbol_queries(language_for_path(rel)) or st.st_size > MAX_FILE_BYTES:
                continue
            self._index_file(rel, st)
            n += 1
        return n

    def _index_parallel(self, todo: list[tuple[str, os.stat_result]]) -> None:
        """Parse ``todo`` in ``workers`` processes (files whose content is cached are not sent)."""
        from concurrent.futures import ProcessPoolExecutor

        jobs: list[tuple[str, os.stat_result, tuple[str, bytes]]] = []
        for rel, st in todo:
            data = _read_source(self.root / rel)
            if data is None:
                self._put(FileEntry(rel, st.st_mtime_ns, st.st_size, []))
                continue
            key = (rel, hashlib.blake2b(data, digest_size=16).digest())
            cached = _content_cache.get(key)
            if cached is not None:
                self._put(FileEntry(rel, st.st_mtime_ns, st.st_size, cached))
            else:
                jobs.append((rel, st, key))
        with ProcessPoolExecutor(self.workers) as pool:
            results = pool.map(_parse_job, [(str(self.root), rel) for rel, _st, _k in jobs], chunksize=16)
            for (rel, st, key), symbols in zip(jobs, results, strict=True):
                self.parsed_files += 1
                _content_cache.put(key, symbols)
                self._put(FileEntry(rel, st.st_mtime_ns, st.st_size, symbols))

    def _index_file(self, rel: str, st: os.stat_result) -> None:
        data = _read_source(self.root / rel)
        symbols: list[Symbol] = []
        if data is not None:
            key = (rel, hashlib.blake2b(data, digest_size=16).digest())
            cached = _content_cache.get(key)
            if cached is None:
                symbols = extract_symbols(data, rel)
                self.parsed_files += 1
                _content_cache.put(key, symbols)
            else:
                symbols = cached
        self._put(FileEntry(rel, st.st_mtime_ns, st.st_size, symbols))

    def _put(self, entry: FileEntry) -> None:
        with self._lock:
            if self._files.get(entry.path) is entry:
                return
            if entry.path in self._files:
                self._remove(entry.path)
            self._files[entry.path] = entry
            for s in entry.symbols:
                self._by_name.setdefault(s.name, {}).setdefault(entry.path, []).append(s)

    def _remove(self, rel: str) -> None:
        entry = self._files.pop(rel, None)
        if entry is None:
            return
        for name in {s.name for s in entry.symbols}:
            by_path = self._by_name.get(name)
            if by_path is not None:
                by_path.pop(rel, None)
                if not by_path:
                    del self._by_name[name]

    # ------------------------------------------------------------------ cache
    def _cache_file(self) -> Path | None:
        if self.cache_dir is None:
            return None
        key = hashlib.sha256(str(self.root).encode()).hexdigest()[:24]
        return self.cache_dir / f"symbols-{key}.pkl"

    def _load_cache(self) -> dict[str, FileEntry]:
        f = self._cache_file()
        if f is None or not f.exists():
            return {}
        try:
            with open(f, "rb") as fh:
                version, root, files = pickle.load(fh)
        except Exception:  # noqa: BLE001  (a corrupt cache is just rebuilt)
            return {}
        return files if version == CACHE_VERSION and root == str(self.root) else {}

    def _save_cache(self) -> None:
        f = self._cache_file()
        if f is None:
            return
        f.parent.mkdir(parents=True, exist_ok=True)
        tmp = f.with_suffix(".tmp")
        with self._lock:
            files = dict(self._files)
        with open(tmp, "wb") as fh:
            pickle.dump((CACHE_VERSION, str(self.root), files), fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, f)

    # ------------------------------------------------------------------ queries
    def definitions(self, name: str) -> list[Symbol]:
        """All definitions named ``name`` (any file), in index order."""
        with self._lock:
            by_path = self._by_name.get(name)
            return [s for syms in by_path.values() for s in syms] if by_path else []

    def file_symbols(self, path: str) -> list[Symbol]:
        """The outline of one indexed file (sorted by start, with parent links), or ``[]``."""
        with self._lock:
            entry = self._files.get(path)
            return list(entry.symbols) if entry else []

    def paths(self) -> list[str]:
        with self._lock:
            return sorted(self._files)

    def __len__(self) -> int:
        with self._lock:
            return len(self._files)

    def symbol_count(self) -> int:
        with self._lock:
            return sum(len(e.symbols) for e in self._files.values())
