"""``nextedit qa``: an LLM judge rates each teacher prediction (§3.6) → ``qa[i]``.

The judge sees the edit history (each diff as a word diff), the current file excerpt with the
editable-region markers and the cursor, and the predicted patch as a word diff
(:mod:`~nextedit.teacher.word_diff`). It answers JSON ``{"reasoning", "reverts_edits", "confidence"}``
(confidence 1 = definitely reject … 5 = definitely accept), found in the first fenced block, else the
first JSON object in the text (prose around it is fine). ``qa`` is parallel to ``predictions``:
``qa[i] = {reasoning, reverts_edits, confidence, response, error}``, or None for a prediction with no
patch (nothing to judge) or with an error. A malformed or failed answer is a ``qa`` entry with ``error``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from nextedit.llm import ChatParams, ChatRequest, LLMConfig
from nextedit.prompts.base import CURSOR_MARKER
from nextedit.prompts.teacher import FENCE, NO_HISTORY
from nextedit.schema.example import Example, Prediction, QaResult
from nextedit.teacher.llm_stage import LLMStage, Plan, WholeRun
from nextedit.teacher.parse import result_error
from nextedit.teacher.prompt import teacher_prompt
from nextedit.teacher.word_diff import word_diff

MAX_TOKENS = 4096

QA_INSTRUCTIONS = """# Review an edit prediction

An assistant watched a programmer edit code and predicted the programmer's next edit. Judge the \
prediction. Answer two questions:

1. `reverts_edits`: does the prediction undo edits the programmer made on purpose (restore lines \
they removed, remove lines they added, or move the code back towards how it was before)? \
Edits after `// User accepted prediction:` came from a tool and may be corrected.
2. `confidence`: how sure are you that the programmer would accept this prediction? 1 = definitely \
reject, 2 = probably reject, 3 = unsure, 4 = probably accept, 5 = definitely accept.

Diffs are shown as word diffs: `[-deleted-]` and `{+inserted+}` mark changed text.
"""

QA_OUTPUT = """# Answer

Answer with a JSON object only, in a code block:

```json
{"reasoning": "<one or two sentences>", "reverts_edits": <true|false>, "confidence": <1-5>}
```
"""


def qa_prompt(history: str, excerpt: str, patch: str) -> str:
    """The judge's prompt: ``history`` (unified diffs), ``excerpt`` (the current file with region
    markers), ``patch`` (the prediction; its cursor marker is not shown)."""
    history_text = word_diff(history) if history.strip() else NO_HISTORY + "\n"
    shown = word_diff(patch.replace(CURSOR_MARKER, ""))
    return (
        f"{QA_INSTRUCTIONS}\n# Edit history\n\n{FENCE}\n{history_text}{FENCE}\n\n"
        f"# Current file\n\n{excerpt}\n\n# Predicted edit\n\n{FENCE}\n{shown}{FENCE}\n\n{QA_OUTPUT}"
    )


def current_file_block(teacher_text: str) -> str:
    """The ``# 3. Current File`` block of a teacher prompt (what the judge sees of the file)."""
    start = teacher_text.rfind("# 3. Current File\n\n")
    end = teacher_text.rfind("\n\n-----\n\n")
    return teacher_text[start + len("# 3. Current File\n\n") : end] if 0 <= start < end else ""


_FENCED = re.compile(r"```+[a-zA-Z]*\n(.*?)```+", re.DOTALL)


def find_json_object(text: str) -> dict[str, Any] | None:
    """The first JSON object in the first fenced block of ``text``, else the first in ``text``."""
    candidates = [m.group(1) for m in _FENCED.finditer(text)][:1] + [text]
    decoder = json.JSONDecoder()
    for candidate in candidates:
        for i, ch in enumerate(candidate):
            if ch != "{":
                continue
            try:
                value, _ = decoder.raw_decode(candidate, i)
            except ValueError:
                continue
            if isinstance(value, dict):
                return value
    return None


def parse_qa_answer(text: str) -> QaResult:
    """The verdict in ``text`` (module doc); ``error`` names what is missing or wrong."""
    data = find_json_object(text)
    if data is None:
        return QaResult(response=text, error="malformed: no JSON object in the answer")
    reverts, confidence = data.get("reverts_edits"), data.get("confidence")
    if isinstance(confidence, str) and confidence.strip().isdigit():
        confidence = int(confidence)
    problems = []
    if not isinstance(reverts, bool):
        problems.append("reverts_edits is not true/false")
    valid = isinstance(confidence, int) and not isinstance(confidence, bool) and 1 <= confidence <= 5
    if not valid:
        problems.append("confidence is not an integer 1-5")
    reasoning = data.get("reasoning")
    return QaResult(
        reasoning=reasoning if isinstance(reasoning, str) else None,
        reverts_edits=reverts if isinstance(reverts, bool) else None,
        confidence=confidence if valid else None,
        response=text,
        error=f"malformed: {'; '.join(problems)}" if problems else None,
    )


def judged(pred: Prediction) -> bool:
    """A prediction the judge looks at: no error and a patch."""
    return not pred.error and bool((pred.actual_patch or "").strip())


class QaStage(LLMStage):
    """``qa[i]`` = the judge's verdict on ``predictions[i]`` (module doc)."""

    name = "qa"

    def __init__(self, llm: LLMConfig | str) -> None:
        super().__init__(llm)

    def plan(self, example: Example) -> Plan:
        preds = example.predictions
        todo = [i for i, p in enumerate(preds) if judged(p)]
        qa: list[QaResult | None] = [None] * len(preds)
        requests: list[ChatRequest] = []
        if todo:
            try:
                excerpt = current_file_block(teacher_prompt(example).text)
            except ValueError as e:
                self.stats.count("invalid request")
                qa = [
                    QaResult(error=f"invalid request: {e}") if i in todo else None for i in range(len(preds))
                ]
                todo = []
            for i in todo:
                prompt = qa_prompt(example.edit_history, excerpt, preds[i].actual_patch or "")
                requests.append(
                    ChatRequest.of([{"role": "user", "content": prompt}], ChatParams(max_tokens=MAX_TOKENS))
                )

        def finish(results: list) -> Example:  # noqa: ANN001 - list[ChatResult]
            for i, result in zip(todo, results, strict=True):
                error = result_error(result)
                verdict = (
                    QaResult(response=result.text or None, error=error)
                    if error
                    else parse_qa_answer(result.text)
                )
                self.stats.count("qa errors" if verdict.error else "qa verdicts")
                qa[i] = verdict
            example.qa = qa
            return example

        return Plan(requests, finish)

    def is_complete(self, example: Example) -> bool:
        if len(example.qa) != len(example.predictions):
            return False
        return all(
            q is not None and not (q.error or "").startswith(("pending:", "missing:", "error:"))
            for p, q in zip(example.predictions, example.qa, strict=True)
            if judged(p)
        )


class BatchedQaStage(WholeRun, QaStage):
    """:class:`QaStage` for batched mode: every example's requests in one call (few batches)."""
