"""§5.2 exact line match: multiset of changed lines of two unified diffs.

No diff algorithm: the ``+``/``-`` lines are read from the patches as written (prefix kept).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

_HEADER_PREFIXES = ("---", "+++", "@@", "diff ", "index ")


@dataclass(frozen=True)
class ClassificationMetrics:
    """TP/FP/FN counts with precision/recall/F1 (0 when a denominator is 0)."""

    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0

    @classmethod
    def from_counts(cls, expected: Counter[str], actual: Counter[str]) -> ClassificationMetrics:
        """Multiset match: per key ``tp += min``, excess in ``actual`` → FP, shortfall → FN."""
        tp = fp = fn = 0
        for key, e in expected.items():
            a = actual.get(key, 0)
            tp += min(e, a)
            fp += max(0, a - e)
            fn += max(0, e - a)
        fp += sum(a for key, a in actual.items() if key not in expected)
        return cls(tp, fp, fn)

    @classmethod
    def pooled(cls, items: Iterable[ClassificationMetrics]) -> ClassificationMetrics:
        """Micro pooling: sum the counts, then compute P/R/F1 from the sums."""
        tp = fp = fn = 0
        for m in items:
            tp, fp, fn = tp + m.true_positives, fp + m.false_positives, fn + m.false_negatives
        return cls(tp, fp, fn)

    @property
    def precision(self) -> float:
        d = self.true_positives + self.false_positives
        return self.true_positives / d if d else 0.0

    @property
    def recall(self) -> float:
        d = self.true_positives + self.false_negatives
        return self.true_positives / d if d else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def changed_lines(patch: str) -> Counter[str]:
    """Multiset of lines starting with ``+``/``-`` (prefix kept), file/hunk headers excluded."""
    out: Counter[str] = Counter()
    for line in patch.splitlines():
        if line.startswith(_HEADER_PREFIXES):
            continue
        if line.startswith(("+", "-")):
            out[line] += 1
    return out


def exact_lines_match(expected_patch: str, actual_patch: str) -> ClassificationMetrics:
    """Compare the changed lines of two patches (§5.2)."""
    return ClassificationMetrics.from_counts(changed_lines(expected_patch), changed_lines(actual_patch))
