"""``hybrid[:PATH]``: the heuristic's edit when it has one, else the model's.

The two are complementary. The heuristic propagates the latest rename and completes half-typed
identifiers from the file: precise, ~1 ms, and exactly what a small model rarely does (an identifier
that only occurs elsewhere). The model completes the cursor line from what it learned. On the
validation split, delta chrF / kept rate were 13.25 / 14.7 % for the heuristic, 12.78 / 16.5 % for
the shipped model and 15.06 / 22.5 % for this order; the reverse order (model first) gave 14.94 /
21.8 %.

In the server, :class:`~nextedit.server.predictor.Predictor` takes it apart: ``first`` answers
before the request queues (for a raw prompt, on the request read back out of it, the edit encoded
in the prompt's format), and only the rest queues for ``model``, with the client's prefix cache.
``format`` and ``complete`` let it stand in for its model anywhere else a model provider is used.
"""

from __future__ import annotations

from typing import Any

from nextedit.predict.base import CancelToken, EditPrediction
from nextedit.predict.heuristic import HeuristicProvider


class HybridProvider:
    """``first`` (default: the heuristic) answers when it has an edit; otherwise ``model`` does."""

    def __init__(self, model: Any, first: Any = None) -> None:
        self.model = model
        self.first = first if first is not None else HeuristicProvider()
        self.name = f"hybrid:{model.name}"
        self.format = model.format
        self.model_version = f"hybrid-{getattr(model, 'model_version', model.name)}"

    def predict_request(
        self, request: Any, *, cancel: CancelToken | None = None, cache_key: str | None = None
    ) -> EditPrediction:
        pred = self.first.predict_request(request, cancel=cancel)
        if not pred.is_no_edit(request.cursor_excerpt):
            pred.stats = {**pred.stats, "answered_by": self.first.name}
            return pred
        pred = self.model.predict_request(request, cancel=cancel, cache_key=cache_key)
        pred.stats = {**pred.stats, "answered_by": self.model.name}
        return pred

    def complete(
        self, prompt: str, max_tokens: int, stop: list[str], cancel: CancelToken | None, cache_key: str | None
    ) -> tuple[str, dict[str, Any]]:
        """A raw prompt (already formatted by the editor): the model's completion."""
        return self.model.complete(prompt, max_tokens, stop, cancel, cache_key)
