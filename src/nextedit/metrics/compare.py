"""`nextedit compare A B`: paired differences between two scored eval runs on the same examples.

Predictions are paired by example name and repetition index (``score[i]`` of the same example in
both files); a pair where either side is excluded (no expected patch applies) or unscored is left
out and counted. For each group — ``all``, then every ``kind:<edit kind>`` and ``lang:<language>``
tag of the example (taken from A), as the real-commit builder writes them — and each figure of
:data:`FIGURES` the comparison gives A's mean, B's mean and the mean of ``B − A`` with a seeded
paired bootstrap interval over examples (:func:`nextedit.metrics.bootstrap.bootstrap_clusters`;
the repetitions of one example are resampled together). An interval that excludes 0 is a
difference the examples support.

:func:`write_plot` draws the differences with their intervals (one panel per figure, one row per
group) as a PNG (matplotlib).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from nextedit.metrics.bootstrap import (
    DEFAULT_RESAMPLES,
    DEFAULT_SEED,
    Interval,
    bootstrap_clusters,
    figure_values,
)
from nextedit.schema.example import Example

#: Paired figures: delta chrF (0–100), kept rate (0–1), shown (share of predictions showing an edit).
FIGURES = ("delta_chr_f", "kept_rate", "shown")
GROUP_PREFIXES = ("kind:", "lang:")
_SCALE = {"delta_chr_f": 1.0, "kept_rate": 100.0, "shown": 100.0}


@dataclass(frozen=True)
class Pair:
    """One prediction scored in both runs: ``example`` name, repetition ``index``, the example's
    groups, and the :func:`~nextedit.metrics.bootstrap.figure_values` of each side."""

    example: str
    index: int
    groups: tuple[str, ...]
    a: dict[str, float]
    b: dict[str, float]


@dataclass(frozen=True)
class CompareRow:
    """One group × figure: means of A and B over the paired predictions, and ``diff`` = B − A."""

    group: str
    figure: str
    a: float | None
    b: float | None
    diff: Interval

    def to_dict(self) -> dict:
        return {**asdict(self), "diff": self.diff.to_dict()}


@dataclass
class Comparison:
    """All rows (``all`` first, then kinds, then languages; :data:`FIGURES` order inside a group),
    and what could not be paired."""

    rows: list[CompareRow]
    pairs: int
    only_in_a: list[str] = field(default_factory=list)  # examples (or predictions) B lacks
    only_in_b: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)  # excluded or unscored on either side
    resamples: int = DEFAULT_RESAMPLES
    seed: int = DEFAULT_SEED

    def to_dict(self) -> dict:
        return {**asdict(self), "rows": [r.to_dict() for r in self.rows]}

    def groups(self) -> list[str]:
        return list(dict.fromkeys(r.group for r in self.rows))


def _groups(example: Example) -> tuple[str, ...]:
    return tuple(sorted({t for t in example.tags if t.startswith(GROUP_PREFIXES)}))


def pair_predictions(a: Iterable[Example], b: Iterable[Example]) -> tuple[list[Pair], Comparison]:
    """The pairs (in A's order) and an empty :class:`Comparison` carrying what was not paired."""
    b_by_name = {ex.name: ex for ex in b}
    a_names: set[str] = set()
    pairs: list[Pair] = []
    report = Comparison(rows=[], pairs=0)
    for ex_a in a:
        a_names.add(ex_a.name)
        ex_b = b_by_name.get(ex_a.name)
        if ex_b is None:
            report.only_in_a.append(ex_a.name)
            continue
        n = max(len(ex_a.score), len(ex_b.score))
        for i in range(n):
            label = ex_a.name if n == 1 else f"{ex_a.name}#{i}"
            if i >= len(ex_a.score) or i >= len(ex_b.score):
                (report.only_in_a if i < len(ex_a.score) else report.only_in_b).append(label)
                continue
            sa, sb = ex_a.score[i], ex_b.score[i]
            if sa.get("excluded") or sb.get("excluded"):
                report.excluded.append(label)
                continue
            pairs.append(Pair(ex_a.name, i, _groups(ex_a), figure_values(sa), figure_values(sb)))
        if not ex_a.score and not ex_b.score:
            report.excluded.append(ex_a.name)
    report.only_in_b.extend(name for name in b_by_name if name not in a_names)
    report.pairs = len(pairs)
    return pairs, report


def compare_runs(
    a: Iterable[Example],
    b: Iterable[Example],
    *,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> Comparison:
    """Paired comparison of two scored runs (see module doc)."""
    pairs, report = pair_predictions(a, b)
    report.resamples, report.seed = resamples, seed
    names = [
        "all",
        *sorted({g for p in pairs for g in p.groups}, key=lambda g: (GROUP_PREFIXES.index(g[:5]), g)),
    ]
    for group in names:
        members = [p for p in pairs if group == "all" or group in p.groups]
        for figure in FIGURES:
            both = [p for p in members if figure in p.a and figure in p.b]
            clusters: dict[str, list[float]] = {}
            for p in both:
                clusters.setdefault(p.example, []).append(p.b[figure] - p.a[figure])
            diff = bootstrap_clusters(list(clusters.values()), resamples=resamples, seed=seed)
            mean_a = sum(p.a[figure] for p in both) / len(both) if both else None
            mean_b = sum(p.b[figure] for p in both) / len(both) if both else None
            report.rows.append(CompareRow(group, figure, mean_a, mean_b, diff))
    return report


def scale(figure: str) -> float:
    """The factor figures are shown with: 1 for delta chrF (already 0–100), 100 for rates."""
    return _SCALE.get(figure, 1.0)


def write_plot(comparison: Comparison, path: str | Path, labels: tuple[str, str] = ("A", "B")) -> Path:
    """A PNG: one panel per figure, one horizontal bar per group = mean of B − A with its 95 %
    interval as an error bar (green when the interval is above 0, red below, grey across).
    Raises ImportError when matplotlib is not installed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = comparison.groups()
    fig, axes = plt.subplots(
        1, len(FIGURES), figsize=(4.2 * len(FIGURES), 0.9 + 0.38 * len(groups)), sharey=True, squeeze=False
    )
    for ax, figure in zip(axes[0], FIGURES, strict=True):
        rows = {r.group: r for r in comparison.rows if r.figure == figure}
        k = scale(figure)
        ys, means, errs, colors = [], [], [[], []], []
        for y, g in enumerate(groups):
            d = rows[g].diff
            if d.mean is None:
                continue
            ys.append(y)
            means.append(d.mean * k)
            errs[0].append((d.mean - d.lo) * k)
            errs[1].append((d.hi - d.mean) * k)
            colors.append("tab:green" if d.lo > 0 else "tab:red" if d.hi < 0 else "tab:grey")
        ax.barh(ys, means, xerr=errs, color=colors, capsize=3)
        ax.axvline(0, color="black", linewidth=0.8)
        unit = "" if figure == "delta_chr_f" else " (% points)"
        ax.set_title(f"{figure}{unit}", fontsize=9)
        ax.set_yticks(range(len(groups)))
        ax.set_yticklabels([f"{g} (n={rows[g].diff.n})" for g in groups], fontsize=8)
        ax.invert_yaxis()
    fig.suptitle(
        f"{labels[1]} − {labels[0]}: paired differences, 95% bootstrap intervals ({comparison.pairs} predictions)",
        fontsize=10,
    )
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
