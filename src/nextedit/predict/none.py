"""The ``none`` provider: always predicts "no edit" (the floor every model must beat)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nextedit.schema.prediction import EditPrediction
from nextedit.schema.provider import Provider

if TYPE_CHECKING:
    from nextedit.schema.cancel import CancelToken
    from nextedit.schema.request import Zeta2PromptInput


class NoneProvider(Provider):
    """No edit: ``editable_range`` 0..0, ``output`` "" (an empty patch in ``nextedit predict``)."""

    name = "none"

    def predict(
        self, request: Zeta2PromptInput, *, cancel: CancelToken | None = None, cache_key: str | None = None
    ) -> EditPrediction:
        return EditPrediction.no_edit(model_version=self.name)
