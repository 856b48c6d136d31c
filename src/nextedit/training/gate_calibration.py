"""Calibrate a model's confidence gate (see :mod:`nextedit.model.serving`) on held-out examples.

Input: examples whose first prediction came from the model **without** a gate (its generation
stats carry ``min_logprob`` / ``mean_logprob``). For every candidate threshold, each edit below it
is replaced by "no edit" and the set is re-scored; the table shows what a gate would do, and the
best threshold (highest delta chrF, then kept rate) is what ``nextedit bench gate --write`` stores.
Calibrate on the validation split: choosing it on the test split would flatter the test numbers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from nextedit.metrics.report import summarize
from nextedit.metrics.score import score_example
from nextedit.model.serving import ConfidenceGate
from nextedit.schema.example import Example, Prediction

MEASURES = ("min_logprob", "mean_logprob", "first_logprob")


@dataclass
class GateSample:
    """One example: the model's score, the no-edit score, and its confidence statistics."""

    with_edit: dict
    without_edit: dict
    has_edit: bool
    stats: dict


def gate_samples(examples: Iterable[Example]) -> list[GateSample]:
    out: list[GateSample] = []
    for ex in examples:
        if not ex.predictions:
            continue
        pred = ex.predictions[0]
        stats = (pred.model_extra or {}).get("stats") or {}
        if stats.get("gated"):
            raise ValueError(
                f"{ex.name or ex.cursor_path}: prediction was gated; calibrate on ungated predictions"
            )
        scored = score_example(ex.model_copy(update={"predictions": [pred]}))[0]
        silent = ex.model_copy(
            update={"predictions": [Prediction(actual_patch="", actual_output="", provider="none")]}
        )
        out.append(
            GateSample(
                with_edit=scored,
                without_edit=score_example(silent)[0],
                has_edit=bool((pred.actual_patch or "").strip()),
                stats=stats,
            )
        )
    return out


def evaluate_gate(samples: list[GateSample], gate: ConfidenceGate | None) -> dict:
    """Summary (§5.6 keys) of the examples as a gated model would have answered them, plus
    ``shown`` = fraction of examples that still get an edit."""
    scores = []
    shown = 0
    for s in samples:
        keep = s.has_edit and (gate is None or gate.passes(s.stats))
        shown += keep
        scores.append(s.with_edit if keep or not s.has_edit else s.without_edit)
    summary = summarize(scores)
    summary["shown"] = shown / len(samples) if samples else 0.0
    return summary


def candidate_thresholds(samples: list[GateSample], measure: str, n: int = 12) -> list[float]:
    """Quantiles of ``measure`` over the examples with an edit (each one a possible cut)."""
    values = sorted(float(s.stats[measure]) for s in samples if s.has_edit and measure in s.stats)
    if not values:
        return []
    picks = {values[min(len(values) - 1, round(q * (len(values) - 1) / n))] for q in range(n + 1)}
    return sorted(picks)


def calibrate(
    samples: list[GateSample], measures: tuple[str, ...] = MEASURES
) -> tuple[list[dict], ConfidenceGate | None]:
    """Rows ``{measure, threshold, shown, delta_chrf, kept_rate, reversal, f1}`` (first row: no
    gate) and the best gate (None when no gate beats the ungated model)."""

    def row(measure: str, threshold: float | None, summary: dict) -> dict:
        return {
            "measure": measure,
            "threshold": threshold,
            "shown": summary["shown"],
            "delta_chrf": summary["avg_delta_chr_f"],
            "kept_rate": summary["avg_kept_rate"] or 0.0,
            "reversal": summary["avg_reversal_ratio"],
            "f1": summary["exact_lines_f1"],
        }

    rows = [row("none (ungated)", None, evaluate_gate(samples, None))]
    best_key = (rows[0]["delta_chrf"], rows[0]["kept_rate"])
    best: ConfidenceGate | None = None
    for measure in measures:
        for t in candidate_thresholds(samples, measure):
            gate = ConfidenceGate(measure, t)
            r = row(measure, t, evaluate_gate(samples, gate))
            rows.append(r)
            key = (r["delta_chrf"], r["kept_rate"])
            if key > best_key:
                best_key, best = key, gate
    return rows, best
