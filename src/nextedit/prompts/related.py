"""Related-file rendering with a token budget (zeta.md §2.5) and its inverse.

Excerpt ``row_range`` ends are exclusive; ``max_row`` is the file's last row (0-based). Tokens are
the ``bytes // 3`` estimate.
"""

from __future__ import annotations

from collections.abc import Sequence

from nextedit.context.excerpt_ranges import estimate_tokens
from nextedit.schema.request import ByteRange, RelatedExcerpt, RelatedFile

OMITTED = "...\n"


def filter_redundant_excerpts(
    files: Sequence[RelatedFile], cursor_path: str, context_rows: tuple[int, int]
) -> list[RelatedFile]:
    """Drop excerpts of ``cursor_path`` lying fully inside ``context_rows`` (buffer rows, end
    exclusive): the prompt already shows them."""
    start, end = context_rows
    out: list[RelatedFile] = []
    for f in files:
        if f.path != cursor_path:
            out.append(f)
            continue
        kept = [e for e in f.excerpts if not (e.row_range.start >= start and e.row_range.end <= end)]
        if kept:
            out.append(f.model_copy(update={"excerpts": kept}))
    return out


def _omitted_after(f: RelatedFile, idxs: Sequence[int], k: int) -> bool:
    ex = f.excerpts[idxs[k]]
    if k + 1 < len(idxs):
        return f.excerpts[idxs[k + 1]].row_range.start > ex.row_range.end
    return ex.row_range.end < f.max_row


def format_related_files_within_budget(
    files: Sequence[RelatedFile], file_prefix: str, file_suffix: str, budget: int
) -> str:
    """Render excerpts greedily by ``(order, file_ix, excerpt_ix)`` while they fit ``budget``
    tokens (stop at the first misfit), in original file/excerpt order:
    ``{file_prefix}{path}\\n`` + texts (``\\n``-terminated) + ``...\\n`` where rows are omitted;
    ``file_suffix`` between files."""
    candidates = sorted((ex.order, fi, ei) for fi, f in enumerate(files) for ei, ex in enumerate(f.excerpts))
    included: dict[int, list[int]] = {}
    total = 0
    for _, fi, ei in candidates:
        f = files[fi]
        cost = 0
        if fi not in included:
            cost += estimate_tokens(len(f"{file_prefix}{f.path}\n".encode()) + len(file_suffix.encode()))
        text = f.excerpts[ei].text
        n = len(text.encode()) + (0 if text.endswith("\n") else 1)
        if _omitted_after(f, range(len(f.excerpts)), ei):
            n += len(OMITTED)
        cost += estimate_tokens(n)
        if total + cost > budget:
            break
        total += cost
        included.setdefault(fi, []).append(ei)
    parts: list[str] = []
    for fi in sorted(included):
        f = files[fi]
        idxs = sorted(included[fi])
        out = f"{file_prefix}{f.path}\n"
        for k, ei in enumerate(idxs):
            text = f.excerpts[ei].text
            out += text if text.endswith("\n") else text + "\n"
            if _omitted_after(f, idxs, k):
                out += OMITTED
        parts.append(out)
    return file_suffix.join(parts)


def parse_related_text(text: str, file_prefix: str, file_suffix: str = "") -> list[RelatedFile]:
    """Best-effort inverse of :func:`format_related_files_within_budget`: one excerpt per run of
    lines between ``...`` separators; row numbers are unknown (0..0)."""
    files: list[RelatedFile] = []
    if file_suffix:
        text = text.replace(file_suffix + file_prefix, file_prefix)
    chunks = text.split("\n" + file_prefix) if text.startswith(file_prefix) else []
    for i, chunk in enumerate(chunks):
        if i == 0:
            chunk = chunk[len(file_prefix) :]
        path, _, body = chunk.partition("\n")
        if i + 1 < len(chunks):
            body += "\n"
        excerpts = []
        for j, piece in enumerate(body.split(OMITTED)):
            if piece:
                excerpts.append(RelatedExcerpt(row_range=ByteRange(), text=piece, order=j))
        files.append(RelatedFile(path=path, excerpts=excerpts))
    return files
