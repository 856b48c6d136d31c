"""Pydantic schemas: the training/eval `Example` and the editor request (`Zeta2PromptInput`)."""

from nextedit.schema.example import (
    ActualCursor,
    Example,
    Prediction,
    PromptRecord,
    QaResult,
)

__all__ = ["ActualCursor", "Example", "Prediction", "PromptRecord", "QaResult"]
