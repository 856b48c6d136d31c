"""The ``predict`` stage: run a provider on every example and fill ``predictions[]``.

Providers that know examples (``none``, ``oracle``: a ``predict_example(example)`` method) answer
directly. Request providers (:class:`nextedit.predict.base.Provider`) get the example's
``prompt_inputs`` or a request built by :func:`nextedit.predict.request_from_example.request_from_example`;
their :class:`EditPrediction` becomes a prediction whose ``actual_patch`` is the §2.10 region patch
(:func:`nextedit.text.diff.region_patch`: whole editable region as context, cursor inline as
``<|user_cursor|>``), ``actual_output`` the raw model text, ``actual_cursor`` the predicted cursor
(bytes; ``offset`` in the new excerpt, ``editable_region_offset`` in the new region).

A provider exception is recorded as ``predictions[i].error`` (empty patch) instead of failing the
run. The stage *replaces* ``predictions`` and clears the now stale ``score``/``qa``.
"""

from __future__ import annotations

import time
from typing import Any

from nextedit.pipeline.stage import Stage
from nextedit.predict.base import EditPrediction
from nextedit.predict.request_from_example import request_from_example
from nextedit.schema.example import ActualCursor, Example, Prediction
from nextedit.schema.request import Zeta2PromptInput
from nextedit.text.diff import region_patch


def prediction_from_edit(request: Zeta2PromptInput, edit: EditPrediction, provider: str) -> Prediction:
    """Turn a provider's answer for ``request`` into an example ``Prediction`` (module docstring)."""
    data = request.excerpt_bytes()
    start, end = edit.editable_range
    no_edit = (start, end) == (0, 0) and edit.output == ""
    old_region = data[start:end].decode("utf-8", errors="replace")
    patch = ""
    cursor = None
    if not no_edit:
        out = edit.output
        cursor_in_new = edit.cursor_offset
        if cursor_in_new is not None and not 0 <= cursor_in_new <= len(out.encode()):
            cursor_in_new = None
        if out != old_region:
            patch = region_patch(
                request.cursor_excerpt,
                request.excerpt_start_row or 0,
                request.cursor_path,
                start,
                end,
                out,
                cursor_in_new,
            )
        if cursor_in_new is not None:
            before = data[:start] + out.encode()[:cursor_in_new]
            row = before.count(b"\n")
            cursor = ActualCursor(
                path=request.cursor_path,
                row=(request.excerpt_start_row or 0) + row,
                column=len(before) - (before.rfind(b"\n") + 1),
                offset=len(before),
                editable_region_offset=cursor_in_new,
            )
    extra: dict[str, Any] = {}
    if edit.model_version:
        extra["model_version"] = edit.model_version
    if edit.stats:
        extra["stats"] = edit.stats
    return Prediction(
        actual_patch=patch,
        actual_output=edit.raw_output if edit.raw_output is not None else edit.output,
        actual_cursor=cursor,
        error=edit.error,
        provider=provider,
        **extra,
    )


class PredictStage(Stage):
    """``predictions = [provider(example) for _ in range(repetitions)]``."""

    name = "predict"

    def __init__(self, provider: Any, repetitions: int = 1) -> None:
        super().__init__()
        if repetitions < 1:
            raise ValueError(f"repetitions must be ≥ 1, got {repetitions}")
        self.provider = provider
        self.provider_name = str(getattr(provider, "name", type(provider).__name__))
        self.repetitions = repetitions

    def predict_one(self, example: Example) -> Prediction:
        t0 = time.perf_counter()
        try:
            if hasattr(self.provider, "predict_example"):
                pred = self.provider.predict_example(example)
            else:
                request = request_from_example(example)
                pred = prediction_from_edit(request, self.provider.predict_request(request), self.provider_name)
        except Exception as e:  # noqa: BLE001 - recorded on the prediction, the run goes on
            pred = Prediction(actual_patch="", error=f"{type(e).__name__}: {e}", provider=self.provider_name)
        pred.latency_ms = round(1000 * (time.perf_counter() - t0), 3)  # type: ignore[attr-defined]
        if pred.error:
            self.stats.count("prediction errors")
        elif pred.actual_patch and pred.actual_patch.strip():
            self.stats.count("predictions with an edit")
        else:
            self.stats.count("predictions without edit")
        return pred

    def process(self, example: Example) -> Example:
        example.predictions = [self.predict_one(example) for _ in range(self.repetitions)]
        example.score = []
        example.qa = []
        return example

    def is_complete(self, example: Example) -> bool:
        return len(example.predictions) >= self.repetitions and all(
            p.provider == self.provider_name for p in example.predictions
        )

    def close(self) -> None:
        closer = getattr(self.provider, "close", None)
        if callable(closer):
            closer()
