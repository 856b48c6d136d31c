"""The bottom of the house: record schemas and the vocabulary every layer shares.

* :mod:`~nextedit.schema.example` — the training/eval ``Example`` (one JSONL line)
* :mod:`~nextedit.schema.request` — the editor request (``Zeta2PromptInput``)
* :mod:`~nextedit.schema.prediction` — a provider's answer (``EditPrediction``) and ``is_no_edit``
* :mod:`~nextedit.schema.completion` — a text model's parameters and answer (``Completion``)
* :mod:`~nextedit.schema.cancel` — cooperative cancellation (``CancelToken``, ``Canceled``)
* :mod:`~nextedit.schema.provider` — the ``Provider`` and ``TextModel`` protocols
"""

from nextedit.schema.example import (
    ActualCursor,
    Example,
    Prediction,
    PromptRecord,
    QaResult,
)

__all__ = ["ActualCursor", "Example", "Prediction", "PromptRecord", "QaResult"]
