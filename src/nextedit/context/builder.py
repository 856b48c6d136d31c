"""Build a ``Zeta2PromptInput`` (§1.3) for a cursor in a working tree, as Zed's client does.

``cursor_excerpt`` = whole lines around the cursor within 8192 tokens (§1.10);
``excerpt_ranges`` = the 11 pre-computed editable/context ranges (§2.2) using the syntax ranges;
``syntax_ranges`` = tree-sitter nodes around the cursor that lie inside the excerpt, innermost →
outermost, re-based to the excerpt; ``related_files`` = go-to-definition context from the symbol
index (``lsp``) with a BM25 fallback; ``active_buffer_diagnostics`` = the client's or pyflakes'.
Paths are Zed "full paths": ``<root dir name>/<relative path>``. Offsets are UTF-8 bytes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from nextedit.context.diagnostics import active_buffer_diagnostics
from nextedit.context.excerpt_ranges import compute_legacy_excerpt_ranges, cursor_excerpt_around
from nextedit.context.languages import language_for_path
from nextedit.context.related import bm25_related, related_definitions, sort_related_files
from nextedit.context.symbols import SymbolIndex
from nextedit.context.syntax import parse, syntax_ranges
from nextedit.schema.request import ByteRange, Diagnostic, Event, RelatedFile, Zeta2PromptInput

CURSOR_EXCERPT_TOKENS = 8192
ContextType = Literal["auto", "lsp", "bm25", "all", "none"]


def full_path(root_name: str | None, rel: str) -> str:
    """Zed's ``file.full_path()``: worktree root name + ``/`` + relative path."""
    rel = rel.replace("\\", "/").lstrip("/")
    return f"{root_name}/{rel}" if root_name else rel


def build_related_files(
    root: Path | None,
    path: str,
    text: str,
    cursor_offset: int,
    *,
    context: ContextType,
    index: SymbolIndex | None,
    bm25: Any | None,
    root_name: str | None,
    excerpt_rows: tuple[int, int],
    in_open_source_repo: bool = False,
) -> list[RelatedFile] | None:
    """``related_files`` for the request (None = not computed, as for ``auto`` without an index).

    ``lsp``: definitions, and BM25 when none resolve (if a BM25 index is given); ``bm25``: BM25
    only; ``all``: definitions then BM25 hits (BM25 ``order`` continues after the last rank).
    """
    if context == "none":
        return []
    if context == "auto":
        if index is None and bm25 is None:
            return None
        context = "lsp" if index is not None else "bm25"
    files: list[RelatedFile] = []
    if context in ("lsp", "all") and index is not None and root is not None:
        files = related_definitions(
            root, path, text, cursor_offset, index, root_name=root_name, in_open_source_repo=in_open_source_repo
        )
    want_bm25 = context in ("bm25", "all") or (context == "lsp" and not files)
    if want_bm25 and bm25 is not None and root is not None:
        hits = bm25_related(
            bm25, path, text, cursor_offset, root=root, root_name=root_name, exclude_rows=excerpt_rows,
            in_open_source_repo=in_open_source_repo,
        )
        offset = 1 + max((e.order for f in files for e in f.excerpts), default=-1)
        for f in hits:
            for e in f.excerpts:
                e.order += offset
        files = sort_related_files([*files, *hits])
    return files


def build_request(
    root: str | Path | None,
    path: str,
    cursor_offset: int,
    events: list[Event] | None = None,
    *,
    text: str | None = None,
    diagnostics: list[Diagnostic] | list[dict] | None = None,
    index: SymbolIndex | None = None,
    bm25: Any | None = None,
    context: ContextType = "auto",
    root_name: str | None = None,
    in_open_source_repo: bool = False,
    can_collect_data: bool = False,
    repo_url: str | None = None,
    compute_diagnostics: bool = True,
) -> Zeta2PromptInput:
    """The request for a cursor at byte ``cursor_offset`` of ``path`` (relative to ``root``).

    ``text``: the current buffer (default: read ``root/path``). ``root_name`` defaults to
    ``root``'s directory name. ``events``: edit history, oldest first. ``context`` chooses
    ``related_files`` (see :func:`build_related_files`). ``diagnostics``: the client's; when
    absent and ``compute_diagnostics``, Python buffers get pyflakes diagnostics.
    Raises ValueError if the cursor is outside the buffer.
    """
    root_p = Path(root) if root is not None else None
    if root_name is None:
        root_name = root_p.resolve().name if root_p is not None else None
    if text is None:
        if root_p is None:
            raise ValueError("build_request: need `root` or `text`")
        text = (root_p / path).read_text(encoding="utf-8")
    data = text.encode("utf-8")
    if not 0 <= cursor_offset <= len(data):
        raise ValueError(f"{path}: cursor offset {cursor_offset} outside the buffer (0..{len(data)} bytes)")
    language = language_for_path(path)
    excerpt, ex_start, ex_row = cursor_excerpt_around(data, cursor_offset, CURSOR_EXCERPT_TOKENS)
    ex_len = len(excerpt.encode("utf-8"))
    cursor_in_excerpt = cursor_offset - ex_start
    ranges = [
        (s - ex_start, e - ex_start)
        for s, e in syntax_ranges(data, cursor_offset, language, within=(ex_start, ex_start + ex_len))
    ]
    excerpt_ranges = compute_legacy_excerpt_ranges(excerpt, cursor_in_excerpt, ranges)
    excerpt_rows = (ex_row, ex_row + excerpt.count("\n"))
    related = build_related_files(
        root_p, path, text, cursor_offset, context=context, index=index, bm25=bm25, root_name=root_name,
        excerpt_rows=excerpt_rows, in_open_source_repo=in_open_source_repo,
    )
    diags: list[Diagnostic] = []
    if diagnostics or compute_diagnostics:
        tree = parse(data, language) if language is not None else None
        diags = active_buffer_diagnostics(text, path, cursor_offset, given=diagnostics, tree=tree)
    request = Zeta2PromptInput(
        cursor_path=full_path(root_name, path),
        cursor_excerpt=excerpt,
        cursor_offset_in_excerpt=cursor_in_excerpt,
        excerpt_start_row=ex_row,
        events=list(events or []),
        related_files=related,
        active_buffer_diagnostics=diags,
        excerpt_ranges=excerpt_ranges,
        syntax_ranges=[ByteRange(start=s, end=e) for s, e in ranges],
        in_open_source_repo=in_open_source_repo,
        can_collect_data=can_collect_data,
        repo_url=repo_url if can_collect_data else None,
    )
    request.validate_offsets()
    return request
