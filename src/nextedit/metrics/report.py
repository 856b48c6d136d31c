"""§5.6 report: the per-prediction table, the TOTAL / AVERAGE row, summary lines and ``SummaryJson``.

``summarize(scores)`` takes the score dicts written by :func:`nextedit.metrics.score.score_prediction`
(one per prediction/repetition; each counts as one "example" in the averages) and returns every
§5.6 ``SummaryJson`` key. Scores marked ``excluded`` (no expected patch of the example applies)
enter no average: ``total_examples`` counts the scored ones, ``excluded_examples`` the others, and
:func:`build_report` names them in a warning.
Means are plain means over the scores that have the field; exact lines
are **pooled** (micro: TP/FP/FN summed, then P/R/F1); delta-chrF counts are summed and its P/R are
means. Fields nothing here can compute (editable-context coverage and jump locations need
cross-file retrieval scoring) are present as ``None``; ``qa_*`` are ``None`` unless the scores
carry ``qa_reverts_edits``/``qa_confidence`` (copied from ``example.qa`` by the score stage).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from nextedit.metrics.bootstrap import DEFAULT_RESAMPLES, DEFAULT_SEED, eval_intervals, is_shown
from nextedit.metrics.exact_lines import ClassificationMetrics

PERCENTILES = (25, 50, 75, 90, 99)
DEFAULT_ROWS = 20
COLUMNS = ("Example", "DeltaChrF", "Brace", "F1 %", "Revert %", "QaRev", "QaConf", "Cursor", "WrgER")
_UNSCORED_GROUPS = ("editable_context", "jump_location")


def _values(scores: Sequence[dict], key: str) -> list:
    return [s[key] for s in scores if s.get(key) is not None]


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def percentile(values: Sequence[float], p: float) -> float | None:
    """Zed's nearest-rank percentile: sorted ``values[round(p/100 · (n−1))]``."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[round(p / 100 * (len(ordered) - 1))]


def summarize(scores: Sequence[dict]) -> dict[str, Any]:
    """Every §5.6 ``SummaryJson`` key (plus token-change percentiles) from per-prediction scores.

    Scores with ``excluded`` are left out of every figure and counted in ``excluded_examples``."""
    excluded = sum(1 for s in scores if s.get("excluded"))
    scores = [s for s in scores if not s.get("excluded")]
    n = len(scores)
    lines = ClassificationMetrics.pooled(
        ClassificationMetrics(s.get("exact_lines_tp", 0), s.get("exact_lines_fp", 0), s.get("exact_lines_fn", 0))
        for s in scores
    )
    betas = _values(scores, "delta_chr_f_beta")
    cursor_eval = [s for s in scores if s.get("cursor_evaluated")]
    cursor_matches = sum(1 for s in cursor_eval if s.get("cursor_exact_match"))
    isolated = sum(1 for s in scores if s.get("has_isolated_whitespace_changes"))
    wrong_er = sum(1 for s in scores if s.get("wrong_editable_region"))
    qa_rev = [1.0 if v else 0.0 for v in _values(scores, "qa_reverts_edits")]
    ctx_bytes = _values(scores, "retrieved_context_bytes")
    changed = [s for s in scores if not s.get("empty_prediction", False)]

    out: dict[str, Any] = {
        "total_examples": n,
        "excluded_examples": excluded,
        "avg_delta_chr_f": _mean(_values(scores, "delta_chr_f")) or 0.0,
        "delta_chr_f_beta": betas[0] if betas else 0.5,
        "delta_chr_f_true_positives": sum(_values(scores, "delta_chr_f_true_positives")),
        "delta_chr_f_false_positives": sum(_values(scores, "delta_chr_f_false_positives")),
        "delta_chr_f_false_negatives": sum(_values(scores, "delta_chr_f_false_negatives")),
        "delta_chr_f_precision": _mean(_values(scores, "delta_chr_f_precision")) or 0.0,
        "delta_chr_f_recall": _mean(_values(scores, "delta_chr_f_recall")) or 0.0,
        "avg_braces_disbalance": _mean(_values(scores, "braces_disbalance")) or 0.0,
        "exact_lines_tp": lines.true_positives,
        "exact_lines_fp": lines.false_positives,
        "exact_lines_fn": lines.false_negatives,
        "exact_lines_precision": lines.precision,
        "exact_lines_recall": lines.recall,
        "exact_lines_f1": lines.f1,
        "avg_reversal_ratio": _mean(_values(scores, "reversal_ratio")) or 0.0,
        "qa_avg_reverts_edits": _mean(qa_rev),
        "qa_avg_confidence": _mean(_values(scores, "qa_confidence")),
        "cursor_exact_match_rate": cursor_matches / len(cursor_eval) if cursor_eval else None,
        "cursor_exact_matches": cursor_matches,
        "cursor_avg_distance": _mean([s["cursor_distance"] for s in cursor_eval if s.get("cursor_distance") is not None]),
        "cursor_total_evaluated": len(cursor_eval),
        "wrong_editable_region_rate": wrong_er / n if n else 0.0,
        "isolated_whitespace_rate": isolated / n if n else 0.0,
        "isolated_whitespace_count": isolated,
        "avg_kept_rate": _mean(_values(scores, "kept_rate")),
        "kept_rate_examples": len(_values(scores, "kept_rate")),
        "avg_recall_rate": _mean(_values(scores, "recall_rate")),
        "recall_rate_examples": len(_values(scores, "recall_rate")),
        "total_kept_chars": sum(_values(scores, "kept_chars")),
        "total_correctly_deleted_chars": sum(_values(scores, "correctly_deleted_chars")),
        "total_discarded_chars": sum(_values(scores, "discarded_chars")),
        "shown_examples": sum(1 for s in scores if is_shown(s)),
        "shown_rate": sum(1 for s in scores if is_shown(s)) / n if n else None,
        "avg_kept_rate_of_shown": _mean(
            [s["kept_rate"] for s in scores if is_shown(s) and s.get("kept_rate") is not None]
        ),
    }
    for group in _UNSCORED_GROUPS:
        for key in ("precision", "recall", "f1", "true_positives", "false_positives", "false_negatives"):
            out[f"{group}_{key}"] = None
    out["avg_retrieved_context_bytes"] = _mean(ctx_bytes)
    out["total_retrieved_context_bytes"] = sum(ctx_bytes) if ctx_bytes else None
    for key in ("inserted_tokens", "deleted_tokens"):
        vals = [s[key] for s in changed if s.get(key) is not None]
        out[f"{key}_percentiles"] = {f"p{p}": percentile(vals, p) for p in PERCENTILES}
    out["patch_apply_failures"] = sum(1 for s in scores if s.get("actual_patch_applied") is False)
    out["prediction_errors"] = sum(1 for s in scores if s.get("prediction_error"))
    return out


# ------------------------------------------------------------------------------------ table
def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}"


def _cursor_cell(s: dict) -> str:
    if not s.get("cursor_evaluated"):
        return "-"
    if s.get("cursor_exact_match"):
        return "✓"
    d = s.get("cursor_distance")
    return "✗" if d is None else f"±{d}"


def _f1(s: dict) -> float:
    return ClassificationMetrics(s.get("exact_lines_tp", 0), s.get("exact_lines_fp", 0), s.get("exact_lines_fn", 0)).f1


def _row(label: str, s: dict) -> list[str]:
    if s.get("excluded"):
        return [label, "excluded", *["-"] * (len(COLUMNS) - 2)]
    qa_rev = s.get("qa_reverts_edits")
    qa_conf = s.get("qa_confidence")
    return [
        label,
        f"{s.get('delta_chr_f', 0.0):.2f}",
        str(s.get("braces_disbalance", 0)),
        f"{100 * _f1(s):.1f}",
        f"{100 * s.get('reversal_ratio', 0.0):.1f}",
        "-" if qa_rev is None else ("✗" if qa_rev else "✓"),
        "-" if qa_conf is None else str(qa_conf),
        _cursor_cell(s),
        "✗" if s.get("wrong_editable_region") else "",
    ]


def _total_row(summary: dict[str, Any]) -> list[str]:
    return [
        "TOTAL / AVERAGE",
        f"{summary['avg_delta_chr_f']:.2f}",
        f"{summary['avg_braces_disbalance']:.2f}",
        f"{100 * summary['exact_lines_f1']:.1f}",
        f"{100 * summary['avg_reversal_ratio']:.1f}",
        _pct(summary["qa_avg_reverts_edits"]),
        "-" if summary["qa_avg_confidence"] is None else f"{summary['qa_avg_confidence']:.2f}",
        _pct(summary["cursor_exact_match_rate"]),
        _pct(summary["wrong_editable_region_rate"]),
    ]


@dataclass
class EvalReport:
    """The §5.6 report as plain strings (the CLI renders it): a table, summary lines, warnings."""

    title: str
    rows: list[list[str]]  # one per shown prediction, cells in ``COLUMNS`` order
    hidden_rows: int  # predictions not shown (first ``DEFAULT_ROWS`` unless verbose)
    total: list[str]  # the TOTAL / AVERAGE row
    lines: list[str]  # summary lines printed under the table
    summary: dict[str, Any]  # the SummaryJson
    warnings: list[str] = field(default_factory=list)
    columns: tuple[str, ...] = COLUMNS


def excluded_warning(labels: Sequence[str], total: int) -> str:
    """One line naming how many and which predictions were left out of the averages."""
    return (
        f"{len(labels)} of {total} predictions excluded from every average (no expected patch applies "
        f"to the excerpt; fix or drop these cases): {', '.join(labels)}"
    )


def build_report(
    rows: Sequence[tuple[str, dict]],
    verbose: bool = False,
    *,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> EvalReport:
    """``rows`` = (label, score) per prediction → the report (first 20 rows unless ``verbose``).

    ``summary`` gains ``excluded_example_names`` (the labels of the excluded predictions) and
    ``intervals``: delta chrF, kept rate, shown share and kept rate of shown, each
    ``{mean, lo, hi, n, confidence}`` from a seeded bootstrap over examples
    (:func:`nextedit.metrics.bootstrap.eval_intervals`; ``resamples`` 0 = no resampling)."""
    summary = summarize([s for _, s in rows])
    intervals = eval_intervals(rows, resamples=resamples, seed=seed)
    summary["intervals"] = {k: v.to_dict() for k, v in intervals.items()}
    summary["bootstrap"] = {"resamples": resamples, "seed": seed, "unit": "example"}
    excluded = [label for label, s in rows if s.get("excluded")]
    summary["excluded_example_names"] = excluded
    shown = rows if verbose else rows[:DEFAULT_ROWS]
    beta = summary["delta_chr_f_beta"]
    title = f"nextedit eval — {summary['total_examples']} predictions, delta chrF β={beta:g}"
    if excluded:
        title += f" ({len(excluded)} excluded)"
    return EvalReport(
        title=title,
        rows=[_row(label, s) for label, s in shown],
        hidden_rows=len(rows) - len(shown),
        total=_total_row(summary),
        lines=summary_lines(summary),
        summary=summary,
        warnings=[excluded_warning(excluded, len(rows))] if excluded else [],
    )


def summary_lines(summary: dict[str, Any]) -> list[str]:
    """The text lines printed under the table (§5.6)."""
    s = summary
    out = [
        f"Scored: {s['total_examples']} predictions; excluded from the averages: {s['excluded_examples']} "
        "(no expected patch applies)",
        f"Delta chrF (β={s['delta_chr_f_beta']:g}): {s['avg_delta_chr_f']:.2f}  TP {s['delta_chr_f_true_positives']}, "
        f"FP {s['delta_chr_f_false_positives']}, FN {s['delta_chr_f_false_negatives']}, "
        f"P {s['delta_chr_f_precision']:.3f}, R {s['delta_chr_f_recall']:.3f}",
        f"Exact lines: TP {s['exact_lines_tp']}, FP {s['exact_lines_fp']}, FN {s['exact_lines_fn']}, "
        f"P {s['exact_lines_precision']:.3f}, R {s['exact_lines_recall']:.3f}, F1 {s['exact_lines_f1']:.3f}",
    ]
    if s["cursor_total_evaluated"]:
        dist = "-" if s["cursor_avg_distance"] is None else f"{s['cursor_avg_distance']:.1f}"
        out.append(
            f"Cursor: {s['cursor_exact_matches']}/{s['cursor_total_evaluated']} exact "
            f"({_pct(s['cursor_exact_match_rate'])}%), avg distance {dist} bytes"
        )
    else:
        out.append("Cursor: no expected cursor positions")
    out.append(
        f"Isolated whitespace changes: {s['isolated_whitespace_count']}/{s['total_examples']} "
        f"({_pct(s['isolated_whitespace_rate'])}%)"
    )
    out.append(
        f"Kept rate: {_pct(s['avg_kept_rate'])}% avg ({s['kept_rate_examples']} evaluated, "
        f"{s['total_kept_chars']} kept chars, {s['total_correctly_deleted_chars']} correctly deleted chars, "
        f"{s['total_discarded_chars']} discarded chars)"
    )
    out.append(f"Recall rate: {_pct(s['avg_recall_rate'])}% avg ({s['recall_rate_examples']} evaluated)")
    out.extend(interval_lines(s))
    out.append(f"Reversal ratio: {_pct(s['avg_reversal_ratio'])}% avg")
    if s["avg_retrieved_context_bytes"] is not None:
        out.append(
            f"Retrieved context: {s['avg_retrieved_context_bytes']:.0f} bytes avg, "
            f"{s['total_retrieved_context_bytes']} total"
        )
    for key in ("inserted_tokens", "deleted_tokens"):
        pct = s[f"{key}_percentiles"]
        if pct["p50"] is not None:
            out.append(key.replace("_", " ").capitalize() + ": " + ", ".join(f"{k} {v}" for k, v in pct.items()))
    if s["patch_apply_failures"] or s["prediction_errors"]:
        out.append(f"Prediction errors: {s['prediction_errors']}, patches that did not apply: {s['patch_apply_failures']}")
    return out


def _interval(iv: dict | None, scale: float, unit: str = "") -> str:
    if not iv or iv.get("mean") is None:
        return "-"
    return f"{iv['mean'] * scale:.2f}{unit} [{iv['lo'] * scale:.2f}, {iv['hi'] * scale:.2f}]"


def interval_lines(summary: dict[str, Any]) -> list[str]:
    """The bootstrap lines of the summary: delta chrF and kept rate with 95 % intervals, then the
    user's view (how often an edit was shown, and how much of what was shown is kept)."""
    iv = summary.get("intervals")
    if not iv:
        return []
    boot = summary.get("bootstrap", {})
    n = (iv.get("delta_chr_f") or {}).get("n", 0)
    return [
        f"95% intervals (bootstrap over {n} examples, {boot.get('resamples')} resamples, seed {boot.get('seed')}): "
        f"delta chrF {_interval(iv.get('delta_chr_f'), 1)}, kept rate {_interval(iv.get('kept_rate'), 100, '%')}",
        f"Shown: {summary.get('shown_examples', 0)}/{summary['total_examples']} "
        f"({_interval(iv.get('shown'), 100, '%')}); kept rate of shown: "
        f"{_interval(iv.get('kept_rate_of_shown'), 100, '%')} ({(iv.get('kept_rate_of_shown') or {}).get('n', 0)} examples)",
    ]
