"""``load-project`` (§3.3): materialise an example's files and build its ``prompt_inputs``.

Sources, tried in order for ``example.repository_url`` at ``example.revision``:

1. a source resolver given by the caller: ``sources`` maps a URL prefix (``pypi:``) to a resolver
   ``(repository_url, revision) -> directory | None`` (the data builders pass one for ``pypi:``;
   this layer knows no source of its own, so it imports nothing from above);
2. a local git clone under ``repos_dir``: ``<repos_dir>/<owner>/<repo>`` or ``<repos_dir>/<repo>``
   (``.git`` suffix optional), or the URL itself when it is a local path inside ``repos_dir`` or
   one of the ``local_repos`` the caller vouches for (the data build's own ingested clones);
   files are read at the revision with ``git cat-file`` (no network, the user's checkout is never
   touched);
3. otherwise the cursor-position excerpt is the whole file and the example is tagged
   ``context:excerpt-only`` — unless the example already has ``prompt_inputs`` (pulled from
   production): those are kept unchanged and the example is tagged ``context:no-repository``.

Then ``uncommitted_diff`` is applied, ``edit_history`` replayed section by section (each
section becomes a ``BufferChange`` event diffed against the real file, §1.9), the cursor located by
finding the cursor-position excerpt in the current file (unique, else the occurrence nearest the
last edit), and :func:`~nextedit.context.builder.build_request` fills ``prompt_inputs``.

Every path the data names stays inside the repository: a ``cursor_path`` or patch path with a
``..`` component, a local ``repository_url`` outside ``repos_dir`` and ``local_repos``
and a symlink of a plain directory that leads out of it raise :class:`UnsafePath` naming the
example, so the pipeline records the example as failed (``<out>.failed.jsonl``) and reads nothing.

Other failures never stop a stage: the example gets ``context:error:<kind>`` (``revision-missing``,
``patch-failed``, ``cursor-not-found``, ``bad-cursor``, ``git``), the message in the extra field
``context_error``, and excerpt-only ``prompt_inputs`` when a cursor excerpt is available (existing
``prompt_inputs`` are kept instead).
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path, PurePosixPath

from nextedit.context.bm25 import Bm25Index
from nextedit.context.builder import ContextType, build_request, full_path
from nextedit.context.example_request import start_row_from_history
from nextedit.context.history import (
    EVENT_COUNT_MAX,
    event_from_snapshots,
    events_from_edit_history,
    split_edit_history,
)
from nextedit.context.languages import language_for_path
from nextedit.context.symbols import MAX_FILE_BYTES, SKIP_DIRS, SymbolIndex, has_symbol_queries
from nextedit.errors import NexteditError
from nextedit.schema.example import Example
from nextedit.schema.request import Event

SourceResolver = Callable[[str, str], "str | Path | None"]
SourceResolvers = Mapping[str, SourceResolver]  # URL prefix -> resolver

TAG_EXCERPT_ONLY = "context:excerpt-only"
TAG_NO_REPOSITORY = "context:no-repository"  # existing prompt_inputs kept as they were
TAG_ERROR = "context:error:"


class ProjectError(Exception):
    """A project could not be loaded; ``kind`` becomes the ``context:error:<kind>`` tag."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class UnsafePath(NexteditError, ValueError):
    """The example names a file or directory outside its repository; the example is rejected."""


# ------------------------------------------------------------------------------------ trees


class Tree:
    """Files of a project at one revision. ``read(rel)`` → text or None; ``root()`` → a directory
    with the files (materialised on demand for git sources); ``name`` = Zed's worktree root name."""

    name: str

    def read(self, rel: str) -> str | None:  # pragma: no cover - interface
        raise NotImplementedError

    def exists(self, rel: str) -> bool:
        return self.read(rel) is not None

    def root(self) -> Path:  # pragma: no cover - interface
        raise NotImplementedError

    def close(self) -> None:
        pass

    def root_names(self) -> list[str]:  # pragma: no cover - interface
        """Names of the files at the project's root (licence detection)."""
        raise NotImplementedError

    _open_source: bool | None = None

    def in_open_source_repo(self) -> bool:
        """A permissive licence file at the root (:mod:`nextedit.context.licenses`, §6.3); cached."""
        if self._open_source is None:
            from nextedit.context.licenses import is_open_source

            self._open_source = is_open_source(self.root_names(), self.read)
        return self._open_source

    # shared, lazily built indexes over root()
    _index: SymbolIndex | None = None
    _bm25: Bm25Index | None = None

    def index(self) -> SymbolIndex:
        if self._index is None:
            self._index = SymbolIndex(self.root()).build()
        return self._index

    def bm25(self) -> Bm25Index:
        if self._bm25 is None:
            idx = self.index()
            self._bm25 = Bm25Index(self.root(), idx.paths)
        return self._bm25


class DirTree(Tree):
    """A plain directory (a registered source, or a checkout used as is)."""

    def __init__(self, path: Path, name: str) -> None:
        self.path = Path(path)
        self.name = name

    def read(self, rel: str) -> str | None:
        """The file's text, None when missing or not UTF-8; :class:`UnsafePath` when a symlink
        takes it out of the directory."""
        path = self.path / rel
        root = os.path.realpath(self.path)
        real = os.path.realpath(path)
        if os.path.commonpath([root, real]) != root:
            raise UnsafePath(f"{rel}: a symlink to {real}, outside the repository")
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def root(self) -> Path:
        return self.path

    def root_names(self) -> list[str]:
        try:
            return [e.name for e in os.scandir(self.path) if e.is_file(follow_symlinks=False)]
        except OSError:
            return []


def _git(repo: Path, *args: str, input: bytes | None = None) -> bytes:
    cmd = ["git", "-c", "safe.directory=*", "-C", str(repo), *args]
    try:
        res = subprocess.run(cmd, input=input, capture_output=True, timeout=300, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise ProjectError("git", f"{' '.join(cmd[5:])}: {e}") from e
    if res.returncode != 0:
        raise ProjectError("git", f"git {' '.join(args)}: {res.stderr.decode(errors='replace').strip()}")
    return res.stdout


class GitTree(Tree):
    """Files of a local git repository at a commit, read from the object store (no checkout)."""

    def __init__(self, repo: Path, revision: str, name: str) -> None:
        self.repo = Path(repo)
        self.name = name
        rev = revision or "HEAD"
        try:
            out = _git(self.repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
        except ProjectError as e:
            raise ProjectError("revision-missing", f"{self.repo}: revision {rev!r} not found") from e
        self.commit = out.decode().strip()
        self._listing: dict[str, tuple[str, int]] | None = None
        self._cache: dict[str, str | None] = {}
        self._dir: Path | None = None
        self._lock = threading.Lock()

    def listing(self) -> dict[str, tuple[str, int]]:
        """``path → (blob sha, size)`` of every file at the commit."""
        if self._listing is None:
            out = _git(self.repo, "ls-tree", "-r", "-l", "-z", self.commit)
            listing = {}
            for rec in out.split(b"\0"):
                if not rec:
                    continue
                meta, _, path = rec.partition(b"\t")
                parts = meta.split()
                if len(parts) >= 4 and parts[1] == b"blob":
                    size = int(parts[3]) if parts[3].isdigit() else 0
                    listing[path.decode("utf-8", "replace")] = (parts[2].decode(), size)
            self._listing = listing
        return self._listing

    def _blobs(self, shas: list[str]) -> list[bytes]:
        """Contents of blobs (one ``git cat-file --batch`` process)."""
        if not shas:
            return []
        out = _git(self.repo, "cat-file", "--batch", input=("\n".join(shas) + "\n").encode())
        blobs, pos = [], 0
        for _ in shas:
            nl = out.index(b"\n", pos)
            header = out[pos:nl].split()
            if len(header) < 3 or header[1] == b"missing":
                blobs.append(b"")
                pos = nl + 1
                continue
            size = int(header[2])
            blobs.append(out[nl + 1 : nl + 1 + size])
            pos = nl + 1 + size + 1
        return blobs

    def exists(self, rel: str) -> bool:
        return rel in self.listing()

    def root_names(self) -> list[str]:
        return [p for p in self.listing() if "/" not in p]

    def read(self, rel: str) -> str | None:
        if rel not in self._cache:
            entry = self.listing().get(rel)
            if entry is None:
                self._cache[rel] = None
            else:
                data = self._blobs([entry[0]])[0]
                try:
                    self._cache[rel] = data.decode("utf-8")
                except UnicodeDecodeError:
                    self._cache[rel] = None
        return self._cache[rel]

    def root(self) -> Path:
        """A temp directory with the commit's indexable source files (for the symbol index and
        BM25); created once, removed by :meth:`close` or at exit."""
        with self._lock:
            if self._dir is None:
                d = Path(tempfile.mkdtemp(prefix="nextedit-tree-"))
                _TEMP_DIRS.add(d)
                self._dir = d
                root = d / (self.name or "project")  # the root dir name is Zed's worktree name
                wanted = [
                    (p, sha)
                    for p, (sha, size) in self.listing().items()
                    if size <= MAX_FILE_BYTES
                    and has_symbol_queries(language_for_path(p))
                    and not any(part in SKIP_DIRS for part in PurePosixPath(p).parts[:-1])
                ]
                for i in range(0, len(wanted), 2000):
                    batch = wanted[i : i + 2000]
                    for (p, _sha), data in zip(batch, self._blobs([s for _p, s in batch]), strict=True):
                        dest = root / p
                        dest.parent.mkdir(parents=True, exist_ok=True)
                        dest.write_bytes(data)
                root.mkdir(exist_ok=True)
            return self._dir / (self.name or "project")

    def close(self) -> None:
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            _TEMP_DIRS.discard(self._dir)
            self._dir = None
        self._index = self._bm25 = None


_TEMP_DIRS: set[Path] = set()


@atexit.register
def _cleanup() -> None:
    for d in list(_TEMP_DIRS):
        shutil.rmtree(d, ignore_errors=True)


# --------------------------------------------------------------------------------- resolving

_URL_RE = re.compile(r"^(?:[a-z+]+://(?:[^@/]+@)?[^/]+/|[^@/:]+@[^:]+:)(?P<path>.+?)(?:\.git)?/*$")


def repo_name(repository_url: str) -> str:
    """The worktree root name for a repository URL: its last path component without ``.git``
    (``pypi:name==1.0`` → ``name``)."""
    url = repository_url.strip().rstrip("/")
    m = re.match(r"^[A-Za-z][\w+.-]*:(?!//)(.*)$", url)
    if m and "/" not in m.group(1):  # a registered-source spec like pypi:name==1.0
        return re.split(r"[=<>!~@ ]", m.group(1), maxsplit=1)[0] or "project"
    name = re.split(r"[/:]", url)[-1] if url else ""
    return name[:-4] if name.endswith(".git") else name


def _url_parts(repository_url: str) -> list[str]:
    m = _URL_RE.match(repository_url.strip())
    if m:
        return [p for p in m.group("path").split("/") if p]
    return [p for p in repository_url.strip().rstrip("/").split("/") if p]


def _is_git_repo(p: Path) -> bool:
    return (p / ".git").exists() or ((p / "HEAD").is_file() and (p / "objects").is_dir())


_TREES: OrderedDict[tuple[str, str, str], Tree] = OrderedDict()
_TREES_MAX = 3
_trees_lock = threading.Lock()


def _cached_tree(key: tuple[str, str, str], make: Callable[[], Tree]) -> Tree:
    with _trees_lock:
        if key in _TREES:
            _TREES.move_to_end(key)
            return _TREES[key]
    tree = make()
    with _trees_lock:
        _TREES[key] = tree
        while len(_TREES) > _TREES_MAX:
            _k, old = _TREES.popitem(last=False)
            old.close()
    return tree


def clear_tree_cache() -> None:
    with _trees_lock:
        for t in _TREES.values():
            t.close()
        _TREES.clear()


def open_tree(
    repository_url: str,
    revision: str,
    repos_dir: str | Path | None = None,
    sources: SourceResolvers | None = None,
    local_repos: Sequence[str | Path] = (),
) -> Tree | None:
    """The :class:`Tree` for a URL at a revision, or None when no local source has it.

    ``sources``: URL prefix → resolver, tried first (longest prefix first); a resolver's None means
    the source does not have it. Raises :class:`ProjectError` (``revision-missing``) when the clone
    lacks the revision, :class:`UnsafePath` for a local path outside ``repos_dir`` and
    ``local_repos`` (checked on the path as written: symlinks the user put there are followed)."""
    url = (repository_url or "").strip()
    if not url:
        return None
    name = repo_name(url)
    for prefix, resolver in sorted((sources or {}).items(), key=lambda kv: -len(kv[0])):
        if url.startswith(prefix):
            d = resolver(url, revision)
            if d is None:
                return None
            return _cached_tree(("dir", str(d), ""), lambda d=d: DirTree(Path(d), name))
    candidates: list[Path] = []
    local = url[7:] if url.startswith("file://") else url
    if os.path.isabs(local) or local.startswith("~"):
        roots = [*local_repos, *([repos_dir] if repos_dir is not None else [])]
        if not any(_inside(local, root) for root in roots):
            where = f"outside --repos-dir {repos_dir}" if repos_dir is not None else "without --repos-dir"
            raise UnsafePath(f"repository_url {url!r} is a local path {where} (pass the directory holding it)")
        candidates.append(Path(local))
    parts = _url_parts(url)
    if {".", ".."} & {*parts, name}:
        raise UnsafePath(f"repository_url {url!r} has a '..' or '.' component")
    if repos_dir is not None:
        base = Path(repos_dir)
        if len(parts) >= 2:
            candidates += [base / parts[-2] / parts[-1], base / parts[-2] / f"{parts[-1]}.git"]
        candidates += [base / name, base / f"{name}.git"]
        candidates = [c for c in candidates if _inside(c, base)]  # `..` in the URL's parts
    for c in candidates:
        if c.is_dir():
            if _is_git_repo(c):
                return _cached_tree(("git", str(c.resolve()), revision), lambda c=c: GitTree(c, revision, name))
            return _cached_tree(("dir", str(c.resolve()), ""), lambda c=c: DirTree(c, name))
    return None


def _inside(path: str | Path, base: str | Path) -> bool:
    """``path`` is ``base`` or below it, judged on the normalised path as written (``..`` resolved
    lexically, symlinks not followed)."""
    p = os.path.normpath(os.path.abspath(os.path.expanduser(path)))
    b = os.path.normpath(os.path.abspath(os.path.expanduser(base)))
    return p == b or p.startswith(b.rstrip(os.sep) + os.sep)


# --------------------------------------------------------------------------------- loading


def _rel_path(tree: Tree | None, path: str, files: dict[str, str | None]) -> str:
    """A patch/example path relative to the tree (drops a leading root-name component);
    :class:`UnsafePath` when a ``..`` component could leave the tree."""
    p = path.replace("\\", "/").lstrip("/")
    while p.startswith("./"):
        p = p[2:]
    if ".." in p.split("/"):
        raise UnsafePath(f"path {path!r} leaves the repository")
    if tree is None:
        return p
    if p in files or tree.exists(p):
        return p
    first, _, rest = p.partition("/")
    if rest and (first == tree.name or rest in files or tree.exists(rest)):
        return rest
    return p


def _current(tree: Tree | None, files: dict[str, str | None], rel: str) -> str:
    if rel in files:
        return files[rel] or ""
    return (tree.read(rel) if tree is not None else None) or ""


def _apply(text: str, patch: str, rel: str, what: str) -> str:
    from nextedit.text.patch import PatchError, apply_patch

    try:
        return apply_patch(text, patch)
    except PatchError as e:
        raise ProjectError("patch-failed", f"{what} does not apply to {rel}: {e}") from e


def apply_uncommitted_diff(tree: Tree | None, diff: str, files: dict[str, str | None]) -> None:
    """Apply ``diff`` (possibly several files) onto ``files`` (rel → current text)."""
    from nextedit.text.patch import Patch, parse_patch

    for fp in parse_patch(diff).files:
        path = fp.new_path or fp.old_path
        if path is None:
            continue
        old_rel = _rel_path(tree, fp.old_path or path, files)
        rel = _rel_path(tree, path, files)
        old = _current(tree, files, old_rel) if fp.old_path else ""
        new = _apply(old, Patch(files=[fp]).to_text(), rel, "uncommitted diff")
        if fp.new_path is None:
            files[old_rel] = None
            continue
        if old_rel != rel:
            files[old_rel] = None
        files[rel] = new


def replay_edit_history(
    tree: Tree | None,
    edit_history: str,
    files: dict[str, str | None],
    *,
    root_name: str | None,
    rollback_first: bool = False,
) -> list[Event]:
    """Replay ``edit_history`` onto ``files``; one event per section, diffed against the real
    file (§1.9), at most 10 (the newest). ``rollback_first``: the files already contain the
    history (``uncommitted_diff_contains_edit_history``), so undo it before replaying."""
    from nextedit.text.patch import parse_patch

    sections = split_edit_history(edit_history)
    if rollback_first:
        for s in reversed(sections):
            rel = _rel_path(tree, s.path, files)
            rev = parse_patch(s.patch).reversed().to_text()
            files[rel] = _apply(_current(tree, files, rel), rev, rel, "edit history rollback")
    events: list[Event] = []
    for s in sections:
        rel = _rel_path(tree, s.path, files)
        old_rel = _rel_path(tree, s.old_path, files)
        old = _current(tree, files, old_rel)
        new = _apply(old, s.patch, rel, "edit history")
        files[rel] = new
        if old_rel != rel:
            files[old_rel] = None
        ev = event_from_snapshots(
            old, new, full_path(root_name, rel), old_path=full_path(root_name, old_rel), predicted=s.predicted
        )
        if ev is not None:
            events.append(ev)
    return events[-EVENT_COUNT_MAX:]


def _line_match(text: str, excerpt: str) -> list[int]:
    """Byte offsets in ``text`` where ``excerpt``'s lines match with trailing blanks ignored."""
    t_lines = text.split("\n")
    e_lines = [ln.rstrip() for ln in excerpt.split("\n")]
    while e_lines and not e_lines[-1]:
        e_lines.pop()
    if not e_lines:
        return []
    stripped = [ln.rstrip() for ln in t_lines]
    starts, pos = [], 0
    for ln in t_lines:
        starts.append(pos)
        pos += len(ln.encode("utf-8")) + 1
    return [starts[i] for i in range(len(t_lines) - len(e_lines) + 1) if stripped[i : i + len(e_lines)] == e_lines]


def locate_cursor(text: str, excerpt: str, offset_in_excerpt: int, near: int | None = None) -> int:
    """Byte offset in ``text`` of the cursor given as ``offset_in_excerpt`` (bytes) in
    ``excerpt``. The excerpt must occur in ``text`` (exactly, or line-wise ignoring trailing
    blanks); with several occurrences the one nearest ``near`` (a byte offset) wins, else the first."""
    data, ex = text.encode("utf-8"), excerpt.encode("utf-8")
    hits: list[int] = []
    i = data.find(ex)
    while i >= 0 and len(hits) < 1000:
        hits.append(i)
        i = data.find(ex, i + 1)
    exact = bool(hits)
    if not hits:
        hits = _line_match(text, excerpt)
    if not hits:
        raise ProjectError("cursor-not-found", "the cursor position excerpt was not found in the file")
    start = min(hits, key=lambda h: abs(h - near)) if near is not None and len(hits) > 1 else hits[0]
    if exact:
        return start + offset_in_excerpt
    # line-wise match: keep the cursor's row and column, clamped to the file's line
    row = ex[:offset_in_excerpt].count(b"\n")
    col = offset_in_excerpt - (ex.rfind(b"\n", 0, offset_in_excerpt) + 1)
    line_start = start
    for _ in range(row):
        line_start = data.index(b"\n", line_start) + 1
    line_end = data.find(b"\n", line_start)
    line_end = len(data) if line_end < 0 else line_end
    return min(line_start + col, line_end)


def _fail(example: Example, err: ProjectError) -> None:
    example.add_tag(TAG_ERROR + err.kind)
    example.context_error = str(err)  # an extra field (Example keeps unknown keys)


def _excerpt_only(example: Example, *, context: ContextType) -> Example:
    from nextedit.io.markdown import cursor_excerpt

    root_name = repo_name(example.repository_url) or None
    try:
        excerpt, offset = cursor_excerpt(example.cursor_position, example.cursor_path)
    except ValueError as e:
        _fail(example, ProjectError("bad-cursor", f"{example.name}: {e}"))
        return example
    rel = _rel_path(None, example.cursor_path, {})
    events = events_from_edit_history(example.edit_history, root_name=root_name)
    request = build_request(
        None, rel, offset, events, text=excerpt, root_name=root_name, context="none" if context != "auto" else "auto"
    )
    request.excerpt_start_row = start_row_from_history(excerpt, example.edit_history, example.cursor_path)
    example.prompt_inputs = request.to_zed_json()
    example.add_tag(TAG_EXCERPT_ONLY)
    return example


def load_project(
    example: Example,
    repos_dir: str | Path | None = None,
    sources: SourceResolvers | None = None,
    *,
    context: ContextType = "auto",
    local_repos: Sequence[str | Path] = (),
) -> Example:
    """Fill ``example.prompt_inputs`` (see the module docstring). Never raises on a bad example,
    except :class:`UnsafePath` (named by the example) for one that reaches outside its repository.

    ``context``: ``auto``/``none`` leave ``related_files`` unset/empty (what ``load-project``
    writes); ``lsp``/``bm25``/``all`` also compute related files (the ``context`` stage).
    ``sources``: URL prefix → resolver (see :func:`open_tree`), e.g. ``pypi:`` from the data layer.
    ``local_repos``: local repositories the caller vouches for, used when a ``repository_url`` is
    their path (or below it) without being inside ``repos_dir``.
    """
    try:
        return _load_project(example, repos_dir, sources, context, local_repos)
    except UnsafePath as e:
        raise UnsafePath(f"example {example.name!r}: {e}") from None


def _load_project(
    example: Example,
    repos_dir: str | Path | None,
    sources: SourceResolvers | None,
    context: ContextType,
    local_repos: Sequence[str | Path],
) -> Example:
    example.tags = [
        t for t in example.tags if t not in (TAG_EXCERPT_ONLY, TAG_NO_REPOSITORY) and not t.startswith(TAG_ERROR)
    ]
    had_inputs = example.prompt_inputs is not None
    try:
        tree = open_tree(example.repository_url, example.revision, repos_dir, sources, local_repos)
        if tree is None:
            if had_inputs:  # e.g. pulled from production: keep what the client sent
                example.add_tag(TAG_NO_REPOSITORY)
                return example
            return _excerpt_only(example, context=context)
        return _load(example, tree, context)
    except ProjectError as e:
        _fail(example, e)
        return example if had_inputs else _excerpt_only(example, context=context)


def _load(example: Example, tree: Tree, context: ContextType) -> Example:
    from nextedit.io.markdown import cursor_excerpt

    files: dict[str, str | None] = {}
    if example.uncommitted_diff.strip():
        apply_uncommitted_diff(tree, example.uncommitted_diff, files)
    events = replay_edit_history(
        tree,
        example.edit_history,
        files,
        root_name=tree.name,
        rollback_first=bool(example.uncommitted_diff_contains_edit_history),
    )
    rel = _rel_path(tree, example.cursor_path, files)
    text = files.get(rel) if rel in files else tree.read(rel)
    if text is None:
        raise ProjectError("cursor-not-found", f"{example.cursor_path}: no such file at {example.revision or 'HEAD'}")
    try:
        excerpt, offset = cursor_excerpt(example.cursor_position, example.cursor_path)
    except ValueError as e:
        raise ProjectError("bad-cursor", f"{example.cursor_path}: {e}") from e
    near = None
    own = [ev for ev in events if ev.path == full_path(tree.name, rel)]
    if own:
        near = own[-1].new_range.end
    cursor = locate_cursor(text, excerpt, offset, near)
    want_context = context in ("lsp", "bm25", "all")
    index = tree.index() if want_context and context != "bm25" else None
    bm25 = tree.bm25() if want_context else None
    request = build_request(
        tree.root() if want_context else None,
        rel,
        cursor,
        events,
        text=text,
        index=index,
        bm25=bm25,
        context=context,
        root_name=tree.name,
        in_open_source_repo=tree.in_open_source_repo(),
    )
    example.prompt_inputs = request.to_zed_json()
    return example
