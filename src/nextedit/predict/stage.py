"""The ``predict`` stage: run a provider on every example and fill ``predictions[]``.

Each example's request is :func:`nextedit.context.example_request.example_request` (its
``prompt_inputs``, or the request a stock Zed would send for its cursor position). A
:class:`~nextedit.schema.provider.Provider` answers it; an
:class:`~nextedit.schema.provider.ExampleAware` one (the oracle) is first bound to the example.
The answer becomes the example's prediction through
:func:`nextedit.context.example_prediction.prediction_from_edit` (the §2.10 region patch, the raw
model text, the predicted cursor).

A provider exception is recorded as ``predictions[i].error`` (empty patch) instead of failing the
run, except :class:`~nextedit.schema.provider.ProviderUnavailable`: the backend, not the example,
is at fault, so the exception leaves the stage (the pipeline fails the example and says why;
commands call :meth:`Provider.check` before the work). The stage *replaces* ``predictions`` and
clears the now stale ``score``/``qa``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from nextedit.context.example_prediction import prediction_from_edit
from nextedit.context.example_request import example_request
from nextedit.pipeline.stage import Stage
from nextedit.schema.example import Example, Prediction
from nextedit.schema.provider import ExampleAware, Provider, ProviderUnavailable


class PredictStage(Stage):
    """``predictions = [provider(example) for _ in range(repetitions)]``."""

    name = "predict"

    def __init__(self, provider: Provider | ExampleAware, repetitions: int = 1) -> None:
        super().__init__()
        if repetitions < 1:
            raise ValueError(f"repetitions must be ≥ 1, got {repetitions}")
        self.provider = provider
        self.provider_name = provider.name
        self._bind: Callable[[Example], Provider] = (
            provider.for_example if isinstance(provider, ExampleAware) else lambda _example: provider
        )
        self.repetitions = repetitions

    def predict_one(self, example: Example) -> Prediction:
        t0 = time.perf_counter()
        try:
            request = example_request(example)
            edit = self._bind(example).predict(request)
            pred = prediction_from_edit(request, edit, self.provider_name)
        except ProviderUnavailable:
            raise
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
        self.provider.close()
