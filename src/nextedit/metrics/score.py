"""§5 ``score_prediction``: every offline metric of one prediction against an example.

Texts compared: ``original`` = ``prompt_inputs.cursor_excerpt`` when present, else the excerpt of
``cursor_position`` (marker removed; its first row inferred from the edit history when possible); ``expected``/``actual`` = the patch applied to it with
:func:`nextedit.text.patch.apply_patch_with_cursor` (content-located hunks, ``start_row`` =
``excerpt_start_row``). A prediction whose patch does not apply scores as "no edit" (actual =
original) and is marked ``actual_patch_applied: false``. No expected patch = expected "no edit".

An example **with** expected patches none of which applies has no known answer: its scores carry
``excluded`` (the reason, naming the patch errors) and no metric fields, and
:func:`nextedit.metrics.report.summarize` leaves them out of every average and counts them
(scoring them against "no edit" would give the ``none`` provider 100 on a broken test).

The score is computed against **each** expected patch and the best is kept by
``(delta_chr_f, exact-lines F1)``; ``expected_patch_index`` says which one won.
Cursor: the expected cursor is the inline/legacy marker of the expected patch, the actual cursor the
inline marker of the actual patch (what :class:`nextedit.predict.stage.PredictStage` writes); both
are compared as byte offsets in their resulting texts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nextedit.metrics.delta_chrf import Whitespace, delta_chr_f
from nextedit.metrics.exact_lines import ClassificationMetrics, changed_lines
from nextedit.metrics.kept_rate import compute_kept_rate
from nextedit.metrics.patch_checks import (
    braces_disbalance,
    cursor_match,
    has_isolated_whitespace_changes,
    is_wrong_editable_region,
    token_changes,
)
from nextedit.metrics.reversal import (
    compute_reversal_ratio,
    events_from_edit_history,
    events_from_prompt_inputs,
)
from nextedit.pipeline.stage import Stage
from nextedit.schema.example import Example, Prediction
from nextedit.text.diff import CURSOR_MARKER
from nextedit.text.patch import PatchError, apply_patch_with_cursor, strip_cursor


@dataclass
class ScoringContext:
    """What every prediction of one example is compared against (computed once per example)."""

    original: str
    cursor_offset: int | None  # bytes in ``original``
    excerpt_start_row: int | None
    cursor_path: str
    expected: list[tuple[int, str, str, int | None]]  # (index, clean patch, text, cursor bytes)
    expected_errors: list[str]
    retrieved_context_bytes: int | None
    excluded: str | None = None  # why this example cannot be scored (no expected patch applies)


def original_excerpt(example: Example) -> tuple[str, int | None, int | None]:
    """``(excerpt, cursor byte offset, excerpt_start_row)`` of an example (§5 "what text is compared"):
    those of the request the prediction answered
    (:func:`nextedit.context.example_request.example_request`), so patch rows agree between
    predict and score."""
    from nextedit.context.example_request import example_request

    request = example_request(example)
    return request.cursor_excerpt, request.cursor_offset_in_excerpt, request.excerpt_start_row


def _retrieved_bytes(example: Example) -> int | None:
    pi = example.prompt_inputs or {}
    files = pi.get("related_files")
    if files is None:
        return None
    return sum(len((ex.get("text") or "").encode()) for f in files for ex in (f.get("excerpts") or []))


def scoring_context(example: Example) -> ScoringContext:
    original, cursor, start_row = original_excerpt(example)
    expected: list[tuple[int, str, str, int | None]] = []
    errors: list[str] = []
    for i, patch in enumerate(example.expected_patches):
        try:
            text, cur = apply_patch_with_cursor(original, patch, example.cursor_path or None, start_row=start_row or 0)
        except PatchError as e:
            errors.append(f"expected patch {i}: {e}")
            continue
        expected.append((i, strip_cursor(patch)[0], text, cur))
    if not example.expected_patches:
        expected.append((-1, "", original, None))
    excluded = None
    if not expected:
        excluded = "no expected patch applies to the excerpt (" + "; ".join(errors) + ")"
    return ScoringContext(
        original, cursor, start_row, example.cursor_path, expected, errors, _retrieved_bytes(example),
        excluded,
    )


def _exact_line_counts(patch_with_markers: str, clean_patch: str):
    """Changed lines of ``clean_patch``; when a cursor marker was stripped, a ``-x``/``+x`` pair that
    only existed to carry the marker cancels out."""
    counts = changed_lines(clean_patch)
    if CURSOR_MARKER in patch_with_markers:
        for key in list(counts):
            if key.startswith("-") and ("+" + key[1:]) in counts:
                n = min(counts[key], counts["+" + key[1:]])
                counts[key] -= n
                counts["+" + key[1:]] -= n
        counts = +counts
    return counts


def score_prediction(
    example: Example,
    prediction: Prediction,
    *,
    beta: float = 0.5,
    whitespace: Whitespace = "collapse",
    context: ScoringContext | None = None,
) -> dict[str, Any]:
    """All §5 metrics of ``prediction`` vs the best-matching expected patch (a JSON-ready dict).

    When no expected patch of the example applies, the dict has ``excluded`` (the reason),
    ``expected_patch_errors`` and the prediction's own fields, but no metric to average."""
    ctx = context or scoring_context(example)
    original = ctx.original
    raw_patch = prediction.actual_patch or ""
    actual_clean = ""
    applied: bool | None = None
    apply_error = None
    actual, actual_cursor = original, None
    if raw_patch.strip():
        try:
            actual_clean, _ = strip_cursor(raw_patch)
            actual, actual_cursor = apply_patch_with_cursor(
                original, raw_patch, ctx.cursor_path or None, start_row=ctx.excerpt_start_row or 0
            )
            applied = True
        except (PatchError, ValueError) as e:
            applied, apply_error = False, f"{type(e).__name__}: {e}"
            actual_clean, actual, actual_cursor = "", original, None

    cursor_row = None
    if ctx.cursor_offset is not None:
        cursor_row = (ctx.excerpt_start_row or 0) + original.encode()[: ctx.cursor_offset].count(b"\n")
    events = (
        events_from_prompt_inputs(example.prompt_inputs)
        if example.prompt_inputs and example.prompt_inputs.get("events") is not None
        else events_from_edit_history(example.edit_history)
    )
    inserted, deleted = token_changes(actual_clean)
    common: dict[str, Any] = {
        "braces_disbalance": braces_disbalance(original, actual),
        "reversal_ratio": compute_reversal_ratio(
            events, ctx.cursor_path, original, actual, ctx.excerpt_start_row
        ),
        "wrong_editable_region": is_wrong_editable_region(actual_clean),
        "has_isolated_whitespace_changes": has_isolated_whitespace_changes(actual_clean, cursor_row),
        "inserted_tokens": inserted,
        "deleted_tokens": deleted,
        "empty_prediction": actual == original,
        "actual_patch_applied": applied,
        "actual_patch_error": apply_error,
        "prediction_error": prediction.error,
        "cumulative_logprob": prediction.cumulative_logprob,
        "avg_logprob": prediction.avg_logprob,
        "retrieved_context_bytes": ctx.retrieved_context_bytes,
    }
    if ctx.expected_errors:
        common["expected_patch_errors"] = ctx.expected_errors
    if ctx.excluded is not None:
        return {"excluded": ctx.excluded, **common}
    candidates = ctx.expected
    actual_lines = _exact_line_counts(raw_patch, actual_clean)

    best: dict[str, Any] | None = None
    best_key: tuple[float, float] | None = None
    for index, exp_clean, exp_text, exp_cursor in candidates:
        chrf = delta_chr_f(original, exp_text, actual, beta=beta, whitespace=whitespace)
        exp_patch = example.expected_patches[index] if index >= 0 else ""
        lines = ClassificationMetrics.from_counts(_exact_line_counts(exp_patch, exp_clean), actual_lines)
        kept = compute_kept_rate(original, actual, exp_text)
        exact, distance = cursor_match(exp_cursor, actual_cursor)
        s = {
            "delta_chr_f": chrf.score,
            "delta_chr_f_true_positives": chrf.true_positives,
            "delta_chr_f_false_positives": chrf.false_positives,
            "delta_chr_f_false_negatives": chrf.false_negatives,
            "delta_chr_f_precision": chrf.precision,
            "delta_chr_f_recall": chrf.recall,
            "delta_chr_f_beta": chrf.beta,
            "exact_lines_tp": lines.true_positives,
            "exact_lines_fp": lines.false_positives,
            "exact_lines_fn": lines.false_negatives,
            "exact_lines_f1": lines.f1,
            "kept_rate": kept.kept_rate,
            "recall_rate": kept.recall_rate,
            "kept_chars": kept.kept_chars,
            "correctly_deleted_chars": kept.correctly_deleted_chars,
            "discarded_chars": kept.discarded_chars,
            "candidate_new_chars": kept.candidate_new_chars,
            "reference_new_chars": kept.reference_new_chars,
            "candidate_deleted_chars": kept.candidate_deleted_chars,
            "reference_deleted_chars": kept.reference_deleted_chars,
            "cursor_evaluated": exp_cursor is not None,
            "cursor_exact_match": exact,
            "cursor_distance": distance,
            "expected_patch_index": index if index >= 0 else None,
        }
        key = (chrf.score, lines.f1)
        if best_key is None or key > best_key:
            best, best_key = s, key
    assert best is not None
    return {**best, **common}


def score_example(example: Example, *, beta: float = 0.5, whitespace: Whitespace = "collapse") -> list[dict]:
    """Scores parallel to ``example.predictions`` (QA verdicts copied in when present)."""
    if not example.predictions:
        return []
    ctx = scoring_context(example)
    out = []
    for i, pred in enumerate(example.predictions):
        s = score_prediction(example, pred, beta=beta, whitespace=whitespace, context=ctx)
        qa = example.qa[i] if i < len(example.qa) else None
        if qa is not None:
            s["qa_reverts_edits"] = qa.reverts_edits
            s["qa_confidence"] = qa.confidence
        out.append(s)
    return out


class ScoreStage(Stage):
    """The ``score`` stage: fills ``score[]`` (parallel to ``predictions[]``).

    An example it cannot score, or leaves out of the averages, is counted and named in one
    ``warning: NAME: …`` line in ``stats.messages``: stats travel back from worker processes and Ray
    actors, so a run reports the same however it ran."""

    name = "score"

    def __init__(self, beta: float = 0.5, whitespace: Whitespace = "collapse") -> None:
        super().__init__()
        self.beta, self.whitespace = beta, whitespace

    def process(self, example: Example) -> Example:
        if not example.predictions:
            self.stats.count("no predictions")
            example.score = []
            return example
        try:
            example.score = score_example(example, beta=self.beta, whitespace=self.whitespace)
        except ValueError as e:  # e.g. a cursor_position without a marker: keep the example, unscored
            self.stats.count(f"unscorable ({type(e).__name__})")
            self.stats.note(f"warning: {example.name}: cannot score: {e}")
            return example
        self.stats.count("predictions scored", len(example.score))
        if any(s.get("actual_patch_applied") is False for s in example.score):
            self.stats.count("actual patch did not apply")
        excluded = next((s["excluded"] for s in example.score if s.get("excluded")), None)
        if excluded is not None:
            self.stats.count("excluded: no expected patch applies")
            self.stats.note(f"warning: {example.name}: excluded from the averages: {excluded}")
        elif any(s.get("expected_patch_errors") for s in example.score):
            self.stats.count("expected patch did not apply")
        return example

    def is_complete(self, example: Example) -> bool:
        return len(example.score) == len(example.predictions)
