"""A teacher answer → the example's ``Prediction`` (§3.4 parse), never an exception.

* the last code block is ``NO_EDITS``, or the answer ends with it (fenced or bare) → no patch;
* otherwise the text after the last ``<|editable_region_start|>`` line up to the last
  ``<|editable_region_end|>`` line is the new region (prose around the block is ignored), with the
  cursor taken out of it; the patch is the §2.10 region patch
  (:func:`nextedit.context.example_prediction.prediction_from_edit`);
* an answer cut at ``max_tokens`` (``finish_reason = length``), one without the region markers (an
  unclosed fence, prose only), or a region that shares no line with the one the prompt showed (the
  model rewrote some other code) is a prediction with ``error`` and no patch; ``actual_output``
  always keeps the raw text.
"""

from __future__ import annotations

from nextedit.context.example_prediction import prediction_from_edit
from nextedit.llm import ChatResult
from nextedit.pipeline.stage import StageStats
from nextedit.prompts.teacher import NO_EDITS
from nextedit.schema.example import Prediction
from nextedit.schema.prediction import EditPrediction
from nextedit.schema.request import Zeta2PromptInput
from nextedit.teacher.prompt import TEACHER_FORMAT

MIN_LINES_TO_MATCH = 3  # regions with fewer significant lines are not checked for a match


def _significant(text: str) -> set[str]:
    """Lines (stripped) with at least 4 characters and a letter or digit: not ``}`` or blank."""
    return {s for line in text.splitlines() if len(s := line.strip()) >= 4 and any(c.isalnum() for c in s)}


def region_matches(old: str, new: str) -> bool:
    """False when ``old`` has at least :data:`MIN_LINES_TO_MATCH` significant lines (4+ characters,
    a letter or digit) and ``new`` keeps none of them: an answer about some other code."""
    old_lines = _significant(old)
    return len(old_lines) < MIN_LINES_TO_MATCH or bool(old_lines & _significant(new))


def says_no_edits(text: str) -> bool:
    """The §3.4 no-edit answer: the last code block is ``NO_EDITS`` or the answer ends with it."""
    from nextedit.prompts.teacher import FENCE

    blocks = text.split(FENCE)
    last_block = blocks[-2].strip() if len(blocks) >= 3 else None
    if last_block is None:  # three-backtick fences, as some models write them
        small = text.split("```")
        last_block = small[-2].strip() if len(small) >= 3 else None
    return last_block == NO_EDITS or text.strip(" \n`").endswith(NO_EDITS)


def count_prediction(stats: StageStats, pred: Prediction) -> None:
    """Count ``pred`` in a stage's ``stats``: with error, with an edit, or without."""
    if pred.error:
        stats.count("predictions with error")
    elif pred.actual_patch:
        stats.count("predictions with an edit")
    else:
        stats.count("predictions without edit")


def failed_prediction(provider: str, error: str, raw: str | None = None) -> Prediction:
    return Prediction(actual_patch="", actual_output=raw, error=error, provider=provider)


def result_error(result: ChatResult) -> str | None:
    """Why ``result`` has no usable answer text (a failed, missing or pending request, a truncated
    answer), or None."""
    if not result.ok:
        return f"{result.status}: {result.error}"
    if result.truncated:
        return "truncated: the answer hit max_tokens (finish_reason = length)"
    return None


def parse_teacher_answer(request: Zeta2PromptInput, result: ChatResult, provider: str) -> Prediction:
    """The prediction for ``request`` that ``result`` (the teacher's answer) gives (module doc)."""
    error = result_error(result)
    if error:
        return failed_prediction(provider, error, result.text or None)
    return parse_teacher_text(request, result.text, provider)


def parse_teacher_text(request: Zeta2PromptInput, text: str, provider: str) -> Prediction:
    region = TEACHER_FORMAT.region(request)
    if says_no_edits(text):
        return Prediction(actual_patch="", actual_output=text, provider=provider)
    parsed = TEACHER_FORMAT.parse_output(request, text)
    if not parsed.ok:
        return failed_prediction(provider, f"unparseable: {parsed.reason}", text)
    if not region_matches(region.editable_text, parsed.new_editable_region):
        return failed_prediction(
            provider,
            "unparseable: the answer's region does not match the editable region of the prompt",
            text,
        )
    edit = EditPrediction(
        output=parsed.new_editable_region,
        editable_range=parsed.range_in_excerpt.as_tuple(),
        cursor_offset=parsed.cursor_offset_in_new_region,
        raw_output=text,
    )
    return prediction_from_edit(request, edit, provider)
