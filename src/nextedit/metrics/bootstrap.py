"""Bootstrap confidence intervals over examples (percentile method, seeded, pure Python).

An eval figure is a mean over examples; :func:`bootstrap_mean` resamples the *examples* with
replacement (``resamples`` times, ``random.Random(seed)``) and reports the 2.5th and 97.5th
percentiles of the resampled means (for ``confidence=0.95``). When an example has several values
(repetitions), it is resampled as a whole: the statistic is the mean over every value of the drawn
examples (a cluster bootstrap), so repetitions never narrow the interval by themselves.

:func:`bootstrap_paired` does the same for differences between two runs on the same examples
(``b − a`` per example): the honest way to ask whether B beats A.

Same values + seed + resamples → the same interval on every platform.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

DEFAULT_RESAMPLES = 1000
DEFAULT_SEED = 0


@dataclass(frozen=True)
class Interval:
    """A mean and its bootstrap interval ``[lo, hi]``; ``n`` = examples (clusters) it is over.
    All None when there are no values."""

    mean: float | None
    lo: float | None
    hi: float | None
    n: int
    confidence: float = 0.95

    def to_dict(self) -> dict:
        return asdict(self)

    def excludes_zero(self) -> bool:
        """The interval lies entirely above or entirely below 0."""
        return self.lo is not None and self.hi is not None and (self.lo > 0 or self.hi < 0)

    def format(self, scale: float = 1.0, digits: int = 2) -> str:
        """``mean [lo, hi]`` with every figure multiplied by ``scale`` (100 for a percentage)."""
        if self.mean is None or self.lo is None or self.hi is None:
            return "-"
        return f"{self.mean * scale:.{digits}f} [{self.lo * scale:.{digits}f}, {self.hi * scale:.{digits}f}]"


def _quantile(ordered: Sequence[float], q: float) -> float:
    """Linear-interpolated quantile of sorted values (``q`` in 0..1)."""
    pos = q * (len(ordered) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def bootstrap_clusters(
    clusters: Sequence[Sequence[float]],
    *,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    confidence: float = 0.95,
) -> Interval:
    """Mean of all values and its interval, resampling whole clusters (one per example); empty
    clusters are ignored."""
    groups = [(sum(c), len(c)) for c in clusters if len(c)]
    if not groups:
        return Interval(None, None, None, 0, confidence)
    mean = sum(s for s, _ in groups) / sum(n for _, n in groups)
    if len(groups) == 1 or resamples <= 0:
        return Interval(mean, mean, mean, len(groups), confidence)
    rng = random.Random(seed)
    k = len(groups)
    means = []
    for _ in range(resamples):
        total = count = 0.0
        for _ in range(k):
            s, n = groups[rng.randrange(k)]
            total += s
            count += n
        means.append(total / count)
    means.sort()
    tail = (1 - confidence) / 2
    return Interval(mean, _quantile(means, tail), _quantile(means, 1 - tail), k, confidence)


def bootstrap_mean(
    values: Sequence[float] | Mapping[str, Sequence[float]],
    *,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    confidence: float = 0.95,
) -> Interval:
    """The mean and its interval: ``values`` one per example, or example → its values."""
    clusters = list(values.values()) if isinstance(values, Mapping) else [[v] for v in values]
    return bootstrap_clusters(clusters, resamples=resamples, seed=seed, confidence=confidence)


def bootstrap_paired(
    a: Mapping[str, float],
    b: Mapping[str, float],
    *,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    confidence: float = 0.95,
) -> Interval:
    """Mean of ``b[k] − a[k]`` over the keys both have, with its interval (paired bootstrap)."""
    diffs = [b[k] - a[k] for k in sorted(a) if k in b]
    return bootstrap_mean(diffs, resamples=resamples, seed=seed, confidence=confidence)


# ------------------------------------------------------------------------- eval figures

#: The per-example figures an eval reports with intervals (means over examples, 0..1 except delta chrF).
EVAL_FIGURES = ("delta_chr_f", "kept_rate", "shown", "kept_rate_of_shown")


def example_of(label: str) -> str:
    """The example a report row belongs to: ``name#2`` (repetition 2) → ``name``."""
    head, sep, tail = label.rpartition("#")
    return head if sep and tail.isdigit() else label


def is_shown(score: dict) -> bool:
    """The provider showed an edit: the prediction changes the excerpt."""
    return not score.get("empty_prediction", False)


def figure_values(score: dict) -> dict[str, float]:
    """The :data:`EVAL_FIGURES` one (non-excluded) score contributes: ``shown`` is 1 or 0,
    ``kept_rate_of_shown`` only when shown; a figure the score lacks is absent."""
    out: dict[str, float] = {"shown": 1.0 if is_shown(score) else 0.0}
    for key in ("delta_chr_f", "kept_rate"):
        if score.get(key) is not None:
            out[key] = float(score[key])
    if is_shown(score) and "kept_rate" in out:
        out["kept_rate_of_shown"] = out["kept_rate"]
    return out


def eval_intervals(
    rows: Sequence[tuple[str, dict]],
    *,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    confidence: float = 0.95,
) -> dict[str, Interval]:
    """Each of :data:`EVAL_FIGURES` with its interval over the examples of ``rows`` (label, score);
    excluded scores are left out, as in every average."""
    clusters: dict[str, dict[str, list[float]]] = {f: {} for f in EVAL_FIGURES}
    for label, score in rows:
        if score.get("excluded"):
            continue
        for figure, value in figure_values(score).items():
            clusters[figure].setdefault(example_of(label), []).append(value)
    return {
        f: bootstrap_mean(clusters[f], resamples=resamples, seed=seed, confidence=confidence)
        for f in EVAL_FIGURES
    }
