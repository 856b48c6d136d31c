"""The LLM half of the training pipeline (zeta.md §3.4–§3.8): teacher → qa → repair → distill.

* :class:`~nextedit.teacher.predict.TeacherStage` — a frontier model writes ``predictions[]``
  (provider ``teacher:MODEL``) from the §3.4 teacher prompt (:mod:`nextedit.prompts.teacher`);
  its answers are parsed by :mod:`~nextedit.teacher.parse`;
* :class:`~nextedit.teacher.qa.QaStage` — an LLM judge fills ``qa[i]`` (§3.6), the patch shown as a
  word diff (:mod:`~nextedit.teacher.word_diff`);
* :class:`~nextedit.teacher.repair.RepairStage` — failing predictions are sent back to the teacher
  in a three-turn conversation (§3.7) and a ``repair`` prediction is appended;
* :class:`~nextedit.teacher.distill.DistillStage` — predictions become ``expected_patches`` (§3.8),
  ready for ``format-prompt`` and ``train``;
* :func:`~nextedit.teacher.synthesize.synthesize` — an LLM turns a repository's commits into
  examples (§3.11); not a pipeline step (its input is a repository, not examples).

Every LLM stage is an :class:`~nextedit.teacher.llm_stage.LLMStage`: it keeps an
:class:`~nextedit.llm.LLMConfig` (picklable, so local worker processes and Ray actors can run it)
and opens the client where it runs. A rerun over the same input makes no requests (the response
cache), and an example the stage has already finished passes through untouched.

Sits above ``llm``, ``pipeline``, ``context``, ``prompts`` and ``metrics``; never imports ``server``,
``training``, ``data``, ``bench`` or ``cli``.
"""

from nextedit.teacher.distill import DistillStage
from nextedit.teacher.llm_stage import LLMStage, RunStopped
from nextedit.teacher.predict import BatchedTeacherStage, TeacherStage
from nextedit.teacher.qa import BatchedQaStage, QaStage
from nextedit.teacher.repair import BatchedRepairStage, RepairStage

__all__ = [
    "BatchedQaStage",
    "BatchedRepairStage",
    "BatchedTeacherStage",
    "DistillStage",
    "LLMStage",
    "QaStage",
    "RepairStage",
    "RunStopped",
    "TeacherStage",
]
