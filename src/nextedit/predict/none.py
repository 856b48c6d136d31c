"""The ``none`` provider: always predicts "no edit" (the floor every model must beat)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nextedit.predict.base import CancelToken, EditPrediction
from nextedit.schema.example import Example, Prediction

if TYPE_CHECKING:
    from nextedit.schema.request import Zeta2PromptInput


class NoneProvider:
    """No edit, for requests (``editable_range`` 0..0, ``output`` "") and for examples (empty patch)."""

    name = "none"

    def predict_request(self, request: Zeta2PromptInput, *, cancel: CancelToken | None = None) -> EditPrediction:
        return EditPrediction(output="", editable_range=(0, 0), model_version=self.name)

    def predict_example(self, example: Example) -> Prediction:
        return Prediction(actual_patch="", actual_output="", provider=self.name)
