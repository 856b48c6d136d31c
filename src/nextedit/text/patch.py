"""Unified-diff patches: tolerant parsing (§4.3, §9), content-located application, cursor markers.

Parsing tolerates what hand-written eval patches contain: missing ``---``/``+++`` headers, missing or wrong
``@@`` headers (a patch may be only ``+``/``-``/`` `` lines), blank context lines written without their
leading space, ``\\ No newline at end of file``, ``diff --git``/``index``/mode lines, ``//`` group comments
(§3.10) and ``#`` lines (ignored; those holding ``[CURSOR_POSITION]``/``[CURSOR]``/``[SELECTION]`` are legacy
cursor markers). Inline ``<|user_cursor|>`` markers are removed from the lines and recorded as the cursor.

Application locates each hunk by its old-side lines (context + removals) in the text; the ``@@`` line numbers
only choose between several matches (nearest to the stated line, corrected by the drift observed on the
previous hunk). A hunk must match exactly once or be disambiguated, else ``PatchError``; a patch is
applied completely or not at all. Exact line comparison is tried first, then comparison with trailing
whitespace ignored (context lines then keep the text's version).

Offsets: cursor offsets are **UTF-8 byte** offsets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from nextedit.text.diff import CURSOR_MARKER, NO_NEWLINE_MARKER, split_lines

LEGACY_CURSOR_TAGS = ("[CURSOR_POSITION]", "[CURSOR]", "[SELECTION]")
_HUNK_HEADER = re.compile(r"^@@+\s*(?:-(\d+)(?:,(\d+))?\s+\+(\d+)(?:,(\d+))?)?\s*@@+(.*)$")


class PatchError(ValueError):
    """A patch could not be applied; names the hunk (1-based), its header and the reason."""

    def __init__(self, message: str, *, hunk_index: int | None = None, header: str = "", reason: str = ""):
        super().__init__(message)
        self.hunk_index = hunk_index
        self.header = header
        self.reason = reason


@dataclass(slots=True)
class HunkLine:
    """One body line: ``kind`` is ``" "`` (context), ``"-"`` or ``"+"``; ``text`` has no terminator."""

    kind: str
    text: str
    no_newline: bool = False  # followed by "\ No newline at end of file"
    soft: bool = False  # a blank context line written without its leading space


@dataclass(slots=True)
class Hunk:
    """A hunk; numbers are as written (1-based) or None when the ``@@`` header is missing/incomplete."""

    old_start: int | None = None
    old_count: int | None = None
    new_start: int | None = None
    new_count: int | None = None
    lines: list[HunkLine] = field(default_factory=list)
    header: str = ""

    @property
    def old_lines(self) -> list[str]:
        return [ln.text for ln in self.lines if ln.kind != "+"]

    @property
    def new_lines(self) -> list[str]:
        return [ln.text for ln in self.lines if ln.kind != "-"]

    def describe(self, index: int) -> str:
        return f"hunk #{index + 1} ({self.header or 'no @@ header'})"


@dataclass(slots=True)
class FilePatch:
    """The hunks of one ``---``/``+++`` section; paths without ``a/``/``b/``; None = absent or /dev/null."""

    old_path: str | None = None
    new_path: str | None = None
    hunks: list[Hunk] = field(default_factory=list)

    @property
    def path(self) -> str | None:
        return self.new_path or self.old_path


@dataclass(slots=True)
class PatchCursor:
    """Cursor from a marker: byte ``offset`` within the new-side text of ``files[file_index].hunks[hunk_index]``
    (context and added lines, each with its ``\\n``)."""

    file_index: int
    hunk_index: int
    offset: int


@dataclass(slots=True)
class Patch:
    files: list[FilePatch] = field(default_factory=list)
    cursor: PatchCursor | None = None

    @property
    def hunks(self) -> list[Hunk]:
        return [h for f in self.files for h in f.hunks]

    def to_text(self, headers: bool = True) -> str:
        """Render back to unified-diff text (unknown ``@@`` numbers are written from counts, starting at 1)."""
        out: list[str] = []
        for f in self.files:
            if headers and (f.old_path or f.new_path):
                out.append(f"--- {'a/' + f.old_path if f.old_path else '/dev/null'}\n")
                out.append(f"+++ {'b/' + f.new_path if f.new_path else '/dev/null'}\n")
            for h in f.hunks:
                n_old = sum(1 for ln in h.lines if ln.kind != "+")
                n_new = sum(1 for ln in h.lines if ln.kind != "-")
                os_ = h.old_start if h.old_start is not None else (1 if n_old else 0)
                ns_ = h.new_start if h.new_start is not None else (1 if n_new else 0)
                out.append(f"@@ -{os_},{n_old} +{ns_},{n_new} @@\n")
                for ln in h.lines:
                    out.append(f"{ln.kind}{ln.text}\n")
                    if ln.no_newline:
                        out.append(NO_NEWLINE_MARKER + "\n")
        return "".join(out)

    def reversed(self) -> Patch:
        """The inverse patch (old ↔ new); the cursor is dropped."""
        swap = {"+": "-", "-": "+", " ": " "}
        files = []
        for f in self.files:
            hunks = []
            for h in f.hunks:
                # Keep "-" before "+" within each change block after swapping.
                lines: list[HunkLine] = []
                block_minus: list[HunkLine] = []
                block_plus: list[HunkLine] = []
                for ln in h.lines + [HunkLine(" ", "", soft=True)]:
                    if ln.kind == " ":
                        lines += block_minus + block_plus
                        block_minus, block_plus = [], []
                        lines.append(HunkLine(" ", ln.text, ln.no_newline, ln.soft))
                    else:
                        nl = HunkLine(swap[ln.kind], ln.text, ln.no_newline, ln.soft)
                        (block_minus if nl.kind == "-" else block_plus).append(nl)
                lines.pop()
                hunks.append(Hunk(h.new_start, h.new_count, h.old_start, h.old_count, lines, h.header))
            files.append(FilePatch(f.new_path, f.old_path, hunks))
        return Patch(files)


# --------------------------------------------------------------------------------------------- parsing


def _clean_path(raw: str) -> str | None:
    p = raw.split("\t", 1)[0].strip()
    if p.startswith('"') and p.endswith('"') and len(p) >= 2:
        p = p[1:-1]
    if p in ("/dev/null", ""):
        return None
    if p.startswith(("a/", "b/")):
        p = p[2:]
    return p


def _is_legacy_cursor_line(line: str) -> bool:
    """A comment line (``#``, or another comment prefix such as ``//``) holding a cursor tag.

    Lines starting with a diff prefix (``+``, ``-``, space) are hunk lines, never marker lines.
    """
    return line[:1] not in ("+", "-", " ", "") and any(tag in line for tag in LEGACY_CURSOR_TAGS)


def _legacy_column(line: str) -> int:
    """Column (bytes) in the content of the line above: index of ``^`` minus the diff prefix; ``<`` → 0."""
    raw = line.encode()
    caret = raw.find(b"^")
    if caret < 0:
        return 0
    return max(0, caret - 1)


class _Parser:
    def __init__(self) -> None:
        self.files: list[FilePatch] = []
        self.hunk: Hunk | None = None  # last hunk (open or closed)
        self.open = False
        self.file_from_git = False
        self.cursor: PatchCursor | None = None
        self.n_old = self.n_new = 0  # old/new-side lines of the open hunk

    def file(self) -> FilePatch:
        if not self.files:
            self.files.append(FilePatch())
        return self.files[-1]

    def close(self) -> None:
        h = self.hunk
        if h is not None and self.open:
            # Trailing blank lines without a leading space are kept only as far as the stated old count needs.
            trailing = 0
            while trailing < len(h.lines) and h.lines[-1 - trailing].soft:
                trailing += 1
            if trailing:
                n_old = sum(1 for ln in h.lines if ln.kind != "+") - trailing
                keep = 0
                if h.old_count is not None and h.old_count > n_old:
                    keep = min(trailing, h.old_count - n_old)
                del h.lines[len(h.lines) - trailing + keep :]
        self.open = False

    def start_hunk(self, hunk: Hunk) -> None:
        self.close()
        self.file().hunks.append(hunk)
        self.hunk = hunk
        self.open = True
        self.n_old = self.n_new = 0

    def add_line(self, kind: str, text: str, soft: bool = False) -> None:
        if not self.open:
            self.start_hunk(Hunk())
        assert self.hunk is not None
        if CURSOR_MARKER in text:
            at = text.index(CURSOR_MARKER)
            text = text.replace(CURSOR_MARKER, "")
            if self.cursor is None and kind != "-":
                self.cursor = PatchCursor(
                    len(self.files) - 1,
                    len(self.file().hunks) - 1,
                    self._new_side_bytes() + len(text[:at].encode()),
                )
        self.hunk.lines.append(HunkLine(kind, text, soft=soft))
        self.n_old += kind != "+"
        self.n_new += kind != "-"

    def _new_side_bytes(self) -> int:
        assert self.hunk is not None
        return sum(len(ln.text.encode()) + 1 for ln in self.hunk.lines if ln.kind != "-")

    def legacy_cursor(self, line: str) -> None:
        if self.cursor is not None or self.hunk is None or not self.file().hunks:
            return
        new_side = [ln for ln in self.hunk.lines if ln.kind != "-"]
        if not new_side:
            return
        prev = new_side[-1]
        column = min(_legacy_column(line), len(prev.text.encode()))
        start = self._new_side_bytes() - len(prev.text.encode()) - 1
        self.cursor = PatchCursor(len(self.files) - 1, len(self.file().hunks) - 1, start + column)

    def _expecting_more(self) -> bool:
        """True inside an open hunk whose ``@@`` counts are not yet used up."""
        h = self.hunk
        if h is None or not self.open or h.old_count is None or h.new_count is None:
            return False
        return self.n_old < h.old_count or self.n_new < h.new_count

    @staticmethod
    def _header_follows(lines: list[str], i: int) -> bool:
        return i >= len(lines) or lines[i].startswith(("@@", "diff ", "--- "))

    def feed(self, lines: list[str]) -> None:
        i = 0
        while i < len(lines):
            line = lines[i]
            nxt = lines[i + 1] if i + 1 < len(lines) else None
            if (
                line.startswith("--- ")
                and nxt is not None
                and nxt.startswith("+++ ")
                and (not self._expecting_more() or self._header_follows(lines, i + 2))
            ):
                self.close()
                if not (self.file_from_git and self.files and not self.files[-1].hunks):
                    self.files.append(FilePatch())
                self.files[-1].old_path = _clean_path(line[4:])
                self.files[-1].new_path = _clean_path(nxt[4:])
                self.file_from_git = False
                i += 2
                continue
            if line.startswith("@@"):
                m = _HUNK_HEADER.match(line)
                hunk = Hunk(header=line)
                if m and m.group(1) is not None:
                    hunk.old_start = int(m.group(1))
                    hunk.old_count = int(m.group(2)) if m.group(2) is not None else 1
                    hunk.new_start = int(m.group(3))
                    hunk.new_count = int(m.group(4)) if m.group(4) is not None else 1
                self.start_hunk(hunk)
            elif line.startswith("diff --git ") or line.startswith("diff -"):
                self.close()
                parts = line.split()
                fp = FilePatch()
                if line.startswith("diff --git ") and len(parts) >= 4:
                    fp.old_path, fp.new_path = _clean_path(parts[-2]), _clean_path(parts[-1])
                self.files.append(fp)
                self.file_from_git = True
            elif line[:1] in ("+", "-", " "):
                self.add_line(line[0], line[1:])
            elif line == "" or line == "\r":
                if self.open:
                    self.add_line(" ", line, soft=True)
            elif line.startswith("\\"):
                if self.hunk is not None and self.hunk.lines:
                    self.hunk.lines[-1].no_newline = True
            elif _is_legacy_cursor_line(line):
                self.legacy_cursor(line)
            elif line.startswith("#"):
                pass  # other '#' lines are ignored ("garbage") without ending the hunk
            else:
                # diff/index/mode lines, '//' group comments, free text: end the current hunk.
                self.close()
            i += 1
        self.close()


def parse_patch(text: str) -> Patch:
    """Parse a (possibly headerless, hand-written) unified diff; never raises on odd lines."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    p = _Parser()
    p.feed(lines)
    files = [f for f in p.files if f.hunks or f.old_path or f.new_path]
    cursor = p.cursor
    if cursor is not None and len(files) != len(p.files):
        # re-index the cursor's file after dropping empty sections
        kept = [i for i, f in enumerate(p.files) if f.hunks or f.old_path or f.new_path]
        cursor = PatchCursor(kept.index(cursor.file_index), cursor.hunk_index, cursor.offset)
    return Patch(files, cursor)


def _as_patch(patch: str | Patch) -> Patch:
    return patch if isinstance(patch, Patch) else parse_patch(patch)


def patch_files(patch: str | Patch) -> list[str]:
    """Distinct paths touched by the patch (new path, else old path), in order of appearance."""
    out: list[str] = []
    for f in _as_patch(patch).files:
        if f.path is not None and f.path not in out:
            out.append(f.path)
    return out


def is_empty_patch(patch: str) -> bool:
    """§2.11/§9: a patch with at most 3 lines counts as "no edit"."""
    if not patch.strip():
        return True
    return len(patch.rstrip("\n").split("\n")) <= 3


def strip_cursor(patch: str) -> tuple[str, int | None]:
    """Remove inline ``<|user_cursor|>`` markers and legacy ``#…[CURSOR_POSITION]`` lines.

    Returns the clean patch text and the cursor's byte offset within the new-side text of its hunk
    (context + added lines, each with ``\\n``), or None without a marker.
    """
    cursor = parse_patch(patch).cursor
    kept = [ln for ln in patch.split("\n") if not _is_legacy_cursor_line(ln)]
    clean = "\n".join(kept).replace(CURSOR_MARKER, "")
    return clean, (cursor.offset if cursor is not None else None)


# ------------------------------------------------------------------------------------------- applying


def _norm_path(p: str) -> str:
    p = p.replace("\\", "/")
    while p.startswith("./"):
        p = p[2:]
    return p.lstrip("/")


def paths_match(a: str, b: str) -> bool:
    """Equal after normalization, or equal once the first path component of one side is dropped (§5)."""
    a, b = _norm_path(a), _norm_path(b)
    if a == b:
        return True
    a_tail = a.split("/", 1)[1] if "/" in a else None
    b_tail = b.split("/", 1)[1] if "/" in b else None
    return a_tail == b or b_tail == a


def _select_files(patch: Patch, path: str | None) -> list[FilePatch]:
    if path is None:
        paths = patch_files(patch)
        if len(paths) > 1:
            raise PatchError(
                f"patch touches {len(paths)} files ({', '.join(paths)}); pass path= to choose one"
            )
        return patch.files
    return [
        f
        for f in patch.files
        if f.path is None or any(p is not None and paths_match(p, path) for p in (f.old_path, f.new_path))
    ]


class _LineIndex:
    """Positions of each line in a text, for locating hunks without scanning the whole text per hunk."""

    def __init__(self, keys: list[str]):
        self.keys = keys
        self.positions: dict[str, list[int]] = {}
        for i, k in enumerate(keys):
            self.positions.setdefault(k, []).append(i)

    def find_all(self, needle: list[str]) -> list[int]:
        """Start indices where ``needle`` occurs as consecutive lines (probing via its rarest line)."""
        best_j, best = 0, None
        for j, line in enumerate(needle):
            pos = self.positions.get(line)
            if pos is None:
                return []
            if best is None or len(pos) < len(best):
                best_j, best = j, pos
        assert best is not None
        n, keys = len(needle), self.keys
        out = []
        for p in best:
            start = p - best_j
            if start >= 0 and start + n <= len(keys) and keys[start : start + n] == needle:
                out.append(start)
        return out


def _error(h: Hunk, index: int, where: str, reason: str) -> PatchError:
    return PatchError(
        f"{h.describe(index)}{where}: {reason}", hunk_index=index, header=h.header, reason=reason
    )


def _apply_file(
    text: str, fp: FilePatch, start_row: int, lenient: bool, cursor_hunk: int | None, track: int | None = None
) -> tuple[str, int | None, int | None]:
    """Apply one file section.

    Returns the new text, the byte offset where hunk ``cursor_hunk``'s new side starts, and the byte offset
    ``track`` (of the old text) mapped into the new text.
    """
    lines = split_lines(text)
    keys = [ln[:-1] if ln.endswith("\n") else ln for ln in lines]
    index = _LineIndex(keys)
    stripped: _LineIndex | None = None
    where = f" of {fp.path}" if fp.path else ""
    placements: list[tuple[int, int, Hunk, int]] = []
    prev_end = 0
    drift = 0
    for hi, h in enumerate(fp.hunks):
        old = h.old_lines
        try:
            if not old:
                if not lines:
                    pos = 0  # also accepts the "-1,0" some writers use for an empty old file
                elif h.old_start is not None:
                    pos = h.old_start - start_row + drift
                else:
                    raise _error(h, hi, where, "no context lines and no line numbers to locate the hunk")
                if not prev_end <= pos <= len(lines):
                    raise _error(h, hi, where, f"insertion line {pos} outside the text ({len(lines)} lines)")
                if h.old_start is not None:
                    drift = pos - (h.old_start - start_row)
            else:
                matches = index.find_all(old)
                if not matches:
                    if stripped is None:
                        stripped = _LineIndex([k.rstrip() for k in keys])
                    matches = stripped.find_all([x.rstrip() for x in old])
                if not matches:
                    raise _error(h, hi, where, "context not found")
                cands = [m for m in matches if m >= prev_end]
                if not cands:
                    raise _error(h, hi, where, "context only found before/overlapping the previous hunk")
                if len(cands) > 1:
                    if h.old_start is None:
                        raise _error(h, hi, where, f"ambiguous: {len(cands)} matches and no line numbers")
                    expected = h.old_start - 1 - start_row + drift
                    cands.sort(key=lambda m: abs(m - expected))
                    if abs(cands[0] - expected) == abs(cands[1] - expected):
                        raise _error(
                            h,
                            hi,
                            where,
                            f"ambiguous: {len(cands)} matches, two equally near line {h.old_start}",
                        )
                pos = cands[0]
                if h.old_start is not None:
                    drift = pos - (h.old_start - 1 - start_row)
        except PatchError:
            if lenient:
                continue
            raise
        placements.append((pos, pos + len(old), h, hi))
        prev_end = pos + len(old)

    lacks_final_newline = bool(lines) and not lines[-1].endswith("\n")
    out: list[str] = []
    cursor_at: int | None = None
    spans: list[tuple[int, int, int, int]] = []  # replaced byte spans (old0, old1, new0, new1)
    old_b = new_b = 0
    cur = 0
    for pos, end, h, hi in placements:
        kept = lines[cur:pos]
        out.extend(kept)
        kept_b = sum(len(x.encode()) for x in kept)
        old_b += kept_b
        new_b += kept_b
        if hi == cursor_hunk:
            cursor_at = new_b
        new_side: list[tuple[str, bool]] = []
        k = pos
        for ln in h.lines:
            if ln.kind == " ":
                new_side.append((keys[k], ln.no_newline))
                k += 1
            elif ln.kind == "-":
                k += 1
            else:
                new_side.append((ln.text, ln.no_newline))
        at_eof = end == len(lines)
        has_markers = any(ln.no_newline for ln in h.lines)
        piece: list[str] = []
        for j, (content, no_nl) in enumerate(new_side):
            last = j == len(new_side) - 1
            drop_nl = last and at_eof and (no_nl if has_markers else lacks_final_newline)
            piece.append(content if drop_nl else content + "\n")
        out.extend(piece)
        old_len = sum(len(x.encode()) for x in lines[pos:end])
        new_len = sum(len(x.encode()) for x in piece)
        spans.append((old_b, old_b + old_len, new_b, new_b + new_len))
        old_b += old_len
        new_b += new_len
        cur = end
    out.extend(lines[cur:])
    mapped = None if track is None else _map_offset(track, spans)
    return "".join(out), cursor_at, mapped


def _map_offset(offset: int, spans: list[tuple[int, int, int, int]]) -> int:
    """Map a byte offset of the old text through replaced spans (inside a span: clamped into its new text)."""
    delta = 0
    for o0, o1, n0, n1 in spans:
        if offset < o0:
            break
        if offset < o1:
            return n0 + min(offset - o0, n1 - n0)
        delta = n1 - o1
    return offset + delta


def apply_patch(
    text: str, patch: str | Patch, path: str | None = None, *, start_row: int = 0, lenient: bool = False
) -> str:
    """Apply the hunks of ``patch`` for ``path`` (or of its only file) to ``text``.

    Sections without a path always apply; sections for other paths are skipped (so a patch that does not
    touch ``path`` returns ``text`` unchanged). ``start_row`` = 0-based file row of ``text``'s first line, used
    to interpret ``@@`` numbers when ``text`` is an excerpt. Raises ``PatchError`` naming the failing hunk;
    never applies partially. With ``lenient`` hunks that cannot be located are skipped instead.
    """
    return apply_patch_with_cursor(text, patch, path, start_row=start_row, lenient=lenient)[0]


def apply_patch_with_cursor(
    text: str, patch: str | Patch, path: str | None = None, *, start_row: int = 0, lenient: bool = False
) -> tuple[str, int | None]:
    """Like ``apply_patch``; also returns the patch cursor (inline or legacy marker) as a byte offset in the
    new text (None without a marker, or when the marker's hunk is not applied)."""
    p = _as_patch(patch)
    files = _select_files(p, path)
    cursor_offset: int | None = None
    for fp in files:
        fi = next(i for i, f in enumerate(p.files) if f is fp)
        cursor_hunk = p.cursor.hunk_index if p.cursor is not None and p.cursor.file_index == fi else None
        text, hunk_at, mapped = _apply_file(text, fp, start_row, lenient, cursor_hunk, cursor_offset)
        cursor_offset = mapped
        if hunk_at is not None and p.cursor is not None:
            h = fp.hunks[p.cursor.hunk_index]
            new_len = sum(len(t.encode()) + 1 for t in h.new_lines)
            cursor_offset = min(len(text.encode()), hunk_at + min(p.cursor.offset, new_len))
    return text, cursor_offset
