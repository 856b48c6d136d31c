"""§5.1 delta chrF: character n-gram F-score of the *change* a prediction makes vs the expected change.

No diff algorithm is involved: each side's changed region is found by stripping the common
prefix and (non-overlapping) common suffix of the whitespace-normalised texts, then padded with
5 characters of context; n-gram count *deltas* (after − before) are compared for n = 1..6.
Deleted n-grams become positive ``"¬g"`` counts. Precision and recall are macro-averaged over
the orders before the F-score (not chrF++'s per-order F).

Variants: current Zed ``beta=0.5, whitespace="collapse"`` (default); legacy (2025 – early 2026)
``beta=2.0, whitespace="ignore"``. Units: Unicode characters (Python ``str`` elements).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Literal

Whitespace = Literal["collapse", "ignore"]

MAX_ORDER = 6
CONTEXT_CHARS = MAX_ORDER - 1
DELETED = "¬"
_ANY_SPACE = re.compile(r"\s+")
_SPACES = re.compile(r"[^\S\n]+")  # runs of whitespace other than \n
_NEWLINES = re.compile(r"\n+")


@dataclass(frozen=True)
class DeltaChrF:
    """Result of :func:`delta_chr_f`. ``score`` is 0–100; ``precision``/``recall`` are 0–1 macro
    averages over n-gram orders; the counts are summed over orders."""

    score: float
    precision: float
    recall: float
    true_positives: int
    false_positives: int
    false_negatives: int
    beta: float

    def to_dict(self) -> dict:
        return asdict(self)


def normalize_whitespace(text: str, mode: Whitespace) -> str:
    """``collapse``: each run of non-newline whitespace → one space, each run of ``\\n`` → one
    ``\\n`` (space and newline runs alternate: ``" \\n "`` stays). ``ignore``: drop all whitespace."""
    if mode == "ignore":
        return _ANY_SPACE.sub("", text)
    if mode != "collapse":
        raise ValueError(f"unknown whitespace mode {mode!r} (expected 'collapse' or 'ignore')")
    return _NEWLINES.sub("\n", _SPACES.sub(" ", text))


def changed_region(before: str, after: str, context: int = CONTEXT_CHARS) -> tuple[str, str]:
    """The differing middle of ``before``/``after`` padded with ``context`` chars on each side.

    Common prefix first, then the common suffix of what remains (so they never overlap).
    Returns ``("", "")`` when the texts are equal.
    """
    if before == after:
        return "", ""
    limit = min(len(before), len(after))
    p = 0
    while p < limit and before[p] == after[p]:
        p += 1
    s = 0
    while s < limit - p and before[-1 - s] == after[-1 - s]:
        s += 1
    start = max(0, p - context)
    return before[start : min(len(before), len(before) - s + context)], after[
        start : min(len(after), len(after) - s + context)
    ]


def _ngrams(text: str, n: int) -> Counter[str]:
    return Counter(text[i : i + n] for i in range(len(text) - n + 1))


def _signed_delta(before: str, after: str, n: int) -> dict[str, int] | None:
    """Positive counts of added n-grams and of ``"¬"+g`` removed n-grams; ``None`` if neither
    text has any n-gram of this order (the order is then "empty")."""
    b, a = _ngrams(before, n), _ngrams(after, n)
    if not a and not b:
        return None
    out: dict[str, int] = {}
    for g in a.keys() | b.keys():
        v = a[g] - b[g]
        if v > 0:
            out[g] = v
        elif v < 0:
            out[DELETED + g] = -v
    return out


def delta_chr_f(
    original: str, expected: str, actual: str, beta: float = 0.5, whitespace: Whitespace = "collapse"
) -> DeltaChrF:
    """Score how well ``original → actual`` reproduces the change ``original → expected`` (§5.1)."""
    if original == expected == actual:
        return DeltaChrF(100.0, 1.0, 1.0, 0, 0, 0, beta)
    o, e, a = (normalize_whitespace(t, whitespace) for t in (original, expected, actual))
    o_e, e_r = changed_region(o, e)
    o_a, a_r = changed_region(o, a)
    p_sum = r_sum = 0.0
    tp_total = fp_total = fn_total = 0
    for n in range(1, MAX_ORDER + 1):
        d_e = _signed_delta(o_e, e_r, n)
        d_a = _signed_delta(o_a, a_r, n)
        if d_e is None and d_a is None:
            p_sum += 1.0
            r_sum += 1.0
            continue
        d_e, d_a = d_e or {}, d_a or {}
        tp = fp = fn = 0
        for g in d_e.keys() | d_a.keys():
            ce, ca = d_e.get(g, 0), d_a.get(g, 0)
            tp += min(ce, ca)
            if ca > ce:
                fp += ca - ce
            else:
                fn += ce - ca
        p_sum += tp / (tp + fp) if tp + fp else 0.0
        r_sum += tp / (tp + fn) if tp + fn else 0.0
        tp_total, fp_total, fn_total = tp_total + tp, fp_total + fp, fn_total + fn
    p, r = p_sum / MAX_ORDER, r_sum / MAX_ORDER
    b2 = beta * beta
    score = 0.0 if p + r == 0 else (1 + b2) * p * r / (b2 * p + r) * 100.0
    return DeltaChrF(score, p, r, tp_total, fp_total, fn_total, beta)
