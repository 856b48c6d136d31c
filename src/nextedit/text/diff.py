"""Diffs: histogram line diff, unified-diff writer, §2.10 region patches, §5.4 granular edits.

Conventions:
  * Lines are split on ``\\n`` only and keep their terminator (``"a\\r\\n"`` stays one line); the last
    line of a text may lack it.
  * ``DiffHunk`` indices are 0-based line indices, half-open.
  * ``unified_diff`` hunk headers are 1-based, always ``-a,b +c,d`` (counts written), git style for an
    empty side (``-a,0`` where ``a`` is the line *after which* the other side goes; 0 = file start).
    A line lacking its final newline is followed by ``\\ No newline at end of file``.
  * ``TextEdit`` offsets are **character** (code point) offsets into the old text.
"""

from __future__ import annotations

from dataclasses import dataclass

from nextedit.text.histogram import diff_sequences
from nextedit.text.tokenize import tokenize

NO_NEWLINE_MARKER = "\\ No newline at end of file"
CURSOR_MARKER = "<|user_cursor|>"
# §5.4 / §2.10: hunks this small (on both sides) are re-diffed at token level.
MAX_WORD_DIFF_BYTES = 512
MAX_WORD_DIFF_LINES = 8


@dataclass(frozen=True, slots=True)
class DiffHunk:
    """One changed region of a line diff: old lines ``[old_start, old_end)`` → new lines ``[new_start, new_end)``."""

    old_start: int
    old_end: int
    new_start: int
    new_end: int


@dataclass(frozen=True, slots=True)
class TextEdit:
    """Replace ``old[old_start:old_end]`` (character offsets) with ``new_text``."""

    old_start: int
    old_end: int
    new_text: str


def split_lines(text: str) -> list[str]:
    """Split on ``\\n`` keeping terminators; ``""`` → ``[]``; ``"a\\nb"`` → ``["a\\n", "b"]``."""
    if not text:
        return []
    lines = text.split("\n")
    out = [line + "\n" for line in lines[:-1]]
    if lines[-1]:
        out.append(lines[-1])
    return out


def line_diff(old: str, new: str) -> list[DiffHunk]:
    """Histogram diff of the lines of ``old`` and ``new`` (lines compared with their terminators)."""
    return [DiffHunk(*r) for r in diff_sequences(split_lines(old), split_lines(new))]


def header_range(start: int, count: int, row_offset: int) -> str:
    # git convention: an empty side names the line before the (absent) hunk.
    first = start + row_offset + (1 if count > 0 else 0)
    return f"{first},{count}"


def _emit(out: list[str], prefix: str, line: str) -> None:
    if line.endswith("\n"):
        out.append(prefix + line)
    else:
        out.append(prefix + line + "\n" + NO_NEWLINE_MARKER + "\n")


def unified_diff(
    old: str,
    new: str,
    old_path: str,
    new_path: str | None = None,
    *,
    context: int = 3,
    old_start_row: int = 0,
    new_start_row: int = 0,
    headers: bool = True,
) -> str:
    """Unified diff of ``old`` → ``new`` ("" when equal).

    ``context`` lines around each change (hunks whose contexts touch or overlap are merged);
    ``old_start_row``/``new_start_row`` (0-based) are added to the 1-based hunk line numbers, so a diff of an
    excerpt can carry real file line numbers. With ``headers`` the diff starts with ``--- a/{old_path}`` and
    ``+++ b/{new_path or old_path}`` (leading ``/`` stripped).
    """
    if old == new:
        return ""
    a, b = split_lines(old), split_lines(new)
    hunks = diff_sequences(a, b)
    if not hunks:
        return ""
    ctx = max(0, context)
    groups: list[list[tuple[int, int, int, int]]] = [[hunks[0]]]
    for h in hunks[1:]:
        if h[0] - groups[-1][-1][1] <= 2 * ctx:
            groups[-1].append(h)
        else:
            groups.append([h])
    out: list[str] = []
    if headers:
        out.append(f"--- a/{old_path.lstrip('/')}\n")
        out.append(f"+++ b/{(new_path if new_path is not None else old_path).lstrip('/')}\n")
    for group in groups:
        first, last = group[0], group[-1]
        o_s = max(0, first[0] - ctx)
        o_e = min(len(a), last[1] + ctx)
        n_s = first[2] - (first[0] - o_s)
        n_e = last[3] + (o_e - last[1])
        out.append(
            f"@@ -{header_range(o_s, o_e - o_s, old_start_row)} +{header_range(n_s, n_e - n_s, new_start_row)} @@\n"
        )
        pos = o_s
        for a0, a1, b0, b1 in group:
            for i in range(pos, a0):
                _emit(out, " ", a[i])
            for i in range(a0, a1):
                _emit(out, "-", a[i])
            for i in range(b0, b1):
                _emit(out, "+", b[i])
            pos = a1
        for i in range(pos, o_e):
            _emit(out, " ", a[i])
    return "".join(out)


def region_patch(
    excerpt: str,
    excerpt_start_row: int,
    path: str,
    range_start: int,
    range_end: int,
    new_region: str,
    cursor_in_new: int | None = None,
) -> str:
    """§2.10 ``parsed_output_to_patch``: the patch replacing ``excerpt[range_start:range_end]`` with ``new_region``.

    ``range_start``/``range_end`` are **byte** offsets into ``excerpt`` (UTF-8); ``cursor_in_new`` is a byte
    offset into ``new_region``. Old and new regions are padded with a final ``\\n`` if missing; the context is
    the number of lines of the region (the whole region is context); line numbers are
    ``excerpt_start_row`` + rows of the excerpt before the region (1-based in headers).

    Cursor: ``<|user_cursor|>`` is inserted into the new region before diffing, so the cursor's line always
    shows as an added line (if that line is otherwise unchanged it appears as a ``-``/``+`` pair that differs only
    by the marker; stripping the marker leaves a no-op pair). Returns "" when the region is unchanged (a
    cursor alone is not an edit).
    """
    data = excerpt.encode()
    before = data[:range_start].decode()
    old_region = data[range_start:range_end].decode()
    if old_region == new_region:
        return ""
    new_with_cursor = new_region
    if cursor_in_new is not None:
        nb = new_region.encode()
        if not 0 <= cursor_in_new <= len(nb):
            raise ValueError(f"cursor_in_new={cursor_in_new} outside new region of {len(nb)} bytes")
        new_with_cursor = nb[:cursor_in_new].decode() + CURSOR_MARKER + nb[cursor_in_new:].decode()
    if not old_region.endswith("\n"):
        old_region += "\n"
    if not new_with_cursor.endswith("\n"):
        new_with_cursor += "\n"
    row = excerpt_start_row + before.count("\n")
    n_lines = max(old_region.count("\n"), new_with_cursor.count("\n"))
    return unified_diff(
        old_region, new_with_cursor, path, context=n_lines, old_start_row=row, new_start_row=row
    )


def common_affixes(a: str | bytes, b: str | bytes) -> tuple[int, int]:
    """Lengths (in items of ``a`` and ``b``: characters or bytes) of their common prefix and of their
    common suffix, the suffix never overlapping the prefix (prefix + suffix ≤ the shorter length)."""
    p, limit = 0, min(len(a), len(b))
    while p < limit and a[p] == b[p]:
        p += 1
    s, limit = 0, limit - p
    while s < limit and a[-1 - s] == b[-1 - s]:
        s += 1
    return p, s


def _trimmed_edit(old: str, o0: int, o1: int, new_text: str) -> TextEdit | None:
    """Trim the common prefix/suffix of ``old[o0:o1]`` vs ``new_text``; None if nothing is left."""
    old_text = old[o0:o1]
    p, s = common_affixes(old_text, new_text)
    if p == len(old_text) and p == len(new_text):
        return None
    return TextEdit(o0 + p, o1 - s, new_text[p : len(new_text) - s])


def rediffs_tokens(old_text: str, new_text: str, old_lines: int, new_lines: int) -> bool:
    """Whether a line hunk ``old_text`` → ``new_text`` (``old_lines`` → ``new_lines`` lines) is
    re-diffed over tokens: both sides non-empty, each at most ``MAX_WORD_DIFF_LINES`` lines and
    ``MAX_WORD_DIFF_BYTES`` UTF-8 bytes."""
    return bool(
        old_text
        and new_text
        and old_lines <= MAX_WORD_DIFF_LINES
        and new_lines <= MAX_WORD_DIFF_LINES
        and len(old_text.encode()) <= MAX_WORD_DIFF_BYTES
        and len(new_text.encode()) <= MAX_WORD_DIFF_BYTES
    )


def granular_edits(old: str, new: str) -> list[TextEdit]:
    """§5.4 / §2.10 edits ``old`` → ``new``: histogram line diff, token re-diff of small hunks.

    Hunks with both sides non-empty, each ≤ 512 UTF-8 bytes and ≤ 8 lines, are re-diffed over
    ``tokenize`` tokens; every resulting op is trimmed of its common character prefix/suffix. Edits are
    sorted, non-overlapping, in character offsets of ``old``; applying them yields ``new``.
    """
    a, b = split_lines(old), split_lines(new)
    a_off = [0]
    for line in a:
        a_off.append(a_off[-1] + len(line))
    edits: list[TextEdit] = []
    for a0, a1, b0, b1 in diff_sequences(a, b):
        old_text = "".join(a[a0:a1])
        new_text = "".join(b[b0:b1])
        base = a_off[a0]
        if not rediffs_tokens(old_text, new_text, a1 - a0, b1 - b0):
            e = _trimmed_edit(old, base, base + len(old_text), new_text)
            if e is not None:
                edits.append(e)
            continue
        ta, tb = tokenize(old_text), tokenize(new_text)
        ta_off, tb_off = [0], [0]
        for t in ta:
            ta_off.append(ta_off[-1] + len(t))
        for t in tb:
            tb_off.append(tb_off[-1] + len(t))
        for t0, t1, u0, u1 in diff_sequences(ta, tb):
            e = _trimmed_edit(old, base + ta_off[t0], base + ta_off[t1], new_text[tb_off[u0] : tb_off[u1]])
            if e is not None:
                edits.append(e)
    return edits


def apply_edits(old: str, edits: list[TextEdit]) -> str:
    """Apply sorted, non-overlapping ``TextEdit``s (character offsets) to ``old``."""
    out: list[str] = []
    pos = 0
    for e in edits:
        if e.old_start < pos or e.old_end < e.old_start or e.old_end > len(old):
            raise ValueError(f"edit {e} overlaps a previous edit or is out of range (len={len(old)})")
        out.append(old[pos : e.old_start])
        out.append(e.new_text)
        pos = e.old_end
    out.append(old[pos:])
    return "".join(out)
