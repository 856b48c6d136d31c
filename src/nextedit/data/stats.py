"""Dataset statistics: counts by category, language, edit size and history length, per split.

:func:`dataset_stats` computes them, :func:`write_report` writes ``stats.md``, ``stats.json``
and (with matplotlib installed) ``stats.png`` with one bar chart per dimension.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from nextedit.schema.example import Example

EDIT_BUCKETS = ((0, "0"), (2, "1-2"), (5, "3-5"), (10, "6-10"), (20, "11-20"), (50, "21-50"), (10**9, ">50"))
HISTORY_BUCKETS = ((0, "0"), (5, "1-5"), (20, "6-20"), (50, "21-50"), (100, "51-100"), (10**9, ">100"))
DIMENSIONS = ("category", "language", "edit size (changed lines)", "history length (changed lines)")


def _changed_lines(patch: str) -> int:
    return sum(
        1
        for line in patch.splitlines()
        if (line.startswith("+") and not line.startswith("+++"))
        or (line.startswith("-") and not line.startswith("---"))
    )


def _bucket(n: int, buckets) -> str:  # noqa: ANN001
    for hi, label in buckets:
        if n <= hi:
            return label
    return buckets[-1][1]


def language(path: str) -> str:
    suffix = PurePosixPath(path).suffix.lower().lstrip(".")
    return {"py": "python", "pyi": "python", "js": "javascript", "ts": "typescript", "rs": "rust"}.get(
        suffix, suffix or "none"
    )


def example_dims(ex: Example) -> dict[str, str]:
    kind = next((t.split(":", 1)[1] for t in ex.tags if t.startswith("split:")), "other")
    patch = ex.expected_patches[0] if ex.expected_patches else ""
    return {
        "category": kind,
        "language": language(ex.cursor_path),
        "edit size (changed lines)": _bucket(_changed_lines(patch), EDIT_BUCKETS),
        "history length (changed lines)": _bucket(_changed_lines(ex.edit_history), HISTORY_BUCKETS),
    }


def dataset_stats(splits: dict[str, Iterable[Example]]) -> dict:
    """``{"splits": {name: {"examples": n, dim: {value: count}}}, "total": {...}}``."""
    out: dict = {"splits": {}}
    total: dict[str, Counter] = {d: Counter() for d in DIMENSIONS}
    n_total = 0
    for name, exs in splits.items():
        counters: dict[str, Counter] = {d: Counter() for d in DIMENSIONS}
        n = 0
        for ex in exs:
            n += 1
            for d, v in example_dims(ex).items():
                counters[d][v] += 1
                total[d][v] += 1
        n_total += n
        out["splits"][name] = {"examples": n, **{d: dict(sorted(c.items())) for d, c in counters.items()}}
    out["total"] = {"examples": n_total, **{d: dict(sorted(c.items())) for d, c in total.items()}}
    return out


def _order(dim: str, values: Iterable[str]) -> list[str]:
    ref = {
        "edit size (changed lines)": [b[1] for b in EDIT_BUCKETS],
        "history length (changed lines)": [b[1] for b in HISTORY_BUCKETS],
    }.get(dim)
    values = list(values)
    if ref:
        return [v for v in ref if v in values]
    return sorted(values)


def write_report(
    stats: dict, out_dir: str | Path, title: str = "dataset", notes: list[str] | None = None
) -> Path:
    """Write ``stats.json``, ``stats.md`` and ``stats.png`` into ``out_dir``; returns the .md path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "stats.json").write_text(json.dumps(stats, indent=1) + "\n")
    names = list(stats["splits"])
    lines = [f"# {title}: statistics", ""]
    lines += [f"- {n}: {stats['splits'][n]['examples']} examples" for n in names]
    lines += [f"- total: {stats['total']['examples']} examples", ""]
    for note in notes or []:
        lines.append(f"- {note}")
    if notes:
        lines.append("")
    for dim in DIMENSIONS:
        values = _order(dim, stats["total"][dim])
        lines += [
            f"## {dim}",
            "",
            "| value | " + " | ".join(names) + " | total |",
            "|---" * (len(names) + 2) + "|",
        ]
        for v in values:
            row = [str(stats["splits"][n][dim].get(v, 0)) for n in names]
            lines.append(f"| {v} | " + " | ".join(row) + f" | {stats['total'][dim][v]} |")
        lines.append("")
    try:
        _plot(stats, out_dir / "stats.png", title)
        lines += ["![histograms](stats.png)", ""]
    except ImportError:
        lines += ["(matplotlib not installed: no picture)", ""]
    md = out_dir / "stats.md"
    md.write_text("\n".join(lines))
    return md


def _plot(stats: dict, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(stats["splits"])
    fig, axes = plt.subplots(2, 2, figsize=(13, 8))
    for ax, dim in zip(axes.flat, DIMENSIONS, strict=True):
        values = _order(dim, stats["total"][dim])[:20]
        width = 0.8 / max(1, len(names))
        for i, n in enumerate(names):
            total = max(1, stats["splits"][n]["examples"])
            ys = [100 * stats["splits"][n][dim].get(v, 0) / total for v in values]
            ax.bar([x + i * width for x in range(len(values))], ys, width=width, label=n)
        ax.set_xticks([x + width * (len(names) - 1) / 2 for x in range(len(values))])
        ax.set_xticklabels(values, rotation=30, ha="right", fontsize=8)
        ax.set_ylabel("% of split")
        ax.set_title(dim)
    axes.flat[0].legend()
    fig.suptitle(f"{title}: {stats['total']['examples']} examples")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
