"""``nextedit repair``: failing teacher predictions go back to the teacher (§3.7) → a ``repair`` prediction.

*When* (:func:`needs_repair`): with a QA verdict on ``predictions[0]``, if it ``reverts_edits`` or its
``confidence`` is at most the threshold (default 2); without one, if ``score[0]`` has
``reversal_ratio > 0.9`` or ``wrong_editable_region``. An example that already has a ``repair``
prediction without error is skipped.

*How*: a three-turn conversation: the teacher prompt, the teacher's answer, then the repair request
(:func:`repair_message`: quality feedback from QA or from the scores, token-change figures, the
previous prediction as a word diff, the rules, and the output format with ``KEEP_PREVIOUS``). The
answer ``KEEP_PREVIOUS`` copies ``predictions[0]``'s patch and cursor; anything else is parsed as a
teacher answer (``NO_EDITS`` → an empty patch). Appended with ``provider = "repair"``.
"""

from __future__ import annotations

from nextedit.llm import ChatParams, ChatRequest, LLMConfig
from nextedit.schema.example import Example, Prediction, QaResult
from nextedit.teacher.llm_stage import LLMStage, Plan, WholeRun
from nextedit.teacher.parse import count_prediction, failed_prediction, parse_teacher_answer, result_error
from nextedit.teacher.prompt import MAX_TOKENS, teacher_prompt
from nextedit.teacher.word_diff import word_diff

REPAIR_PROVIDER = "repair"
KEEP_PREVIOUS = "KEEP_PREVIOUS"
DEFAULT_CONFIDENCE_THRESHOLD = 2
REVERSAL_LIMIT = 0.9
LARGE_TOKEN_CHANGE = 100


def first_qa(example: Example) -> QaResult | None:
    """The usable QA verdict on ``predictions[0]`` (no error), or None."""
    q = example.qa[0] if example.qa else None
    return q if q is not None and not q.error and q.confidence is not None else None


def is_repaired(example: Example) -> bool:
    return any(p.provider == REPAIR_PROVIDER and not p.error for p in example.predictions)


def needs_repair(example: Example, threshold: int = DEFAULT_CONFIDENCE_THRESHOLD) -> bool:
    """§3.7's rule (module doc); False without a teacher prediction to repair."""
    if not example.predictions or example.predictions[0].actual_output is None:
        return False
    qa = first_qa(example)
    if qa is not None:
        return bool(qa.reverts_edits) or (qa.confidence or 0) <= threshold
    score = example.score[0] if example.score else {}
    return (score.get("reversal_ratio") or 0) > REVERSAL_LIMIT or bool(score.get("wrong_editable_region"))


def quality_feedback(example: Example) -> str:
    """What is wrong with the previous prediction: from QA, else from the automated scores."""
    qa = first_qa(example)
    if qa is not None:
        reverts = {True: "yes", False: "no"}.get(qa.reverts_edits, "unknown")  # type: ignore[arg-type]
        return (
            f"- **Reverts user edits**: {reverts}\n- **Confidence score**: {qa.confidence}/5\n"
            f"- **Reasoning**: {qa.reasoning or '(none given)'}\n"
        )
    score = example.score[0] if example.score else {}
    issues = []
    if (score.get("reversal_ratio") or 0) > REVERSAL_LIMIT:
        issues.append(
            f"- high reversal ratio ({score['reversal_ratio']:.2f}): the prediction undoes much of what "
            "the user just did"
        )
    if score.get("wrong_editable_region"):
        issues.append("- the prediction may be modifying code outside the expected editable region")
    if (score.get("discarded_chars") or 0) > 80 and (score.get("exact_lines_fp") or 0) > 5:
        issues.append(
            "- the prediction might be too large or speculative; a smaller prediction has a higher "
            "chance to be correct"
        )
    return (
        "No human quality assessment is available, but automated scoring flagged potential issues:\n"
        + "\n".join(issues or ["- (none named)"])
        + f"\n\nIf the previous prediction was right after all, answer `{KEEP_PREVIOUS}`; if nothing "
        "should change, answer `NO_EDITS`.\n"
    )


def token_change_info(example: Example) -> str:
    score = example.score[0] if example.score else {}
    deleted, inserted = score.get("deleted_tokens"), score.get("inserted_tokens")
    if deleted is None or inserted is None:
        return ""
    text = f"## Token Change Statistics\n\n- Deleted tokens: {deleted}\n- Inserted tokens: {inserted}\n"
    if deleted > LARGE_TOKEN_CHANGE or inserted > LARGE_TOKEN_CHANGE:
        text += "\nThat is a large change. Consider producing a more scoped edit.\n"
    return text


def repair_message(example: Example) -> str:
    """The third turn of the repair conversation (module doc)."""
    previous = word_diff(example.predictions[0].actual_patch or "") or "(no edit)\n"
    return f"""# Repair Request

Your previous prediction has quality issues. Look at it again and write a better one.

## Quality Feedback

{quality_feedback(example)}
{token_change_info(example)}
## Your Previous Prediction (word-diff format)

`````
{previous}`````

## Instructions

Follow the same rules as before. Never revert the user's recent edits: if your prediction makes \
the code more like it was before their edit, answer `NO_EDITS`. When you are unsure, predict only \
the part of the edit you are confident about.

## Output Format

Explain briefly, then write one code block (five backticks) with the rewritten editable region \
between `<|editable_region_start|>` and `<|editable_region_end|>`, as before. Or write a code block \
containing only `NO_EDITS` if nothing should change, or only `{KEEP_PREVIOUS}` if your previous \
prediction was correct after all. `{KEEP_PREVIOUS}` and `NO_EDITS` mean different things: the first \
keeps your edit, the second drops it.
"""


class RepairStage(LLMStage):
    """Append a ``repair`` prediction to the examples that :func:`needs_repair`."""

    name = "repair"

    def __init__(
        self, llm: LLMConfig | str, confidence_threshold: int = DEFAULT_CONFIDENCE_THRESHOLD
    ) -> None:
        super().__init__(llm)
        self.confidence_threshold = confidence_threshold

    def skip_reason(self, example: Example) -> str | None:
        if is_repaired(example):
            return "already repaired"
        return None if needs_repair(example, self.confidence_threshold) else "no repair needed"

    def plan(self, example: Example) -> Plan:
        example.predictions = [p for p in example.predictions if p.provider != REPAIR_PROVIDER]
        previous = example.predictions[0]
        try:
            prompt = teacher_prompt(example)
        except ValueError as e:
            failed = failed_prediction(REPAIR_PROVIDER, f"invalid request: {e}")
            return Plan([], lambda _results: self._finish(example, failed))
        messages = [
            *prompt.messages,
            {"role": "assistant", "content": previous.actual_output or ""},
            {"role": "user", "content": repair_message(example)},
        ]

        def finish(results: list) -> Example:  # noqa: ANN001 - list[ChatResult]
            [result] = results
            if not result_error(result) and KEEP_PREVIOUS in result.text:
                self.stats.count("kept previous")
                return self._finish(example, _kept(previous, result.text))
            return self._finish(example, parse_teacher_answer(prompt.request, result, REPAIR_PROVIDER))

        return Plan([ChatRequest.of(messages, ChatParams(max_tokens=MAX_TOKENS))], finish)

    def _finish(self, example: Example, pred: Prediction) -> Example:
        count_prediction(self.stats, pred)
        example.predictions = [*example.predictions, pred]
        return example

    def is_complete(self, example: Example) -> bool:
        return is_repaired(example) or not needs_repair(example, self.confidence_threshold)


def _kept(previous: Prediction, text: str) -> Prediction:
    return Prediction(
        actual_patch=previous.actual_patch,
        actual_output=text,
        actual_cursor=previous.actual_cursor,
        provider=REPAIR_PROVIDER,
    )


class BatchedRepairStage(WholeRun, RepairStage):
    """:class:`RepairStage` for batched mode: every example's request in one call (few batches)."""
