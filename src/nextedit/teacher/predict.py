"""``nextedit teacher``: the teacher model writes ``predictions[]`` for every example (§3.4).

Each example gets ``repetitions`` answers to its teacher prompt (:mod:`~nextedit.teacher.prompt`),
asked concurrently; the i-th repetition carries ``seed=i`` when there are several, so each has its own
cache entry. Every answer becomes a prediction with ``provider = "teacher:MODEL"``
(:mod:`~nextedit.teacher.parse`); a failed request or an unparseable answer is a prediction with
``error``. The stage replaces ``predictions`` and clears the now stale ``score`` and ``qa``.
"""

from __future__ import annotations

from nextedit.llm import LLMConfig
from nextedit.schema.example import Example, Prediction
from nextedit.teacher.llm_stage import LLMStage, Plan, WholeRun
from nextedit.teacher.parse import count_prediction, failed_prediction, parse_teacher_answer
from nextedit.teacher.prompt import teacher_prompt

PENDING = ("pending:", "missing:", "error:")  # a rerun may still answer these (batch, cache miss, failure)


def teacher_provider(model: str) -> str:
    return f"teacher:{model}"


class TeacherStage(LLMStage):
    """``predictions = [teacher answer i for i in range(repetitions)]``."""

    name = "teacher"

    def __init__(self, llm: LLMConfig | str, repetitions: int = 1) -> None:
        super().__init__(llm)
        if repetitions < 1:
            raise ValueError(f"repetitions must be at least 1, got {repetitions}")
        self.repetitions = repetitions
        self.provider = teacher_provider(self.model)

    def plan(self, example: Example) -> Plan:
        try:
            prompt = teacher_prompt(example)
        except ValueError as e:
            self.stats.count("invalid request")
            failed = [failed_prediction(self.provider, f"invalid request: {e}")]
            return Plan([], lambda _results: self._finish(example, failed))
        seeds = [None] if self.repetitions == 1 else list(range(self.repetitions))
        return Plan(
            [prompt.chat_request(seed) for seed in seeds],
            lambda results: self._finish(
                example, [parse_teacher_answer(prompt.request, r, self.provider) for r in results]
            ),
        )

    def _finish(self, example: Example, predictions: list[Prediction]) -> Example:
        for pred in predictions:
            count_prediction(self.stats, pred)
        example.predictions = predictions
        example.score = []
        example.qa = []
        return example

    def is_complete(self, example: Example) -> bool:
        preds = example.predictions
        return len(preds) >= self.repetitions and all(
            p.provider == self.provider and not (p.error or "").startswith(PENDING) for p in preds
        )


class BatchedTeacherStage(WholeRun, TeacherStage):
    """:class:`TeacherStage` for batched mode: every example's requests in one call (few batches)."""
