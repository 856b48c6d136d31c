"""Active-buffer diagnostics for a request (§1.10): the client's own, or for Python buffers
without any, computed locally with pyflakes (in-process, no subprocess).

Rendering rules: diagnostics starting within ±20 rows of the cursor, sorted by |row distance|,
at most 20; message clamped to 512 tokens; snippet = the diagnostic range grown to its enclosing
syntax node (while ≤100 tokens), then linewise by +100 tokens, clamped to 512 tokens, and empty
when it would be the whole file. ``snippet_buffer_row_range`` holds the snippet's first and last
row (both inclusive, as Zed's ``start.row..end.row``); ``diagnostic_range_in_snippet`` is in bytes.
Tokens are estimated as bytes // 3 (§2.1).
"""

from __future__ import annotations

import ast
import hashlib
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from nextedit.context.excerpt_ranges import estimate_tokens
from nextedit.schema.request import ByteRange, Diagnostic
from nextedit.text.lines import line_starts

ROW_WINDOW = 20
MAX_DIAGNOSTICS = 20
MAX_MESSAGE_TOKENS = 512
SNIPPET_EXPANSION_TOKENS = 100
MAX_SNIPPET_TOKENS = 512

MAX_PYFLAKES_BYTES = 200_000
"""Larger buffers get no local diagnostics: pyflakes would take seconds on the request path."""

SEVERITY_ERROR = 1
SEVERITY_WARNING = 2


@dataclass(frozen=True)
class BufferDiagnostic:
    """A diagnostic over buffer bytes ``start..end``."""

    severity: int
    message: str
    start: int
    end: int


def clamp_to_tokens(text: str, max_tokens: int) -> str:
    """Keep whole lines while ``(bytes so far + line) // 3 <= max_tokens``; a first line that is
    alone too long is cut at the budget (on a character boundary)."""
    out: list[str] = []
    used = 0
    for line in text.splitlines(keepends=True):
        n = len(line.encode("utf-8"))
        if (used + n) // 3 > max_tokens:
            if not out:
                return line.encode("utf-8")[: max_tokens * 3].decode("utf-8", "ignore")
            break
        out.append(line)
        used += n
    return "".join(out)


# ----------------------------------------------------------------------------- pyflakes


def _word_end(data: bytes, pos: int) -> int:
    """End of the identifier-ish run at ``pos`` (at least one byte, never past the line end)."""
    end = pos
    while end < len(data) and (chr(data[end]).isalnum() or data[end] in b"_" or data[end] >= 0x80):
        end += 1
    if end == pos:
        nl = data.find(b"\n", pos)
        end = len(data) if nl < 0 else nl
    return end


def python_diagnostics(text: str, filename: str = "<buffer>") -> list[BufferDiagnostic]:
    """Syntax errors (severity 1) or pyflakes messages (severity 2) for Python source ``text``."""
    import pyflakes.checker

    data = text.encode("utf-8")
    starts = line_starts(data)

    def offset(lineno: int, col_bytes: int) -> int:
        row = max(0, min(lineno - 1, len(starts) - 1))
        line_end = starts[row + 1] - 1 if row + 1 < len(starts) else len(data)
        return min(starts[row] + max(0, col_bytes), line_end)

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text, filename=filename)
    except SyntaxError as e:
        row = max(0, (e.lineno or 1) - 1)
        line_text = e.text or ""
        col_chars = max(0, (e.offset or 1) - 1)
        col = len(line_text[:col_chars].encode("utf-8"))
        start = offset(row + 1, col)
        return [BufferDiagnostic(SEVERITY_ERROR, e.msg, start, _word_end(data, start))]
    except (ValueError, RecursionError, MemoryError):
        return []
    checker = pyflakes.checker.Checker(tree, filename=filename)
    out = []
    for msg in sorted(checker.messages, key=lambda m: (m.lineno, m.col)):
        start = offset(msg.lineno, msg.col)  # ast col_offset is in UTF-8 bytes
        out.append(BufferDiagnostic(SEVERITY_WARNING, msg.message % msg.message_args, start, _word_end(data, start)))
    return out


# ----------------------------------------------------------------------------- rendering


def _row_of(starts: list[int], offset: int) -> int:
    import bisect

    return bisect.bisect_right(starts, offset) - 1


def _snippet_rows(
    data: bytes, starts: list[int], start: int, end: int, tree: Any | None
) -> tuple[int, int]:
    """Rows ``(first, last)`` of the snippet for a diagnostic over ``start..end``."""
    n_rows = len(starts)

    def row_bytes(r: int) -> int:
        return (starts[r + 1] if r + 1 < n_rows else len(data)) - starts[r]

    s, e = start, end
    if tree is not None:
        node = tree.root_node.descendant_for_byte_range(start, end)
        while node is not None and node.parent is not None:
            if estimate_tokens(node.end_byte - node.start_byte) > SNIPPET_EXPANSION_TOKENS:
                break
            s, e = min(s, node.start_byte), max(e, node.end_byte)
            node = node.parent
    first, last = _row_of(starts, s), _row_of(starts, max(s, e - 1) if e > s else e)
    budget = SNIPPET_EXPANSION_TOKENS
    grew = True
    while grew:
        grew = False
        if first > 0 and estimate_tokens(row_bytes(first - 1)) <= budget:
            first -= 1
            budget -= max(1, estimate_tokens(row_bytes(first)))
            grew = True
        if last + 1 < n_rows and estimate_tokens(row_bytes(last + 1)) <= budget:
            last += 1
            budget -= max(1, estimate_tokens(row_bytes(last)))
            grew = True
    # Clamp to MAX_SNIPPET_TOKENS, dropping rows farthest from the diagnostic first.
    diag_row = _row_of(starts, start)
    while first < last and estimate_tokens(starts[last] + row_bytes(last) - starts[first]) > MAX_SNIPPET_TOKENS:
        if diag_row - first >= last - diag_row:
            first += 1
        else:
            last -= 1
    return first, last


def render_diagnostics(
    text: str,
    cursor_offset: int,
    diagnostics: list[BufferDiagnostic],
    tree: Any | None = None,
) -> list[Diagnostic]:
    """Select and render buffer diagnostics around the cursor (§1.10 limits)."""
    data = text.encode("utf-8")
    starts = line_starts(data)
    cursor_row = _row_of(starts, max(0, min(cursor_offset, len(data))))
    near = []
    for d in diagnostics:
        row = _row_of(starts, max(0, min(d.start, len(data))))
        if abs(row - cursor_row) <= ROW_WINDOW:
            near.append((abs(row - cursor_row), row, d))
    near.sort(key=lambda t: (t[0], t[1]))
    out = []
    for _dist, _row, d in near[:MAX_DIAGNOSTICS]:
        first, last = _snippet_rows(data, starts, d.start, d.end, tree)
        snip_start = starts[first]
        snip_end = starts[last + 1] if last + 1 < len(starts) else len(data)
        if snip_start == 0 and snip_end >= len(data):
            snippet, rng = "", (0, 0)
        else:
            snippet = data[snip_start:snip_end].decode("utf-8", "replace")
            rng = (max(0, d.start - snip_start), max(0, min(d.end, snip_end) - snip_start))
        out.append(
            Diagnostic(
                severity=d.severity,
                message=clamp_to_tokens(d.message, MAX_MESSAGE_TOKENS),
                snippet=snippet,
                snippet_buffer_row_range=ByteRange(start=first, end=last),
                diagnostic_range_in_snippet=ByteRange(start=rng[0], end=max(rng)),
            )
        )
    return out


def active_buffer_diagnostics(
    text: str,
    path: str,
    cursor_offset: int,
    given: list[Diagnostic] | list[dict[str, Any]] | None = None,
    tree: Any | None = None,
) -> list[Diagnostic]:
    """The request's diagnostics: ``given`` (the client's) unchanged when provided, else local
    pyflakes diagnostics for ``.py``/``.pyi`` buffers, else ``[]``."""
    if given:
        return [d if isinstance(d, Diagnostic) else Diagnostic.model_validate(d) for d in given]
    if not path.endswith((".py", ".pyi")) or len(text) > MAX_PYFLAKES_BYTES:
        return []
    return render_diagnostics(text, cursor_offset, _cached_python_diagnostics(text, path), tree)


_diag_cache: OrderedDict[tuple[str, bytes], list[BufferDiagnostic]] = OrderedDict()


def _cached_python_diagnostics(text: str, path: str) -> list[BufferDiagnostic]:
    """:func:`python_diagnostics`, memoised by content (repeated requests on one buffer)."""
    key = (path, hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest())
    hit = _diag_cache.get(key)
    if hit is None:
        hit = python_diagnostics(text, path)
        _diag_cache[key] = hit
        while len(_diag_cache) > 64:
            _diag_cache.popitem(last=False)
    else:
        _diag_cache.move_to_end(key)
    return hit
