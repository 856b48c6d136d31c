"""§5.5 smaller per-prediction metrics.

* :func:`braces_disbalance` — bracket-count imbalance the prediction adds (no diff).
* :func:`is_wrong_editable_region` — first hunk of the actual patch opens with ≥3 deletions.
* :func:`has_isolated_whitespace_changes` — whitespace-only change groups (read from the patch).
* :func:`token_changes` — inserted/deleted §5.3 tokens per change group; the token diff is the
  histogram diff :func:`nextedit.text.histogram.diff_sequences` (Zed uses ``similar``/Myers; counts
  can differ on ambiguous alignments, never on the total change size of a clean substitution).
* :func:`cursor_match` — exact match and byte distance between expected and predicted cursor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from nextedit.text.histogram import diff_sequences
from nextedit.text.tokenize import tokenize

_HUNK_RE = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_FILE_HEADER = ("--- ", "+++ ", "diff ", "index ")


def _disbalance(text: str) -> int:
    return (
        abs(text.count("{") - text.count("}"))
        + abs(text.count("(") - text.count(")"))
        + abs(text.count("[") - text.count("]"))
    )


def braces_disbalance(original_text: str, actual_text: str) -> int:
    """``max(0, D(actual) − D(original))`` with ``D = |#{−#}| + |#(−#)| + |#[−#]|``."""
    return max(0, _disbalance(actual_text) - _disbalance(original_text))


@dataclass
class ChangeGroup:
    """Consecutive ``-``/``+`` lines of a hunk (prefix stripped) and the 0-based new-side row of
    each added line (``None`` when the hunk header has no line numbers)."""

    hunk_index: int
    removed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    added_rows: list[int | None] = field(default_factory=list)


def change_groups(patch: str) -> list[ChangeGroup]:
    """Split a unified diff into change groups (a context line or hunk header ends a group).

    Lines starting with ``#`` (legacy cursor comments) and ``\\ No newline`` are skipped.
    """
    groups: list[ChangeGroup] = []
    current: ChangeGroup | None = None
    hunk = -1
    new_row: int | None = None
    in_hunk = False
    for line in patch.splitlines():
        if line.startswith("@@"):
            hunk += 1
            in_hunk = True
            current = None
            m = _HUNK_RE.match(line)
            new_row = int(m.group(3)) - 1 if m else None
            continue
        if not in_hunk and line.startswith(_FILE_HEADER):
            continue
        if line.startswith(("--- ", "+++ ")) and current is None:
            # next file's headers
            in_hunk = False
            continue
        if line.startswith("\\") or line.startswith("#"):
            continue
        if line.startswith(("+", "-")):
            if hunk < 0:
                hunk = 0  # patch without @@ headers
                in_hunk = True
            if current is None:
                current = ChangeGroup(hunk)
                groups.append(current)
            if line[0] == "-":
                current.removed.append(line[1:])
            else:
                current.added.append(line[1:])
                current.added_rows.append(new_row)
                new_row = None if new_row is None else new_row + 1
        else:
            current = None
            new_row = None if new_row is None else new_row + 1
    return groups


def is_wrong_editable_region(actual_patch: str) -> bool:
    """True if the first hunk's body starts with ≥3 consecutive deletion lines (§5.5 ``WrgER``)."""
    seen_hunk = False
    run = 0
    for line in actual_patch.splitlines():
        if line.startswith("@@"):
            if seen_hunk:
                break
            seen_hunk = True
            continue
        if not seen_hunk:
            if line.startswith(_FILE_HEADER):
                continue
            seen_hunk = True  # headerless patch: the body starts here
        if line.startswith("-") and not line.startswith("--- "):
            run += 1
            if run >= 3:
                return True
        else:
            break
    return run >= 3


def has_isolated_whitespace_changes(patch: str, cursor_row: int | None = None) -> bool:
    """A whitespace-only ``+``/``-`` line in a change group that has no non-whitespace change.

    An added blank line exactly at ``cursor_row`` (0-based buffer row, the patch's new-side
    coordinates) is exempt.
    """
    for g in change_groups(patch):
        lines = [*g.removed, *g.added]
        if not lines or any(line.strip() for line in lines):
            continue
        removed_ws = bool(g.removed)
        added_ws = [
            row for row in g.added_rows if cursor_row is None or row is None or row != cursor_row
        ]
        if removed_ws or added_ws:
            return True
    return False


MAX_TOKEN_DIFF_CELLS = 250_000  # old × new tokens diffed directly; bigger groups go line by line


def _token_counts(old_lines: list[str], new_lines: list[str]) -> tuple[int, int]:
    old, new = tokenize("\n".join(old_lines)), tokenize("\n".join(new_lines))
    if len(old) * len(new) <= MAX_TOKEN_DIFF_CELLS:
        ins = dele = 0
        for a0, a1, b0, b1 in diff_sequences(old, new):
            dele += a1 - a0
            ins += b1 - b0
        return ins, dele
    # Big group: same line count → pair lines by position; else line diff first, and a region that
    # is still the whole group pairs its lines by position.
    regions = [] if len(old_lines) == len(new_lines) else diff_sequences(old_lines, new_lines)
    if not regions or regions == [(0, len(old_lines), 0, len(new_lines))]:
        ins = dele = 0
        for i in range(max(len(old_lines), len(new_lines))):
            o = old_lines[i : i + 1]
            n = new_lines[i : i + 1]
            di, dd = _token_counts(o, n) if o and n else (len(tokenize(n[0])) if n else 0, len(tokenize(o[0])) if o else 0)
            ins, dele = ins + di, dele + dd
        return ins, dele
    ins = dele = 0
    for a0, a1, b0, b1 in regions:
        di, dd = _token_counts(old_lines[a0:a1], new_lines[b0:b1])
        ins, dele = ins + di, dele + dd
    return ins, dele


def token_changes(patch: str) -> tuple[int, int]:
    """``(inserted_tokens, deleted_tokens)`` summed over change groups (§5.3 tokens).

    Groups up to ``MAX_TOKEN_DIFF_CELLS`` (old × new tokens) are token-diffed whole; larger ones
    (a rewritten region) line-diffed first, then token-diffed per line region / line pair.
    """
    inserted = deleted = 0
    for g in change_groups(patch):
        if not g.removed:
            inserted += len(tokenize("\n".join(g.added)))
            continue
        if not g.added:
            deleted += len(tokenize("\n".join(g.removed)))
            continue
        i, d = _token_counts(g.removed, g.added)
        inserted, deleted = inserted + i, deleted + d
    return inserted, deleted


def cursor_match(expected_offset: int | None, actual_offset: int | None) -> tuple[bool, int | None]:
    """``(exact_match, distance_bytes)``; a missing side gives ``(False, None)``."""
    if expected_offset is None or actual_offset is None:
        return False, None
    d = abs(expected_offset - actual_offset)
    return d == 0, d
