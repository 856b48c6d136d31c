"""Multi-region markers (zeta.md §2.8): block boundaries, marked prompt text, span parsing, targets.

``offsets`` are UTF-8 **byte** offsets into the editable region, ascending, first 0, last
``len(region)``; marker ``k`` (1-based) sits at ``offsets[k-1]``. Tags are written byte-exact
(no newline added around them).
"""

from __future__ import annotations

import re

from nextedit.prompts.base import CURSOR_MARKER, ParseError, split_cursor

MAX_NUDGE_LINES = 5
V0318_LIMITS = (6, 16)
V0316_LIMITS = (3, 8)
V0618_LIMITS = (3, 32)
_STRUCTURAL_WORDS = {"break", "continue", "return", "throw", "end"}
MARKER_RE = re.compile(r"<\|marker_(\d+)\|>")


def marker_tag(k: int) -> str:
    """The tag of marker ``k`` (1-based)."""
    return f"<|marker_{k}|>"


def _is_structural_tail(trimmed: str) -> bool:
    if trimmed.startswith(("}", "]", ")")):
        return True
    return trimmed.rstrip(";") in _STRUCTURAL_WORDS


def compute_marker_offsets_with_limits(text: str, min_lines: int, max_lines: int) -> list[int]:
    """Block boundaries: split after blank lines once a block has ``min_lines`` lines, force a
    split at ``max_lines``; a split is nudged up to 5 lines down to a "good start" line (non-blank,
    not a closing bracket / ``return``-like tail)."""
    if not text:
        return [0, 0]
    raw = text.split("\n")
    if text.endswith("\n"):
        raw.pop()
    starts: list[int] = []
    pos = 0
    for line in raw:
        starts.append(pos)
        pos += len(line.encode()) + 1
    blank = [not line.strip() for line in raw]
    good = [not b and not _is_structural_tail(line.strip()) for line, b in zip(raw, blank, strict=True)]
    n = len(raw)

    def nudge(i: int) -> int:
        for j in range(i, min(i + MAX_NUDGE_LINES, n)):
            if good[j]:
                return j
        return i

    offsets = [0]
    last = 0
    i = 0
    while i < n:
        gap = i - last
        if gap >= min_lines and not blank[i] and blank[i - 1]:
            target = nudge(i)
            if n - target >= min_lines and starts[target] > offsets[-1]:
                offsets.append(starts[target])
                last = target
                i = target + 1
                continue
        if gap >= max_lines:
            target = nudge(i)
            if starts[target] > offsets[-1]:
                offsets.append(starts[target])
                last = target
                i = target + 1
                continue
        i += 1
    end = len(text.encode())
    if offsets[-1] != end:
        offsets.append(end)
    return offsets


def compute_marker_offsets_v0318(text: str) -> list[int]:
    return compute_marker_offsets_with_limits(text, *V0318_LIMITS)


def write_marked_region(text: str, offsets: list[int], cursor: int | None) -> str:
    """``tag(1) block1 tag(2) … tag(m)``; the cursor marker goes in the first block containing it."""
    data = text.encode()
    cursor_block = None
    if cursor is not None:
        for k in range(len(offsets) - 1):
            if offsets[k] <= cursor <= offsets[k + 1]:
                cursor_block = k
                break
    out = [marker_tag(1)]
    for k in range(len(offsets) - 1):
        block = data[offsets[k] : offsets[k + 1]]
        if k == cursor_block:
            c = cursor - offsets[k]
            block = block[:c] + CURSOR_MARKER.encode() + block[c:]
        out.append(block.decode())
        out.append(marker_tag(k + 2))
    return "".join(out)


def apply_marker_span(old: str, offsets: list[int], output: str) -> tuple[str, int | None]:
    """Apply a marker-bounded span from model ``output`` to ``old``.

    Returns (new region, cursor byte offset in it or None). Raises ParseError with fewer than two
    tags, unknown marker numbers, or a reversed span. Same first/last marker = no change.
    """
    tags = list(MARKER_RE.finditer(output))
    if len(tags) < 2:
        raise ParseError(f"expected at least 2 marker tags, found {len(tags)}")
    first, last = int(tags[0].group(1)), int(tags[-1].group(1))
    for t in tags:
        k = int(t.group(1))
        if not 1 <= k <= len(offsets):
            raise ParseError(f"marker {k} out of range 1..{len(offsets)}")
    if first == last:
        return old, None
    start, end = offsets[first - 1], offsets[last - 1]
    if start > end:
        raise ParseError(
            f"marker span reversed: marker {first} (byte {start}) after marker {last} (byte {end})"
        )
    content = "".join(output[a.end() : b.start()] for a, b in zip(tags, tags[1:], strict=False))
    content, cursor = split_cursor(content)
    data = old.encode()
    prefix = data[:start]
    new = (prefix + content.encode() + data[end:]).decode()
    return new, (None if cursor is None else len(prefix) + cursor)


def _nearest_marker(offsets: list[int], cursor: int | None) -> int:
    """1-based marker closest to ``cursor`` (ties → first; None counts as 0)."""
    c = cursor or 0
    best = min(range(len(offsets)), key=lambda k: (abs(offsets[k] - c), k))
    return best + 1


def encode_from_old_and_new_v0318(
    old: str, new: str, cursor_in_new: int | None, end_marker: str, offsets: list[int] | None = None
) -> str:
    """The V0318 training target turning ``old`` into ``new`` (§2.8): the narrowest marker span
    around the changed bytes, with inner boundaries re-placed at line starts of ``new``."""
    if offsets is None:
        offsets = compute_marker_offsets_v0318(old)
    if old == new:
        k = _nearest_marker(offsets, cursor_in_new)
        return marker_tag(k) + marker_tag(k) + end_marker
    a, b = old.encode(), new.encode()
    limit = min(len(a), len(b))
    p = 0
    while p < limit and a[p] == b[p]:
        p += 1
    s = 0
    while s < limit - p and a[len(a) - 1 - s] == b[len(b) - 1 - s]:
        s += 1
    start_idx = max(k for k in range(len(offsets)) if offsets[k] <= p)
    end_idx = min(k for k in range(start_idx, len(offsets)) if offsets[k] >= len(a) - s)
    if start_idx == end_idx:
        if end_idx < len(offsets) - 1:
            end_idx += 1
        else:
            start_idx -= 1
    delta = len(b) - len(a)
    span_start = offsets[start_idx]
    span_end_new = offsets[end_idx] + delta
    # Map each inner boundary into the new text, snapped to a line start, monotone.
    bounds = [span_start]
    old_mid = (len(a) - s) - p
    new_mid = (len(b) - s) - p
    for k in range(start_idx + 1, end_idx):
        o = offsets[k]
        if o <= p:
            m = o
        elif o >= len(a) - s:
            m = o + delta
        else:
            m = p + ((o - p) * new_mid) // max(1, old_mid)
            nl = b.find(b"\n", m - 1 if m > 0 else 0, span_end_new)
            m = span_end_new if nl < 0 else nl + 1
        m = min(max(m, bounds[-1]), span_end_new)
        bounds.append(m)
    bounds.append(span_end_new)
    out = []
    placed = False
    for i in range(len(bounds) - 1):
        chunk = b[bounds[i] : bounds[i + 1]]
        if not placed and cursor_in_new is not None and bounds[i] <= cursor_in_new <= bounds[i + 1]:
            c = cursor_in_new - bounds[i]
            chunk = chunk[:c] + CURSOR_MARKER.encode() + chunk[c:]
            placed = True
        out.append(marker_tag(start_idx + 1 + i) + chunk.decode())
    out.append(marker_tag(end_idx + 1) + end_marker)
    return "".join(out)
