"""split-commit (zeta.md §3.10): cut an ordered commit into "what the user did" and "what comes next".

For a split point ``s`` (number of edited lines already typed, uniform in ``1..=num_edits``,
re-drawn ≤ 10 times while the next edit is in a service file):

* the *history* is the first ``s`` units applied to the old files; if the next unit adds a line,
  a half-typed version of it is put in the history (:func:`imitate_human_edit`) and the cursor sits
  at the end of the typed text (a "fim" example);
* otherwise the cursor is placed at the end of the last history edit (80%) or the start of the next
  edit (20%), with a 20% chance of a ±1..5 column jitter (:func:`sample_cursor`);
* the *expected patch* turns the state after the history into the state after the next
  ``max_target_hunks`` hunks (unified diff with real line numbers, relative to that state);
* the example is classified fim / same-file-near (≤ 30 lines) / same-file-far / cross-file /
  no-edit (nothing left) and tagged ``split:<kind>``.

Long histories keep only the last ``max_history_hunks`` hunks in ``edit_history``; earlier edits go
to ``uncommitted_diff`` (already in the working tree before the history is replayed). History and
expected patch are concatenated per-file diffs (``--- a/p`` / ``+++ b/p``, 3 lines of context); the
history's files are ordered by their last edit, so the cursor file comes last.

Everything is driven by ``random.Random`` seeded from strings, so the same commit + seed gives the
same examples on every platform.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from nextedit.data.commit import OrderedCommit, Rendered, render
from nextedit.io.markdown import format_cursor_excerpt
from nextedit.schema.example import Example
from nextedit.text.diff import NO_NEWLINE_MARKER, header_range  # the one unified-diff format
from nextedit.text.tokenize import tokenize

KINDS = ("fim", "same-file-near", "same-file-far", "cross-file", "no-edit")
NEAR_LINES = 30
MAX_RESAMPLE = 10


@dataclass(frozen=True)
class SplitConfig:
    """Knobs of the algorithm. ``split``: None (uniform), a fraction in (0, 1) as float, an index
    as int, or a kind name (sample among split points whose example has that kind)."""

    split: float | int | str | None = None
    max_history_hunks: int = 16
    max_target_hunks: int = 8
    context: int = 3
    excerpt_radius: int = 12  # lines kept on each side of the cursor in cursor_position
    near_lines: int = NEAR_LINES
    half_typed: bool = True  # False: never put a half-typed next line in the history (no "fim")


# ---------------------------------------------------------------------------- human-edit imitation


def fuzzy_ratio(a: str, b: str) -> float:
    """Similarity in 0..100 (difflib ratio)."""
    if not a and not b:
        return 100.0
    return 100.0 * SequenceMatcher(None, a, b, autojunk=False).ratio()


def _is_ident(c: str) -> bool:
    return c.isalnum() or c == "_"


def position_weight(line: str, p: int) -> int:
    """Weight of stopping typing after ``line[:p]`` (§3.10 step 4 table)."""
    c = line[p - 1]
    nxt = line[p] if p < len(line) else ""
    if c in ",;:([{":
        return 10
    if c in ")]}":
        return 8
    if _is_ident(c):
        return 1 if nxt and _is_ident(nxt) else 8
    if c.isspace():
        return 6
    if c in ".+-*/=<>&|!":
        return 5
    return 3


def _body(line: str) -> tuple[str, str]:
    if line.endswith("\r\n"):
        return line[:-2], "\r\n"
    if line.endswith("\n"):
        return line[:-1], "\n"
    return line, ""


def imitate_human_edit(old_line: str | None, new_line: str, rng: random.Random) -> tuple[str, int] | None:
    """A half-typed version of ``new_line`` (which replaces ``old_line``, or is a new line).

    Returns ``(partial line with its terminator, cursor column in characters)`` or None when the
    line offers no place to stop (blank, unchanged, pure deletion).
    """
    new_body, ending = _body(new_line)
    old_body = _body(old_line)[0] if old_line is not None else ""
    a, b = tokenize(old_body), tokenize(new_body)
    all_ops = SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    ops = [op for op in all_ops if op[0] != "equal"]
    if not ops:
        return None
    b_off = [0]
    for t in b:
        b_off.append(b_off[-1] + len(t))
    a_off = [0]
    for t in a:
        a_off.append(a_off[-1] + len(t))
    cp_new = b_off[ops[0][3]]
    ce = b_off[ops[-1][4]]
    deleted_at = {b_off[op[3]] for op in ops if op[0] in ("delete", "replace")}
    indent = len(new_body) - len(new_body.lstrip())

    def old_rest(p: int) -> str:
        """Old text still to the right of the cursor after typing ``new_body[:p]``: the old span
        being replaced is gone, the rest of the old line remains."""
        for tag, a0, a1, b0, b1 in all_ops:
            if b_off[b0] < p <= b_off[b1]:
                if tag == "equal":
                    return old_body[a_off[a0] + p - b_off[b0] :]
                return old_body[a_off[a1] :]
        return ""

    cands: list[int] = []
    weights: list[int] = []
    for p in range(max(cp_new, indent) + 1, ce + 1):
        if p > len(new_body):
            break
        w = position_weight(new_body, p)
        if p in deleted_at:
            w = 2
        cands.append(p)
        weights.append(w)
    if not cands:
        return None
    for _ in range(4):
        p = rng.choices(cands, weights)[0]
        typed = new_body[:p]
        rest_old = old_rest(p) if old_line is not None else ""
        partial = typed
        if rest_old and fuzzy_ratio(rest_old, new_body[p:]) > 35:
            partial = typed + rest_old
        if partial != new_body and partial != old_body:
            return partial + (ending or "\n"), p
    return None


def sample_cursor(lines: list[str], row: int, col: int, rng: random.Random) -> tuple[int, int]:
    """20% chance of moving ``col`` by ±1..5 characters, clamped to the line."""
    if rng.random() < 0.2 and row < len(lines):
        body = _body(lines[row])[0]
        col = min(max(0, col + rng.choice((-1, 1)) * rng.randint(1, 5)), len(body))
    return row, col


# ---------------------------------------------------------------------------------- diffs


@dataclass
class _Window:
    a_lo: int
    a_hi: int
    b_lo: int
    b_hi: int


def _emit_range(out: list[str], prefix: str, lines: list[str], lo: int, hi: int) -> None:
    """Diff lines ``prefix + lines[lo:hi]``; only the file's last line can lack its newline."""
    if lo < hi:
        out.extend([prefix + line for line in lines[lo:hi]])
        if not lines[hi - 1].endswith("\n"):
            out[-1] = out[-1] + "\n" + NO_NEWLINE_MARKER + "\n"


def diff_states(
    commit: OrderedCommit, file: int, a: Rendered, b: Rendered, hunks: Sequence[int], context: int = 3
) -> tuple[str, list[_Window]]:
    """Unified diff of file ``file`` from state ``a`` to state ``b`` given the hunks whose regions may
    differ, with real line numbers, in the format of :func:`nextedit.text.diff.unified_diff`.

    Fast path: a hunk's two regions are trimmed of their common first and last lines and the rest
    is written as one change (no diff search needed: regions never share interior lines by
    construction, and when they do the result is still a correct, slightly larger diff). Changes
    closer than ``2 * context`` lines share a hunk. Returns the diff and the hunk windows
    (``a``/``b`` row ranges including context)."""
    path = commit.files[file].path
    hs = sorted(set(hunks), key=lambda i: commit.hunks[i].old_start)
    al, bl = a.lines, b.lines
    groups: list[list[tuple[int, int, int, int]]] = []
    for hi in hs:
        sa, la = a.regions[hi]
        sb, lb = b.regions[hi]
        ea, eb = sa + la, sb + lb
        while sa < ea and sb < eb and al[sa] == bl[sb]:
            sa += 1
            sb += 1
        while ea > sa and eb > sb and al[ea - 1] == bl[eb - 1]:
            ea -= 1
            eb -= 1
        if sa == ea and sb == eb:
            continue
        if groups and sa - groups[-1][-1][1] <= 2 * context:
            groups[-1].append((sa, ea, sb, eb))
        else:
            groups.append([(sa, ea, sb, eb)])
    out: list[str] = []
    windows: list[_Window] = []
    for g in groups:
        a_lo = max(0, g[0][0] - context)
        b_lo = g[0][2] - (g[0][0] - a_lo)
        a_hi = min(len(al), g[-1][1] + context)
        b_hi = g[-1][3] + (a_hi - g[-1][1])
        windows.append(_Window(a_lo, a_hi, b_lo, b_hi))
        out.append(f"@@ -{header_range(a_lo, a_hi - a_lo, 0)} +{header_range(b_lo, b_hi - b_lo, 0)} @@\n")
        pos = a_lo
        for sa, ea, sb, eb in g:
            _emit_range(out, " ", al, pos, sa)
            _emit_range(out, "-", al, sa, ea)
            _emit_range(out, "+", bl, sb, eb)
            pos = ea
        _emit_range(out, " ", al, pos, a_hi)
    if not out:
        return "", windows
    return f"--- a/{path}\n+++ b/{path}\n" + "".join(out), windows


# ------------------------------------------------------------------------------ one sample


@dataclass
class Sample:
    split: int
    kind: str
    cursor_path: str
    cursor_position: str
    edit_history: str
    uncommitted_diff: str
    expected_patch: str

    def to_example(self, name: str, repository_url: str, revision: str, tags: Sequence[str]) -> Example:
        """The example of this sample (tags plus ``split:<kind>``)."""
        return Example(
            name=name,
            repository_url=repository_url,
            revision=revision,
            tags=[*tags, f"split:{self.kind}"],
            uncommitted_diff=self.uncommitted_diff,
            cursor_path=self.cursor_path,
            cursor_position=self.cursor_position,
            edit_history=self.edit_history,
            expected_patches=[self.expected_patch],
        )

    def key(self) -> tuple[str, ...]:
        return (
            self.uncommitted_diff,
            self.edit_history,
            self.cursor_path,
            self.cursor_position,
            self.expected_patch,
        )


def choose_split(commit: OrderedCommit, rng: random.Random, split: float | int | None) -> int:
    """§3.10 step 2: the number of units in the history."""
    n = commit.num_edits
    if isinstance(split, float) and not isinstance(split, bool):
        return max(0, min(n, int(split * n)))
    if isinstance(split, int) and not isinstance(split, bool):
        return max(0, min(n, split))
    s = rng.randint(1, n)
    for _ in range(MAX_RESAMPLE):
        if s < n and commit.is_service_unit(s):
            s = rng.randint(1, n)
        else:
            break
    return s


def make_sample(
    commit: OrderedCommit, s: int, rng: random.Random, cfg: SplitConfig = SplitConfig()
) -> Sample:
    """Build the example parts for split point ``s`` (0 ≤ s ≤ num_edits)."""
    n = commit.num_edits
    units = commit.units
    applied: dict[int, int] = {}
    for hi, _ in units[:s]:
        applied[hi] = applied.get(hi, 0) + 1
    touched = list(dict.fromkeys(hi for hi, _ in units[:s]))

    # ---- half-typed line (fim)
    partial = None
    if 0 < s < n and cfg.half_typed:
        nh, nu = units[s]
        kind, j = commit.hunks[nh].units[nu]
        if kind == "+":
            h = commit.hunks[nh]
            fc = commit.files[h.file]
            old_line = None
            if nu > 0 and h.units[nu - 1] == ("-", j):
                old_line = fc.old_lines[h.old_start + j]
            got = imitate_human_edit(
                old_line, fc.new_lines[h.new_start + j], random.Random(rng.randint(1, 10000))
            )
            if got is not None:
                partial = (nh, j, got[0], got[1])
                if nh not in touched:
                    touched.append(nh)
    recent = set(touched[-cfg.max_history_hunks :]) if cfg.max_history_hunks > 0 else set()
    base_applied = {hi: k for hi, k in applied.items() if hi not in recent}
    target_hunks: list[int] = []
    if s < n:
        first = units[s][0]
        target_hunks = list(range(first, min(len(commit.hunks), first + max(1, cfg.max_target_hunks))))
    target_set = set(target_hunks)
    final_applied = dict(applied)
    for hi in target_hunks:
        final_applied[hi] = len(commit.hunks[hi].units)

    # ---- cursor anchor: last history unit or first target unit
    last = units[s - 1] if s > 0 else None
    nxt = units[s] if s < n else None
    use_target_start = nxt is not None and (last is None or (partial is None and rng.random() < 0.2))
    if partial is not None:
        anchor_hunk, anchor = partial[0], (partial[0], "+", partial[1])
    elif use_target_start:
        anchor_hunk = nxt[0]
        anchor = (nxt[0], *commit.hunks[nxt[0]].units[nxt[1]])
    else:
        anchor_hunk = last[0]
        anchor = (last[0], *commit.hunks[last[0]].units[last[1]])
    cursor_file = commit.hunks[anchor_hunk].file
    next_mark = (nxt[0], *commit.hunks[nxt[0]].units[nxt[1]]) if nxt is not None else None

    # ---- render states per involved file
    files = sorted({commit.hunks[hi].file for hi in (*touched, *target_hunks)})
    history_parts: list[tuple[int, str]] = []
    uncommitted_parts: list[str] = []
    target_parts: list[tuple[int, str]] = []
    mid_by_file: dict[int, Rendered] = {}
    hist_windows: list[_Window] = []
    tgt_windows: list[_Window] = []
    last_touch = {commit.hunks[hi].file: i for i, hi in enumerate(touched)}
    first_target = {}
    for i, hi in enumerate(target_hunks):
        first_target.setdefault(commit.hunks[hi].file, i)
    pmark = None if partial is None else (partial[0], partial[1], partial[2])
    for f in files:
        fh = commit.file_hunks[f]
        base_h = [hi for hi in fh if hi in base_applied]
        hist_h = [hi for hi in fh if hi in recent]
        tgt_h = [hi for hi in fh if hi in target_set]
        marks = {m for m in (anchor, next_mark) if m is not None and commit.hunks[m[0]].file == f}
        old = render(commit, f, {})
        base = render(commit, f, {hi: base_applied[hi] for hi in base_h}) if base_h else old
        if base_h:
            d, _ = diff_states(commit, f, old, base, base_h, cfg.context)
            if d:
                uncommitted_parts.append(d)
        if not (hist_h or tgt_h or marks):
            continue
        mid = render(commit, f, applied, pmark if pmark and commit.hunks[pmark[0]].file == f else None, marks)
        mid_by_file[f] = mid
        if hist_h:
            d, wins = diff_states(commit, f, base, mid, hist_h, cfg.context)
            if d:
                history_parts.append((last_touch[f], d))
            if f == cursor_file:
                hist_windows = wins
        if tgt_h:
            final = render(commit, f, final_applied)
            d, wins = diff_states(commit, f, mid, final, tgt_h, cfg.context)
            if d:
                target_parts.append((first_target[f], d))
            if f == cursor_file:
                tgt_windows = wins
    edit_history = "".join(d for _, d in sorted(history_parts))
    expected = "".join(d for _, d in sorted(target_parts))

    # ---- cursor position
    mid = mid_by_file[cursor_file]
    lines = mid.lines
    row = mid.marks.get(anchor, 0)
    imitated = partial is not None
    if imitated:
        col = partial[3]
    elif anchor[1] == "+" and not use_target_start:  # end of the added line
        col = len(_body(lines[row])[0]) if row < len(lines) else 0
    elif anchor[1] == "-" and not use_target_start:  # where the deleted line was
        col = 0
    elif anchor[1] == "-":  # start of the line to delete (first non-blank)
        body = _body(lines[row])[0] if row < len(lines) else ""
        col = len(body) - len(body.lstrip())
    else:  # start of where the next line goes
        col = 0
    if row >= len(lines) and lines:  # past the end: end of the last line
        row = len(lines) - 1
        col = len(_body(lines[row])[0])
    if not imitated:
        row, col = sample_cursor(lines, row, col, rng)

    # excerpt: the window of the relevant hunk in the mid state, clipped around the cursor
    lo, hi = max(0, row - 3), min(len(lines), row + 4)
    for w in (tgt_windows if use_target_start else hist_windows) or (hist_windows or tgt_windows):
        side_lo, side_hi = (w.a_lo, w.a_hi) if use_target_start else (w.b_lo, w.b_hi)
        if side_lo <= row < max(side_hi, side_lo + 1):
            lo, hi = side_lo, max(side_hi, row + 1)
            break
    lo = max(lo, row - cfg.excerpt_radius)
    hi = min(hi, row + cfg.excerpt_radius + 1, len(lines))
    excerpt_lines = lines[lo:hi] or [""]
    excerpt = "".join(excerpt_lines)
    before = "".join(lines[lo:row]) if row < len(lines) else excerpt
    cur_line = lines[row] if row < len(lines) else ""
    offset = len(before.encode()) + len(cur_line[:col].encode())
    cursor_position = format_cursor_excerpt(
        excerpt, min(offset, len(excerpt.encode())), commit.files[cursor_file].path
    )

    # ---- classification
    if nxt is None:
        kind = "no-edit"
    elif commit.hunks[nxt[0]].file != cursor_file:
        kind = "cross-file"
    elif imitated:
        kind = "fim"
    else:
        nrow = mid.marks.get(next_mark, row)
        kind = "same-file-near" if abs(nrow - row) <= cfg.near_lines else "same-file-far"
    if s == 0:
        expected = ""
    return Sample(
        split=s,
        kind=kind,
        cursor_path=commit.files[cursor_file].path,
        cursor_position=cursor_position,
        edit_history=edit_history,
        uncommitted_diff="".join(uncommitted_parts),
        expected_patch=expected,
    )


# ------------------------------------------------------------------------------ examples


def split_commit(
    commit: OrderedCommit,
    *,
    name: str,
    repository_url: str,
    revision: str,
    seed: int | str = 0,
    samples: int = 1,
    cfg: SplitConfig = SplitConfig(),
    tags: Sequence[str] = (),
) -> list[Example]:
    """Up to ``samples`` distinct examples from one commit (seeds ``seed:name:i``), named
    ``name`` then ``name-1``, ``name-2``… (§3.10 step 8)."""
    if commit.num_edits == 0:
        return []
    out: list[Example] = []
    seen: set[tuple[str, ...]] = set()
    attempts = max(samples * 3, samples + 2)
    for i in range(attempts):
        if len(out) >= samples:
            break
        rng = random.Random(f"{seed}:{name}:{i}")
        sample = None
        if isinstance(cfg.split, str):
            for _ in range(24):
                cand = make_sample(commit, choose_split(commit, rng, None), rng, cfg)
                if cand.kind == cfg.split:
                    sample = cand
                    break
            if sample is None:
                continue
        else:
            sample = make_sample(commit, choose_split(commit, rng, cfg.split), rng, cfg)
        if sample.key() in seen:
            continue
        seen.add(sample.key())
        out.append(sample.to_example(name if not out else f"{name}-{len(out)}", repository_url, revision, tags))
    return out
