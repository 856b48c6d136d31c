"""Editable / context region selection inside a cursor excerpt (zeta.md §2.2, §1.10, §2.1).

Every offset here is a UTF-8 **byte** offset; rows are 0-based; "tokens" are the estimate
``bytes // 3`` (per line ``max(1, len(line without \\n) // 3)``). Ranges returned are byte ranges
from the start of their first row to the end of their last row, **excluding** the final newline.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from nextedit.schema.request import (
    EXCERPT_RANGE_BUDGETS,
    ByteRange,
    ExcerptRanges,
    Zeta2PromptInput,
    slice_bytes,
)
from nextedit.text.lines import line_starts

# ---------------------------------------------------------------------- token helpers (§2.1)


def estimate_tokens(x: int | str | bytes) -> int:
    """Token estimate = UTF-8 byte count // 3. Accepts a byte count, a str or bytes."""
    if isinstance(x, str):
        x = len(x.encode("utf-8"))
    elif isinstance(x, bytes | bytearray):
        x = len(x)
    return x // 3


def apply_prompt_budget_margin(n: int) -> int:
    """``floor(n * 0.9)``: the budget prompt sections are fitted into."""
    return math.floor(n * 0.9)


def clamp_text_to_token_count(text: str, max_tokens: int) -> str:
    """Keep whole lines (with their ``\\n``) while ``(bytes_so_far + line_bytes) // 3 <= max_tokens``."""
    total = 0
    kept: list[str] = []
    for line in text.splitlines(keepends=True):
        n = len(line.encode("utf-8"))
        if (total + n) // 3 > max_tokens:
            break
        total += n
        kept.append(line)
    return "".join(kept)


# ---------------------------------------------------------------------- line table


class _Lines:
    """Row table of a byte string: row starts, row ends (before ``\\n``), per-row token counts."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.starts = line_starts(data)
        self.max_row = len(self.starts) - 1

    def row_end(self, row: int) -> int:
        """Byte offset of the end of ``row``, excluding its newline."""
        return self.starts[row + 1] - 1 if row < self.max_row else len(self.data)

    def tokens(self, row: int) -> int:
        return max(1, (self.row_end(row) - self.starts[row]) // 3)

    def row_of(self, offset: int) -> int:
        offset = max(0, min(offset, len(self.data)))
        return bisect_right(self.starts, offset) - 1

    def byte_range(self, start_row: int, end_row: int) -> ByteRange:
        return ByteRange(start=self.starts[start_row], end=self.row_end(end_row))


def _syntax_spans(
    lines: _Lines, syntax_ranges: Iterable[ByteRange | tuple[int, int]] | None
) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for r in syntax_ranges or ():
        s, e = (r.start, r.end) if isinstance(r, ByteRange) else r
        span = (lines.row_of(s), lines.row_of(e))
        if spans and spans[-1] == span:
            continue
        spans.append(span)
    return spans


def _expand_to_syntax(
    lines: _Lines, spans: list[tuple[int, int]], start: int, end: int, remaining: int
) -> tuple[int, int, int, bool]:
    """Grow ``[start, end]`` to enclosing syntax spans (innermost first) while affordable."""
    expanded = False
    for b_start, b_end in spans:
        if b_start >= start and b_end <= end:
            continue  # already covered
        cost = sum(lines.tokens(r) for r in range(b_start, start))
        cost += sum(lines.tokens(r) for r in range(end + 1, b_end + 1))
        if cost > remaining:
            break
        remaining -= cost
        start, end = min(start, b_start), max(end, b_end)
        expanded = True
    return start, end, remaining, expanded


def _expand_linewise(
    lines: _Lines, start: int, end: int, remaining: int, up_first: bool
) -> tuple[int, int, int]:
    """Alternate up/down, taking each line only if it fits, until neither side grows."""
    while True:
        grew = False
        for direction in ("up", "down") if up_first else ("down", "up"):
            if direction == "up":
                if start > 0 and lines.tokens(start - 1) <= remaining:
                    start -= 1
                    remaining -= lines.tokens(start)
                    grew = True
            elif end < lines.max_row and lines.tokens(end + 1) <= remaining:
                end += 1
                remaining -= lines.tokens(end)
                grew = True
        if not grew:
            return start, end, remaining


# ---------------------------------------------------------------------- §2.2


def compute_editable_and_context_ranges(
    text: str | bytes,
    cursor_offset: int,
    syntax_ranges: Sequence[ByteRange | tuple[int, int]] | None,
    editable_limit: int,
    context_limit: int,
) -> tuple[ByteRange, ByteRange]:
    """(editable, context) byte ranges in ``text`` for the given token budgets (§2.2).

    ``syntax_ranges`` are byte ranges of syntax nodes containing the cursor, innermost first.
    The context range always contains the editable range.
    """
    data = text.encode("utf-8") if isinstance(text, str) else text
    lines = _Lines(data)
    cursor_row = lines.row_of(cursor_offset)
    spans = _syntax_spans(lines, syntax_ranges)

    # Phase 1: symmetric expansion (down then up) with 3/4 of the budget; stop at the first misfit.
    initial = editable_limit * 3 // 4
    remaining = max(0, initial - lines.tokens(cursor_row))
    start = end = cursor_row
    while True:
        grew = False
        if end < lines.max_row:
            t = lines.tokens(end + 1)
            if t > remaining:
                break
            end += 1
            remaining -= t
            grew = True
        if start > 0 and remaining > 0:
            t = lines.tokens(start - 1)
            if t > remaining:
                break
            start -= 1
            remaining -= t
            grew = True
        if not grew:
            break
    remaining += editable_limit - initial

    # Phase 2: grow to enclosing syntax nodes while affordable.
    start, end, remaining, _ = _expand_to_syntax(lines, spans, start, end, remaining)

    # Phase 3: linewise, favouring the side that got fewer rows so far.
    prefer_up = (cursor_row - start) <= (end - cursor_row)
    start, end, remaining = _expand_linewise(lines, start, end, remaining, up_first=prefer_up)
    editable = lines.byte_range(start, end)

    # Context: syntax expansion from the editable rows; linewise (up first) only if none happened.
    c_start, c_end, c_remaining, expanded = _expand_to_syntax(lines, spans, start, end, context_limit)
    if not expanded:
        c_start, c_end, _ = _expand_linewise(lines, c_start, c_end, c_remaining, up_first=True)
    context = lines.byte_range(c_start, c_end)
    return editable, context


#: excerpt_ranges keys filled by each (editable, context) budget pair.
_LEGACY_PAIRS: list[tuple[tuple[int, int], str | None, str | None]] = [
    ((150, 350), "editable_150", "editable_150_context_350"),
    ((180, 350), "editable_180", "editable_180_context_350"),
    ((350, 150), "editable_350", "editable_350_context_150"),
    ((512, 0), "editable_512", None),
    ((350, 512), None, "editable_350_context_512"),
    ((350, 1024), None, "editable_350_context_1024"),
    ((350, 4096), None, "context_4096"),
    ((350, 8192), None, "context_8192"),
]


def compute_legacy_excerpt_ranges(
    text: str | bytes, cursor_offset: int, syntax_ranges: Sequence[ByteRange | tuple[int, int]] | None
) -> ExcerptRanges:
    """All 11 ``excerpt_ranges`` keys of §1.3 for ``text`` (what the client pre-computes)."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    values: dict[str, ByteRange] = {}
    for (ed, ctx), ed_key, ctx_key in _LEGACY_PAIRS:
        editable, context = compute_editable_and_context_ranges(data, cursor_offset, syntax_ranges, ed, ctx)
        if ed_key:
            values[ed_key] = editable
        if ctx_key:
            values[ctx_key] = context
    assert set(values) == set(EXCERPT_RANGE_BUDGETS)
    return ExcerptRanges(**values)


# ---------------------------------------------------------------------- server side


#: (editable, context) token limits and the excerpt_ranges keys per prompt format name.
FORMAT_TOKEN_LIMITS: dict[str, tuple[int, int]] = {
    "zeta1": (350, 150),
    "zeta2": (350, 150),
    "zeta2_1": (350, 150),
    "teacher": (350, 150),
}
_KEYS_FOR_LIMITS: dict[tuple[int, int], tuple[str, str]] = {
    (150, 350): ("editable_150", "editable_150_context_350"),
    (180, 350): ("editable_180", "editable_180_context_350"),
    (350, 150): ("editable_350", "editable_350_context_150"),
    (350, 512): ("editable_350", "editable_350_context_512"),
    (350, 1024): ("editable_350", "editable_350_context_1024"),
    (350, 4096): ("editable_350", "context_4096"),
    (350, 8192): ("editable_350", "context_8192"),
    (512, 0): ("editable_512", "editable_512"),
}


@dataclass(frozen=True)
class CursorRegion:
    """The region a prompt shows. ``editable``/``context`` are byte ranges in ``cursor_excerpt``;
    ``context_text`` = ``cursor_excerpt[context]``; ``editable_in_context`` and
    ``cursor_in_context`` are re-based to ``context_text`` (bytes)."""

    context: ByteRange
    editable: ByteRange
    context_text: str
    editable_in_context: tuple[int, int]
    cursor_in_context: int
    #: rows of the excerpt before the context (add ``excerpt_start_row`` for buffer rows)
    context_start_row: int = 0

    @property
    def editable_text(self) -> str:
        s, e = self.editable_in_context
        return slice_bytes(self.context_text.encode("utf-8"), s, e)


def token_limits_for(format: Any) -> tuple[int, int]:
    """(editable, context) token limits of a format given by name, tuple or object with ``token_limits``."""
    if isinstance(format, tuple):
        return format
    limits = getattr(format, "token_limits", None)
    if limits is not None:
        return tuple(limits)  # type: ignore[return-value]
    name = str(getattr(format, "name", format))
    return FORMAT_TOKEN_LIMITS.get(name, (350, 150))


def resolve_cursor_region(request: Zeta2PromptInput, format: Any = "zeta2") -> CursorRegion:
    """Pick the editable/context ranges for ``format`` (§2.2 "resolve_cursor_region").

    With ``syntax_ranges`` the ranges are recomputed with the format's token limits; otherwise the
    format's ``excerpt_ranges`` keys are used, falling back to computing them when absent. The
    cursor is clamped into the context range (a valid request always has it inside).
    """
    limits = token_limits_for(format)
    data = request.excerpt_bytes()
    cursor = request.cursor_offset_in_excerpt
    editable: ByteRange | None = None
    context: ByteRange | None = None
    if request.syntax_ranges is None:
        ed_key, ctx_key = _KEYS_FOR_LIMITS.get(limits, ("", ""))
        editable = getattr(request.excerpt_ranges, ed_key, None) if ed_key else None
        context = getattr(request.excerpt_ranges, ctx_key, None) if ctx_key else None
        if limits[1] == 0 and editable is not None:
            context = editable
    if editable is None or context is None:
        editable, context = compute_editable_and_context_ranges(
            data, cursor, request.syntax_ranges, limits[0], limits[1]
        )
    # A context must contain the editable range (defensive against inconsistent client ranges).
    context = ByteRange(start=min(context.start, editable.start), end=max(context.end, editable.end))
    context_text = slice_bytes(data, context.start, context.end)
    cursor_in_context = max(0, min(cursor, context.end) - context.start)
    region = CursorRegion(
        context=context,
        editable=editable,
        context_text=context_text,
        editable_in_context=(editable.start - context.start, editable.end - context.start),
        cursor_in_context=cursor_in_context,
        context_start_row=data.count(b"\n", 0, context.start),
    )
    return region


# ---------------------------------------------------------------------- client side (§1.10)


def cursor_excerpt_around(
    text: str | bytes, cursor_offset: int, budget_tokens: int = 8192
) -> tuple[str, int, int]:
    """The ``cursor_excerpt`` Zed sends: whole lines around the cursor row, grown alternately down
    then up while each line fits the token budget (the cursor row counts too); no trailing ``\\n``.

    ``cursor_offset`` is a byte offset in ``text``. Returns ``(excerpt, start_byte, start_row)``;
    the cursor offset inside the excerpt is ``cursor_offset - start_byte``.
    """
    data = text.encode("utf-8") if isinstance(text, str) else text
    lines = _Lines(data)
    row = lines.row_of(cursor_offset)
    remaining = max(0, budget_tokens - lines.tokens(row))
    start, end, _ = _expand_linewise(lines, row, row, remaining, up_first=False)
    r = lines.byte_range(start, end)
    return slice_bytes(data, r.start, r.end), r.start, start


__all__ = [
    "FORMAT_TOKEN_LIMITS",
    "CursorRegion",
    "apply_prompt_budget_margin",
    "clamp_text_to_token_count",
    "compute_editable_and_context_ranges",
    "compute_legacy_excerpt_ranges",
    "cursor_excerpt_around",
    "estimate_tokens",
    "resolve_cursor_region",
    "token_limits_for",
]
