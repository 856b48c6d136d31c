"""The ``heuristic`` provider: a non-neural baseline over the request alone (no model, ~1 ms).

Two rules, tried in order, inside the zeta2 editable region
(:func:`nextedit.context.excerpt_ranges.resolve_cursor_region`, ``editable_350`` or computed):

1. **Rename propagation.** Token-diff the ``-``/``+`` lines of the cursor file's newest edit event
   (identifier runs, punctuation and whitespace as tokens, :class:`difflib.SequenceMatcher`). Every
   one-identifier-for-one-identifier substitution ``old → new`` (e.g. ``qty → quantity``) is applied
   to the other whole-token occurrences of ``old`` in the region, on lines that are not among the
   event's added lines. Occurrences of the same *kind* only: an attribute rename (``.old``) renames
   attributes, a bare-name rename renames bare names; ``old=`` (keyword argument) is left alone.
   A paired changed line also yields its whole differing token span (``utcnow( → now(timezone.utc``),
   propagated the same way (longest spans first).
2. **Identifier completion.** If the cursor ends an identifier fragment of ≥ 2 characters (and no
   identifier character follows), complete it with the identifier from the excerpt and related
   files that starts with it and is longer: most frequent first, then nearest to the cursor —
   unless the fragment itself is used at least as often as a complete identifier.

If neither applies the answer is "no edit" (``editable_range`` 0..0, ``output`` "").
Offsets in the answer are UTF-8 bytes of ``cursor_excerpt``.

**Bounded work.** Every size the client controls is capped, so one request costs at most ~0.1 s
of CPU whatever it holds (worst cases here: ~50 ms diffing, ~120 ms completing):

* ``SequenceMatcher`` (roughly cubic on repetitive input) runs under a work budget
  (:data:`MAX_DIFF_WORK`, spent before each of its longest-match searches by an upper bound of
  that search); a diff that would cost more, or holds more than :data:`MAX_DIFF_TOKENS` tokens
  in its change groups or :data:`MAX_DIFF_CHARS` characters, is not a rename: the rule declines.
* Rename propagation declines on a region over :data:`MAX_REGION_CHARS` characters or
  :data:`MAX_REGION_LINES` lines, more than :data:`MAX_SUBSTITUTIONS` substitutions (or one over
  :data:`MAX_SUBSTITUTION_CHARS`), and past :data:`MAX_MATCHES` occurrences.
* Completion reads at most :data:`MAX_CORPUS_CHARS` characters of excerpt and related files and
  declines on a fragment over :data:`MAX_FRAGMENT_CHARS`.
* ``cancel`` is checked between phases (and every few hundred lines or texts inside them).

Each cap is well above what the data sets hold (noted next to it); predictions under the caps
are the same as without them.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from itertools import accumulate
from typing import TYPE_CHECKING

from nextedit.schema.prediction import EditPrediction
from nextedit.schema.provider import Provider

if TYPE_CHECKING:
    from nextedit.schema.cancel import CancelToken
    from nextedit.schema.request import Zeta2PromptInput

_TOKEN = re.compile(r"\w+|\s+|[^\w\s]")
_IDENT = re.compile(r"[^\W\d]\w*")
_FRAGMENT_AT_END = re.compile(r"[^\W\d]\w*\Z")
MIN_COMPLETION_PREFIX = 2

#: work units of ``SequenceMatcher`` (see :class:`_CountedMatcher`) for all of a diff's change
#: groups together; one unit is ~50 ns here, so ~50 ms at most (a 16-line table ``0, 0, 0, 0,`` →
#: ``1, 1, 1, 1,`` costs 0.23 M, 32 lines 1.8 M: declined)
MAX_DIFF_WORK = 1 << 20
MAX_DIFF_TOKENS = 1 << 14  # tokens of all change groups together, both sides
MAX_DIFF_CHARS = 256 * 1024  # the newest event's diff text
MAX_REGION_CHARS = 16 * 1024  # editable region that rename propagation rewrites (data: <= 1.4 K)
MAX_REGION_LINES = 1024  # (data: <= 150)
MAX_SUBSTITUTIONS = 64  # (data: <= 47)
MAX_SUBSTITUTION_CHARS = 1024  # of one substitution's old or new text
MAX_MATCHES = 8192  # occurrences rename propagation looks at in a region
MAX_CORPUS_CHARS = 1 << 19  # excerpt + related files read by identifier completion (largest in the data: 250 K)
MAX_FRAGMENT_CHARS = 256  # an identifier fragment longer than this is not completed
_CHECK_EVERY = 256  # lines or texts between two cancellation checks


class Declined(Exception):
    """An input over one of the caps: the rule does not apply (never leaves this module)."""


def _check(cancel: CancelToken | None) -> None:
    if cancel is not None:
        cancel.check()


Substitution = tuple[str, str, bool]  # (old text, new text, old text was preceded by ".")


def _span_substitution(old_line: str, new_line: str) -> Substitution | None:
    """The differing token span of two lines (common token prefix/suffix removed) when the old
    span starts or ends with an identifier and is not a single identifier (handled per token)."""
    a, b = _TOKEN.findall(old_line), _TOKEN.findall(new_line)
    p = 0
    while p < min(len(a), len(b)) and a[p] == b[p]:
        p += 1
    q = 0
    while q < min(len(a), len(b)) - p and a[-1 - q] == b[-1 - q]:
        q += 1
    old_span, new_span = a[p : len(a) - q], b[p : len(b) - q]
    if not old_span or not new_span or len(old_span) > 8 or len(old_span) == 1:
        return None
    if not (_IDENT.fullmatch(old_span[0]) or _IDENT.fullmatch(old_span[-1])):
        return None
    if any(t.isspace() for t in (old_span[0], old_span[-1], new_span[0], new_span[-1])):
        return None
    return "".join(old_span), "".join(new_span), p > 0 and a[p - 1] == "."


class _CountedMatcher(difflib.SequenceMatcher):
    """``SequenceMatcher`` (no autojunk) that spends ``budget[0]`` before each longest-match search
    by an upper bound of that search's work: its range of ``a`` plus, for each of those tokens,
    its occurrences in ``b`` (what the search's inner loop can visit), plus its range of ``b``.
    Raises :class:`Declined` instead of starting a search the budget cannot pay for, so the whole
    diff costs at most the budget (repetitive input makes the matcher roughly cubic)."""

    def __init__(self, a: list[str], b: list[str], budget: list[int]) -> None:
        super().__init__(None, a, b, autojunk=False)
        in_b = Counter(b)
        self._cost = list(accumulate((1 + in_b.get(t, 0) for t in a), initial=0))
        self._budget = budget

    def find_longest_match(self, alo: int = 0, ahi: int | None = None, blo: int = 0, bhi: int | None = None):  # noqa: ANN201
        ahi = len(self.a) if ahi is None else ahi
        bhi = len(self.b) if bhi is None else bhi
        self._budget[0] -= self._cost[ahi] - self._cost[alo] + (bhi - blo)
        if self._budget[0] < 0:
            raise Declined
        return super().find_longest_match(alo, ahi, blo, bhi)


def _token_replacements(a: list[str], b: list[str], budget: list[int]) -> list[tuple[int, str, str]]:
    """``(index in a, old token, new token)`` of the one-token-for-one-token replacements of
    ``difflib.SequenceMatcher`` over ``a`` and ``b``; ``budget``: ``[work, tokens]`` left for this
    diff (see :data:`MAX_DIFF_WORK`, :data:`MAX_DIFF_TOKENS`), spent here; raises
    :class:`Declined` when either runs out."""
    budget[1] -= len(a) + len(b)
    if budget[1] < 0:
        raise Declined
    sm = _CountedMatcher(a, b, budget)
    return [
        (i1, a[i1], b[j1])
        for tag, i1, i2, j1, j2 in sm.get_opcodes()
        if tag == "replace" and i2 - i1 == 1 and j2 - j1 == 1
    ]


def _substitutions(diff: str) -> tuple[list[Substitution], set[str]]:
    """Substitutions of a hunk diff, longest spans first, and the set of added lines (stripped).
    Raises :class:`Declined` for a diff over the caps (see the module docstring).

    Per change group: one-identifier-for-one-identifier token replacements (``qty → quantity``)
    and, for paired lines, the whole differing span (``utcnow( → now(timezone.utc``); a token
    substitution already covered by a span one is dropped, and so is an ``old`` with two
    different replacements."""
    subs: dict[tuple[str, bool], str] = {}
    conflicting: set[tuple[str, bool]] = set()
    spans: list[Substitution] = []
    added_lines: set[str] = set()
    removed: list[str] = []
    added: list[str] = []
    if len(diff) > MAX_DIFF_CHARS:
        raise Declined

    budget = [MAX_DIFF_WORK, MAX_DIFF_TOKENS]

    def flush() -> None:
        if removed and added:
            a = _TOKEN.findall("\n".join(removed))
            b = _TOKEN.findall("\n".join(added))
            for i1, old, new in _token_replacements(a, b, budget):
                if not (_IDENT.fullmatch(old) and _IDENT.fullmatch(new)):
                    continue
                key = (old, i1 > 0 and a[i1 - 1] == ".")
                if subs.get(key, new) != new:
                    conflicting.add(key)
                subs[key] = new
            if len(removed) == len(added):
                for old_line, new_line in zip(removed, added, strict=True):
                    span = _span_substitution(old_line, new_line)
                    if span is not None and span not in spans:
                        spans.append(span)
        removed.clear()
        added.clear()

    for line in diff.splitlines():
        if line.startswith(("---", "+++", "@@")):
            flush()
        elif line.startswith("-"):
            removed.append(line[1:])
        elif line.startswith("+"):
            added.append(line[1:])
            added_lines.add(line[1:].strip())
        else:
            flush()
    flush()
    if len(spans) + len(subs) > MAX_SUBSTITUTIONS:
        raise Declined
    longest = max((len(t) for old, new, _ in spans for t in (old, new)), default=0)
    longest = max([longest, *(len(t) for (old, _), new in subs.items() for t in (old, new))])
    if longest > MAX_SUBSTITUTION_CHARS:
        raise Declined
    covered = {t for old, _, _ in spans for t in _TOKEN.findall(old)}
    singles = [
        (old, new, attr)
        for (old, attr), new in subs.items()
        if (old, attr) not in conflicting and old not in covered
    ]
    return sorted(spans, key=lambda s: -len(s[0])) + singles, added_lines


def propagate_rename(region: str, diff: str, cancel: CancelToken | None = None) -> str | None:
    """``region`` with the newest edit's substitutions propagated, or None if nothing changed
    (or an input is over the caps: :data:`MAX_REGION_CHARS`, :data:`MAX_REGION_LINES`, the
    diff's, or more than :data:`MAX_MATCHES` occurrences to look at)."""
    if len(region) > MAX_REGION_CHARS or region.count("\n") >= MAX_REGION_LINES:
        return None
    try:
        subs, added_lines = _substitutions(diff)
    except Declined:
        return None
    _check(cancel)
    if not subs:
        return None
    compiled = []
    for old, new, attr in subs:
        left = r"(?<!\w)" if re.match(r"\w", old[0]) else ""
        right = r"(?!\w)" if re.match(r"\w", old[-1]) else ""
        compiled.append((re.compile(left + re.escape(old) + right), new, attr, bool(right)))
    lines = region.splitlines(keepends=True)
    changed = False
    matches_left = [MAX_MATCHES]
    try:
        for i, line in enumerate(lines):
            if i % _CHECK_EVERY == 0:
                _check(cancel)
            if line.strip() in added_lines:
                continue
            new_line = line
            for pattern, new, attr, ends_with_word in compiled:

                def repl(
                    m: re.Match[str],
                    new: str = new,
                    attr: bool = attr,
                    text: str = new_line,
                    word: bool = ends_with_word,
                ) -> str:
                    matches_left[0] -= 1
                    if matches_left[0] < 0:
                        raise Declined
                    s, e = m.span()
                    is_attr = s > 0 and text[s - 1] == "."
                    is_kwarg = word and text[e : e + 1] == "=" and text[e + 1 : e + 2] != "="
                    return new if is_attr == attr and not is_kwarg else m.group(0)

                new_line = pattern.sub(repl, new_line)
            if new_line != line:
                lines[i] = new_line
                changed = True
    except Declined:
        return None
    return "".join(lines) if changed else None


def _fragment_at_end(text: str) -> str | None:
    """The identifier fragment ending ``text`` (``[^\\W\\d]\\w*`` up to the end), or None; a
    fragment over :data:`MAX_FRAGMENT_CHARS` is None too. Reads at most that many characters
    (a plain ``re.search`` anchored at the end is quadratic on a long word run)."""
    tail = text[-(MAX_FRAGMENT_CHARS + 1) :]
    m = _FRAGMENT_AT_END.search(tail)
    if m is None or m.end() - m.start() > MAX_FRAGMENT_CHARS:
        return None
    if m.start() == 0 and len(tail) < len(text) and re.match(r"\w", text[-len(tail) - 1]):
        return None  # the word run goes on before the window: longer than the cap
    return m.group(0)


def complete_identifier(
    text_before: str, text_after: str, corpus: list[str], cursor_pos: int, cancel: CancelToken | None = None
) -> str | None:
    """The suffix completing the identifier fragment that ends ``text_before``, or None.

    Candidates come from ``corpus[0]`` (the excerpt, where distance to ``cursor_pos`` ranks ties)
    and the other corpus texts (related files; counted, never nearest); at most
    :data:`MAX_CORPUS_CHARS` characters of them are read, in order.
    """
    if text_after[:1] and re.match(r"\w", text_after[:1]):
        return None
    prefix = _fragment_at_end(text_before)
    if prefix is None or len(prefix) < MIN_COMPLETION_PREFIX:
        return None
    counts: Counter[str] = Counter()
    nearest: dict[str, int] = {}
    as_is = 0  # the fragment used elsewhere as a complete identifier
    # the identifiers (``_IDENT`` matches) that start with the prefix, found by the regex engine
    # instead of a Python loop over every identifier: an identifier starts where a word run does,
    # after the run's leading digits
    starting = re.compile(r"(?<!\w)\d*(" + re.escape(prefix) + r"\w*)")
    left = MAX_CORPUS_CHARS
    for k, text in enumerate(corpus):
        if left <= 0:
            break
        if k % _CHECK_EVERY == 0:
            _check(cancel)
        text = text[:left]
        left -= len(text)
        for ident in starting.finditer(text):
            word = ident.group(1)
            if word == prefix:
                if not (k == 0 and ident.end(1) == cursor_pos):
                    as_is += 1
                continue
            counts[word] += 1
            d = abs(ident.start(1) - cursor_pos) if k == 0 else 1 << 30
            nearest[word] = min(nearest.get(word, d), d)
    if not counts:
        return None
    best = min(counts, key=lambda w: (-counts[w], nearest[w], w))
    if as_is >= counts[best]:
        return None  # "err" is more likely finished than the start of "error"
    return best[len(prefix) :]


class HeuristicProvider(Provider):
    """Rename propagation, then identifier completion, else no edit (see module docstring)."""

    name = "heuristic"

    def predict(
        self, request: Zeta2PromptInput, *, cancel: CancelToken | None = None, cache_key: str | None = None
    ) -> EditPrediction:
        from nextedit.context.excerpt_ranges import resolve_cursor_region
        from nextedit.text.patch import paths_match

        region = resolve_cursor_region(request, "zeta2")
        start, end = region.editable.start, region.editable.end
        data = request.excerpt_bytes()
        old_region = data[start:end].decode("utf-8")

        _check(cancel)
        events = [e for e in request.events if paths_match(e.path, request.cursor_path)]
        if events and not events[-1].predicted:
            renamed = propagate_rename(old_region, events[-1].diff, cancel)
            if renamed is not None:
                return EditPrediction(output=renamed, editable_range=(start, end), model_version=self.name)

        cursor = request.cursor_offset_in_excerpt
        if start <= cursor <= end:
            before = data[:cursor].decode("utf-8", errors="replace")
            after = data[cursor:].decode("utf-8", errors="replace")
            corpus = [request.cursor_excerpt]
            for f in request.related_files or []:
                corpus.extend(ex.text for ex in f.excerpts)
            _check(cancel)
            suffix = complete_identifier(before, after, corpus, len(before), cancel)
            if suffix:
                in_region = cursor - start
                raw = old_region.encode()
                out = (raw[:in_region] + suffix.encode() + raw[in_region:]).decode("utf-8")
                return EditPrediction(
                    output=out,
                    editable_range=(start, end),
                    cursor_offset=in_region + len(suffix.encode()),
                    model_version=self.name,
                )
        return EditPrediction.no_edit(model_version=self.name)
