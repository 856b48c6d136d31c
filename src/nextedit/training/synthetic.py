"""Synthetic next-edit examples from plain source code (a curriculum source for the student model).

Each example is a small *snippet* of a real file (``min_lines..max_lines`` whole lines) that plays
the role of the whole buffer: the user made one edit (the edit-history event), and the expected
next edit follows from it. Kinds:

* ``copy``: not an edit; ``<filename>{path}\\n{span}\\n<[fim-middle]>`` → ``{span}\\n`` + EOS.
  Pure copying from the prompt, to form the induction/copy circuit early.
* ``scramble``: like ``copy`` but the span is the snippet's words in random order, so nothing but
  copying predicts the response (a strong signal for forming induction heads early).
* ``complete``: the user is typing a line; the event shows the first characters typed, the target
  finishes the line (cursor at the end of the typed prefix).
* ``rename``: the user renamed one occurrence of an identifier; the target renames the others in
  the editable region.
* ``insert_arg``: the user added an argument to one call ``f(a)`` → ``f(a, x)``; the target adds it
  to the other calls of ``f`` in the editable region.
* ``noedit``: the user finished an edit (completed line); nothing more to do (target = no edit).

Kinds may carry a sampling weight, ``"copy:0.4"``; defaults are in ``DEFAULT_WEIGHTS``.

Edit kinds are rendered through the prompt registry (``get_format(fmt).format_prompt`` and the
format's output encoder), so prompts and targets are byte-identical to what inference sees.
:func:`synthetic_pairs` yields ``(prompt, expected_output)``; :func:`synthetic_examples` yields
Example-shaped dicts (``prompt.input`` / ``prompt.expected_output`` / ``tags``; edit kinds also carry
``cursor_path``, ``prompt_inputs`` and ``expected_patches`` so that ``nextedit eval`` can score
them). Deterministic for a given seed and source list.
"""

from __future__ import annotations

import keyword
import random
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nextedit.text.diff import common_affixes

KINDS = ("copy", "scramble", "complete", "rename", "insert_arg", "noedit")
DEFAULT_KINDS = ("copy", "complete", "rename", "insert_arg", "noedit")
DEFAULT_WEIGHTS = {
    "copy": 0.2,
    "scramble": 0.2,
    "complete": 0.3,
    "rename": 0.2,
    "insert_arg": 0.1,
    "noedit": 0.2,
}
_IDENT = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]{2,}\b")
_CALL = re.compile(r"\b([A-Za-z_][A-Za-z0-9_.]*)\(([^()\n]*)\)")
_FORBIDDEN = ("<|", "|>", "<[", "]>", "<filename>", "<<<<<<<", ">>>>>>>", "=======", "NO_EDITS")


@dataclass
class SyntheticEdit:
    """A buffer before the user's last edit, now (``current``), and after the expected next edit.
    ``cursor`` is a byte offset in ``current``."""

    kind: str
    path: str
    before: str
    current: str
    target: str
    cursor: int


# ------------------------------------------------------------------------------------- sources
def load_sources(
    paths: Iterable[str | Path], *, max_files: int = 20000, max_bytes: int = 200_000
) -> list[tuple[str, str]]:
    """``(path, text)`` of source files: ``.jsonl`` corpus lines (``path``/``text``) or ``*.py``
    files under directories. Files larger than ``max_bytes`` or holding prompt markers are skipped."""
    from nextedit.io.jsonl import iter_json_lines

    out: list[tuple[str, str]] = []
    for p in map(Path, paths):
        if p.is_dir():
            for f in sorted(p.rglob("*.py")):
                if len(out) >= max_files:
                    break
                try:
                    text = f.read_text(encoding="utf-8")
                except (UnicodeDecodeError, OSError):
                    continue
                out.append((str(f.relative_to(p)), text))
        elif p.exists():
            for _, rec in iter_json_lines(p):
                if len(out) >= max_files:
                    break
                if isinstance(rec.get("text"), str):
                    out.append((str(rec.get("path") or "file.py"), rec["text"]))
    return [
        (path, text)
        for path, text in out
        if len(text) <= max_bytes and not any(t in text for t in _FORBIDDEN)
    ]


def _snippet(rng: random.Random, text: str, min_lines: int, max_lines: int) -> str | None:
    lines = text.split("\n")
    if len(lines) < min_lines:
        return None
    n = rng.randint(min_lines, min(max_lines, len(lines)))
    start = rng.randrange(0, len(lines) - n + 1)
    chunk = lines[start : start + n]
    while chunk and not chunk[0].strip():
        chunk = chunk[1:]
    while chunk and not chunk[-1].strip():
        chunk = chunk[:-1]
    if len(chunk) < min(min_lines, 3) or sum(bool(x.strip()) for x in chunk) < len(chunk) // 2:
        return None
    if any(len(x) > 200 for x in chunk):
        return None
    return "\n".join(chunk) + "\n"


# ----------------------------------------------------------------------------------- edit makers
def _line_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) character offsets of each line without its newline."""
    spans, pos = [], 0
    for line in text.split("\n"):
        spans.append((pos, pos + len(line)))
        pos += len(line) + 1
    return spans


def _b(text: str, char_offset: int) -> int:
    return len(text[:char_offset].encode("utf-8"))


def make_complete(rng: random.Random, path: str, snip: str) -> SyntheticEdit | None:
    spans = [(s, e) for s, e in _line_spans(snip) if len(snip[s:e].strip()) >= 8]
    if not spans:
        return None
    s, e = rng.choice(spans)
    line = snip[s:e]
    indent = len(line) - len(line.lstrip())
    body = len(line) - indent
    typed_before = indent + rng.randint(0, max(0, body // 3))
    typed_now = rng.randint(typed_before + 1, indent + max(1, (body * 2) // 3))
    before = snip[:s] + line[:typed_before] + snip[e:]
    current = snip[:s] + line[:typed_now] + snip[e:]
    return SyntheticEdit("complete", path, before, current, snip, _b(current, s + typed_now))


def make_noedit(rng: random.Random, path: str, snip: str) -> SyntheticEdit | None:
    ed = make_complete(rng, path, snip)
    if ed is None:
        return None
    row = ed.current.encode()[: ed.cursor].count(b"\n")
    _, end = _line_spans(snip)[row]
    return SyntheticEdit("noedit", path, ed.current, snip, snip, _b(snip, end))


def _rename(rng: random.Random, name: str, others: set[str]) -> str:
    options = [
        lambda n: n + "s" if not n.endswith("s") else n[:-1],
        lambda n: "new_" + n,
        lambda n: n + "_value",
        lambda n: (
            re.sub(r"(?<!^)(?=[A-Z])", "_", n).lower() if any(c.isupper() for c in n[1:]) else n.upper()
        ),
        lambda n: rng.choice(sorted(others)) if others else n + "2",
    ]
    for _ in range(5):
        new = rng.choice(options)(name)
        if new != name and new.isidentifier() and not keyword.iskeyword(new):
            return new
    return name + "2"


def make_rename(rng: random.Random, path: str, snip: str) -> SyntheticEdit | None:
    counts: dict[str, list[re.Match]] = {}
    for m in _IDENT.finditer(snip):
        if not keyword.iskeyword(m.group()) and m.group() not in ("self", "None", "True", "False"):
            counts.setdefault(m.group(), []).append(m)
    cands = [k for k, v in counts.items() if 2 <= len(v) <= 8]
    if not cands:
        return None
    name = rng.choice(sorted(cands))
    new = _rename(rng, name, set(counts) - {name})
    if new in counts:
        return None
    occ = counts[name]
    first = occ[0]
    current = snip[: first.start()] + new + snip[first.end() :]
    target = re.sub(rf"\b{re.escape(name)}\b", new, snip)
    return SyntheticEdit("rename", path, snip, current, target, _b(current, first.start() + len(new)))


def make_insert_arg(rng: random.Random, path: str, snip: str) -> SyntheticEdit | None:
    calls: dict[str, list[re.Match]] = {}
    for m in _CALL.finditer(snip):
        if not keyword.iskeyword(m.group(1).split(".")[-1]):
            calls.setdefault(m.group(1), []).append(m)
    cands = [k for k, v in calls.items() if len(v) >= 2]
    if not cands:
        return None
    fn = rng.choice(sorted(cands))
    idents = sorted({m.group() for m in _IDENT.finditer(snip) if not keyword.iskeyword(m.group())})
    arg = rng.choice(idents + ["None", "True", "0", "timeout=timeout", "verbose=False"]) if idents else "None"

    def add(m: re.Match) -> str:
        inner = m.group(2)
        return f"{m.group(1)}({inner + ', ' if inner.strip() else ''}{arg})"

    first = calls[fn][0]
    new_first = add(first)
    current = snip[: first.start()] + new_first + snip[first.end() :]
    target = _CALL.sub(lambda m: add(m) if m.group(1) == fn else m.group(0), snip)
    return SyntheticEdit(
        "insert_arg", path, snip, current, target, _b(current, first.start() + len(new_first) - 1)
    )


MAKERS = {
    "complete": make_complete,
    "rename": make_rename,
    "insert_arg": make_insert_arg,
    "noedit": make_noedit,
}


# ---------------------------------------------------------------------------------- rendering
def edit_to_request(edit: SyntheticEdit):
    """The ``Zeta2PromptInput`` an editor would send for ``edit`` (snippet = whole buffer)."""
    from nextedit.context.excerpt_ranges import compute_legacy_excerpt_ranges
    from nextedit.schema.request import ByteRange, Event, Zeta2PromptInput
    from nextedit.text.diff import unified_diff

    diff = unified_diff(edit.before, edit.current, edit.path, headers=False)
    events = []
    if diff:
        events.append(
            Event(path=edit.path, old_path=edit.path, diff=diff, old_range=ByteRange(), new_range=ByteRange())
        )
    return Zeta2PromptInput(
        cursor_path=edit.path,
        cursor_excerpt=edit.current,
        cursor_offset_in_excerpt=edit.cursor,
        excerpt_start_row=0,
        events=events,
        excerpt_ranges=compute_legacy_excerpt_ranges(edit.current, edit.cursor, None),
    )


def render_edit(edit: SyntheticEdit, fmt) -> tuple[str, str] | None:
    """``(prompt, expected_output)`` in format ``fmt`` (a registry PromptFormat); see
    :func:`render_edit_full`."""
    full = render_edit_full(edit, fmt)
    return None if full is None else (full[0], full[1])


def render_edit_full(edit: SyntheticEdit, fmt):
    """``(prompt, expected_output, request, new_excerpt)``. Changes outside the format's editable
    region are dropped from the target (the model cannot express them), so ``new_excerpt`` may
    differ from ``edit.target``. None when the prompt is over budget or, for an edit kind, nothing
    is left to predict."""
    request = edit_to_request(edit)
    formatted = fmt.format_prompt(request)
    if formatted is None:
        return None
    region = fmt.region(request)
    cur = edit.current.encode()
    tgt = edit.target.encode()
    s, e = region.editable.start, region.editable.end
    pre, suf = common_affixes(cur, tgt)
    if pre < s or len(cur) - suf > e:
        tgt = _project_target(cur, tgt, s, e)
    new_region = tgt[s : len(tgt) - (len(cur) - e)].decode("utf-8", errors="strict")
    old_region = region.editable_text
    if edit.kind != "noedit" and new_region == old_region:
        return None
    new_excerpt = (cur[:s] + new_region.encode() + cur[e:]).decode()
    return formatted.prompt, fmt.encode_output(old_region, new_region, None), request, new_excerpt


def _project_target(cur: bytes, tgt: bytes, s: int, e: int) -> bytes:
    """Target restricted to changes inside ``cur[s:e]``, by line-aligned diff of the region.

    Lines are matched with difflib; changed line groups entirely inside ``[s, e)`` are applied."""
    import difflib

    a = cur.decode().splitlines(keepends=True)
    b = tgt.decode().splitlines(keepends=True)
    out: list[str] = []
    pos = 0
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        start = pos
        end = pos + sum(len(x.encode()) for x in a[i1:i2])
        if tag != "equal" and start >= s and end <= e + 1 and (i2 > i1 or start < e):
            out.extend(b[j1:j2])
        else:
            out.extend(a[i1:i2])
        pos = end
    return "".join(out).encode()


def render_scramble(rng: random.Random, path: str, snip: str, max_words: int = 40) -> tuple[str, str]:
    from nextedit.model.tokenizer import EOS_TOKEN

    words = snip.split()
    rng.shuffle(words)
    words = words[: rng.randint(min(4, len(words)), max(4, min(max_words, len(words))))]
    span = " ".join(words) + "\n"
    return f"<filename>{path}\n{span}<[fim-middle]>", span + EOS_TOKEN


def render_copy(rng: random.Random, path: str, snip: str, max_copy_lines: int = 8) -> tuple[str, str]:
    lines = snip.split("\n")[:-1]
    n = rng.randint(1, min(max_copy_lines, len(lines)))
    k = rng.randrange(0, len(lines) - n + 1)
    span = "\n".join(lines[k : k + n]) + "\n"
    from nextedit.model.tokenizer import EOS_TOKEN

    return f"<filename>{path}\n{span}<[fim-middle]>", span + EOS_TOKEN


# ---------------------------------------------------------------------------------- generator
def parse_kinds(kinds: list[str] | None) -> tuple[list[str], list[float]]:
    """Kinds and sampling weights from ``["copy:0.4", "complete", ...]`` (default weight per kind)."""
    names: list[str] = []
    weights: list[float] = []
    for item in kinds or list(DEFAULT_KINDS):
        name, _, w = item.partition(":")
        if name not in KINDS:
            raise ValueError(f"synthetic: unknown kind {name!r}; known: {', '.join(KINDS)}")
        names.append(name)
        weights.append(float(w) if w else DEFAULT_WEIGHTS[name])
    return names, weights


def synthetic_examples(
    sources: Iterable[str | Path] | list[tuple[str, str]],
    *,
    n: int,
    kinds: list[str] | None = None,
    min_lines: int = 4,
    max_lines: int = 40,
    seed: int = 0,
    format_name: str = "zeta2_1",
) -> Iterator[dict[str, Any]]:
    """``n`` Example-shaped dicts (``name``, ``tags``, ``prompt.input``, ``prompt.expected_output``)."""
    from nextedit.prompts import get_format

    files = (
        sources
        if (isinstance(sources, list) and sources and isinstance(sources[0], tuple))
        else load_sources(sources)
    )  # type: ignore[arg-type]
    if not files:
        raise ValueError("synthetic: no usable source files")
    fmt = get_format(format_name)
    kinds, weights = parse_kinds(kinds)
    rng = random.Random(seed)
    made = 0
    attempts = 0
    while made < n:
        attempts += 1
        if attempts > 50 * n + 1000:
            raise ValueError(f"synthetic: produced only {made}/{n} examples from {len(files)} files")
        kind = rng.choices(kinds, weights)[0]
        path, text = files[rng.randrange(len(files))]
        snip = _snippet(rng, text, min_lines, max_lines)
        if snip is None:
            continue
        extra: dict[str, Any] = {}
        if kind == "copy":
            pair: tuple[str, str] | None = render_copy(rng, path, snip)
        elif kind == "scramble":
            if len(snip.split()) < 4:
                continue
            pair = render_scramble(rng, path, snip)
        else:
            edit = MAKERS[kind](rng, path, snip)
            if edit is None:
                continue
            try:
                full = render_edit_full(edit, fmt)
            except (ValueError, UnicodeDecodeError):
                continue
            if full is None:
                continue
            pair = (full[0], full[1])
            from nextedit.text.diff import unified_diff

            patch = unified_diff(edit.current, full[3], path)
            extra = {
                "cursor_path": path,
                "prompt_inputs": full[2].to_zed_json(),
                "expected_patches": [patch] if patch else [],
            }
        if pair is None:
            continue
        made += 1
        yield {
            "name": f"synthetic-{seed}-{made}",
            "tags": ["synthetic", kind],
            **extra,
            "prompt": {
                "input": pair[0],
                "expected_output": pair[1],
                "provider": fmt.provider if kind != "copy" else "copy",
            },
        }


def synthetic_pairs(
    sources, *, n: int, kinds=None, max_lines: int = 40, seed: int = 0, **kw
) -> Iterator[tuple[str, str]]:
    """``(prompt, expected_output)`` pairs; see :func:`synthetic_examples`."""
    for ex in synthetic_examples(sources, n=n, kinds=kinds, max_lines=max_lines, seed=seed, **kw):
        yield ex["prompt"]["input"], ex["prompt"]["expected_output"]
