"""§5.4 reversal ratio: how much of a prediction undoes the user's most recent edit.

Diff algorithms: edits are granular edits (histogram line diff of
:func:`nextedit.text.histogram.diff_sequences`, small hunks — both sides non-empty, ≤512 bytes and
≤8 lines — re-diffed over §5.3 tokens). Unlike :func:`nextedit.text.diff.granular_edits` (the
§2.10 editor edits) the ops are **not** trimmed of their common character prefix/suffix: the §5.4
table needs ``"abcd"→"axbx"`` to count 4/8, not 3/6. ``normalize`` char-diffs replaced texts with the histogram
diff of :func:`nextedit.text.histogram.diff_sequences` over characters. LCS of restored deletions
is an exact character LCS (:func:`nextedit.metrics.lcs.lcs_length`). Counts are Unicode
characters (Python ``str`` elements), as in Zed.

Reverse-applying the newest event: each hunk's new side (context + added lines) is located in the
current excerpt — at its header row rebased by ``excerpt_start_row`` when known, else (or when the
text there differs) at the nearest place where it matches; when it matches nowhere whole, context
lines are trimmed from its ends (never the changed lines) until it does. Hunks that cannot be
located (e.g. outside the excerpt) are skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nextedit.metrics.lcs import lcs_length
from nextedit.text.diff import rediffs_tokens, split_lines
from nextedit.text.histogram import diff_sequences
from nextedit.text.patch import paths_match
from nextedit.text.tokenize import tokenize

_HUNK_RE = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


# ---------------------------------------------------------------------------------------- events
@dataclass
class HistoryEvent:
    """One buffer change: the diff's hunks (``@@`` lines and bodies, no file headers)."""

    path: str
    diff: str
    predicted: bool = False


def events_from_edit_history(history: str) -> list[HistoryEvent]:
    """Events of an ``edit_history`` string (oldest first), split by
    :func:`nextedit.context.history.split_edit_history` (``// User accepted prediction:`` → predicted)."""
    from nextedit.context.history import split_edit_history

    return [HistoryEvent(path=s.path, diff=s.hunks, predicted=s.predicted) for s in split_edit_history(history)]


def events_from_prompt_inputs(prompt_inputs: dict) -> list[HistoryEvent]:
    """Events of a ``Zeta2PromptInput`` dict (``events[]``, ``BufferChange`` only)."""
    out = []
    for ev in prompt_inputs.get("events") or []:
        if not isinstance(ev, dict) or ev.get("event", "BufferChange") != "BufferChange":
            continue
        out.append(HistoryEvent(path=ev.get("path") or "", diff=ev.get("diff") or "", predicted=bool(ev.get("predicted"))))
    return out


# ----------------------------------------------------------------------------- reverse apply
@dataclass
class _Hunk:
    new_start: int | None  # 0-based row of the new side, None if the header has no numbers
    lines: list[tuple[str, str]]  # (op, text) with op in " ", "-", "+"


def _parse_hunks(diff: str) -> list[_Hunk]:
    hunks: list[_Hunk] = []
    cur: _Hunk | None = None
    for line in diff.splitlines():
        if line.startswith("@@"):
            m = _HUNK_RE.match(line)
            cur = _Hunk(int(m.group(3)) - 1 if m else None, [])
            hunks.append(cur)
        elif line.startswith(("--- ", "+++ ", "diff ", "index ", "\\")):
            continue
        else:
            if cur is None:
                cur = _Hunk(None, [])
                hunks.append(cur)
            if line.startswith(("+", "-", " ")):
                cur.lines.append((line[0], line[1:]))
            elif line == "":
                cur.lines.append((" ", ""))
            # other lines (legacy '#' cursor comments) are garbage
    return [h for h in hunks if any(op != " " for op, _ in h.lines)]


def _find_block(lines: list[str], block: list[str], hint: int | None, taken: list[tuple[int, int]]) -> int | None:
    k = len(block)
    if k == 0:
        return None
    hits = [
        i
        for i in range(len(lines) - k + 1)
        if lines[i : i + k] == block and not any(i < e and s < i + k for s, e in taken)
    ]
    if not hits:
        return None
    if hint is None:
        return hits[0]
    return min(hits, key=lambda i: (abs(i - hint), i))


def reverse_apply_hunks(current: str, diff: str, excerpt_start_row: int | None = None) -> str:
    """Undo ``diff``'s hunks inside ``current`` (an excerpt starting at ``excerpt_start_row``)."""
    lines = current.split("\n")
    placed: list[tuple[int, int, list[str]]] = []  # (start, end, replacement) in current rows
    taken: list[tuple[int, int]] = []
    for h in _parse_hunks(diff):
        ops = h.lines
        lo, hi = 0, len(ops)
        first_change = next(i for i, (op, _) in enumerate(ops) if op != " ")
        last_change = max(i for i, (op, _) in enumerate(ops) if op != " ")
        found = None
        while True:
            window = ops[lo:hi]
            new_side = [t for op, t in window if op != "-"]
            hint = None
            if h.new_start is not None and excerpt_start_row is not None:
                skipped = sum(1 for op, _ in ops[:lo] if op != "-")
                hint = h.new_start - excerpt_start_row + skipped
            found = _find_block(lines, new_side, hint, taken) if new_side else None
            if found is not None:
                break
            # trim one context line from the end that has more unmatched context, if possible
            if lo < first_change and (first_change - lo) >= (hi - 1 - last_change):
                lo += 1
            elif hi - 1 > last_change:
                hi -= 1
            else:
                break
        if found is None:
            continue
        window = ops[lo:hi]
        n_new = sum(1 for op, _ in window if op != "-")
        old_side = [t for op, t in window if op != "+"]
        placed.append((found, found + n_new, old_side))
        taken.append((found, found + max(n_new, 1)))
    for start, end, repl in sorted(placed, key=lambda p: p[0], reverse=True):
        lines[start:end] = repl
    return "\n".join(lines)


# ----------------------------------------------------------------------------------- overlap
@dataclass(frozen=True)
class _Edit:
    start: int  # char offsets in the "old" text of the diff
    end: int
    new_text: str


@dataclass(frozen=True)
class ReversalOverlap:
    """``reversed_chars = reversed_additions + restored_deletions``; ``ratio = reversed/total``."""

    reversed_additions: int
    restored_deletions: int
    total_chars: int

    @property
    def reversed_chars(self) -> int:
        return self.reversed_additions + self.restored_deletions

    @property
    def ratio(self) -> float:
        return self.reversed_chars / self.total_chars if self.total_chars else 0.0


def _is_subsequence(short: str, long: str) -> bool:
    it = iter(long)
    return all(ch in it for ch in short)


def _normalize(old: str, edits: list[_Edit]) -> list[_Edit]:
    """Split replacements whose char diff is only insertions (or only deletions) into those parts.

    The char diff only runs when one side is a subsequence of the other (an O(n) pre-check), so a
    large rewrite costs no character diff."""
    out: list[_Edit] = []
    for e in edits:
        old_text = old[e.start : e.end]
        if not old_text or not e.new_text:
            out.append(e)
            continue
        if not (_is_subsequence(old_text, e.new_text) or _is_subsequence(e.new_text, old_text)):
            out.append(e)
            continue
        regions = diff_sequences(old_text, e.new_text)
        if regions and all(a0 == a1 for a0, a1, _, _ in regions):
            out.extend(_Edit(e.start + a0, e.start + a0, e.new_text[b0:b1]) for a0, _, b0, b1 in regions)
        elif regions and all(b0 == b1 for _, _, b0, b1 in regions):
            out.extend(_Edit(e.start + a0, e.start + a1, "") for a0, a1, _, _ in regions)
        else:
            out.append(e)
    return out


def _offsets(parts: list[str]) -> list[int]:
    out = [0]
    for p in parts:
        out.append(out[-1] + len(p))
    return out


def granular_edits_untrimmed(old: str, new: str) -> list[_Edit]:
    """§5.4 granular edits in character offsets of ``old`` (see module docstring)."""
    a, b = split_lines(old), split_lines(new)
    a_off, b_off = _offsets(a), _offsets(b)
    edits: list[_Edit] = []
    for a0, a1, b0, b1 in diff_sequences(a, b):
        old_text, new_text = old[a_off[a0] : a_off[a1]], new[b_off[b0] : b_off[b1]]
        if not rediffs_tokens(old_text, new_text, a1 - a0, b1 - b0):
            edits.append(_Edit(a_off[a0], a_off[a1], new_text))
            continue
        ta, tb = tokenize(old_text), tokenize(new_text)
        ta_off, tb_off = _offsets(ta), _offsets(tb)
        base = a_off[a0]
        for t0, t1, u0, u1 in diff_sequences(ta, tb):
            edits.append(_Edit(base + ta_off[t0], base + ta_off[t1], new_text[tb_off[u0] : tb_off[u1]]))
    return edits


def _edits(old: str, new: str) -> list[_Edit]:
    return _normalize(old, granular_edits_untrimmed(old, new))


def compute_reversal_overlap(original: str, current: str, predicted: str) -> ReversalOverlap:
    """Overlap between the prediction ``current → predicted`` and the undo of ``original → current``."""
    history = _edits(original, current)
    additions: list[tuple[int, int]] = []  # ranges in current
    deletions: list[tuple[int, str]] = []  # (position in current, deleted text)
    shift = 0
    for e in history:
        pos = e.start + shift
        if e.new_text:
            additions.append((pos, pos + len(e.new_text)))
        if e.end > e.start:
            deletions.append((pos, original[e.start : e.end]))
        shift += len(e.new_text) - (e.end - e.start)

    reversed_additions = restored = total = 0
    for p in _edits(current, predicted):
        total += len(p.new_text) + (p.end - p.start)
        for a0, a1 in additions:
            reversed_additions += max(0, min(p.end, a1) - max(p.start, a0))
        if p.new_text:
            for pos, text in deletions:
                if p.start <= pos < p.end or pos == p.start:
                    restored += lcs_length(text, p.new_text)
    return ReversalOverlap(reversed_additions, restored, total)


def compute_reversal_ratio(
    events: list[HistoryEvent],
    cursor_path: str,
    current_content: str,
    predicted_content: str,
    excerpt_start_row: int | None = None,
) -> float:
    """§5.4 ``compute_prediction_reversal_ratio_from_history`` over the cursor file's newest event."""
    mine = [e for e in events if paths_match(e.path, cursor_path)]
    if not mine:
        return 0.0
    last = mine[-1]
    if last.predicted or not last.diff.strip():
        return 0.0
    original = reverse_apply_hunks(current_content, last.diff, excerpt_start_row)
    return compute_reversal_overlap(original, current_content, predicted_content).ratio
