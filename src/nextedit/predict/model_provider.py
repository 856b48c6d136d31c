"""The one model-backed provider: request → prompt → :class:`~nextedit.schema.provider.TextModel`
→ parse → edit.

What generates the text is the text model's business (the local engine, a remote ``/v1/completions``
server); this provider formats the prompt in the model's ``prompt_format``, asks for the format's
stop tokens and output budget, and parses the answer. The stage timings measured here (prompt,
model, parse; ms) are what the server and the latency benchmark report.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from nextedit.schema.completion import GenerationParams
from nextedit.schema.prediction import EditPrediction
from nextedit.schema.provider import Provider, TextModel

if TYPE_CHECKING:
    from nextedit.schema.cancel import CancelToken
    from nextedit.schema.request import Zeta2PromptInput


class ModelProvider(Provider):
    """Predicts through ``model``. ``max_output_tokens`` is the editable-region budget the format
    turns into a token limit (:meth:`nextedit.prompts.base.PromptFormat.max_tokens`).

    A completion the model's confidence gate rejected (finish reason ``low_confidence``, see
    :class:`nextedit.model.serving.ConfidenceGate`) is answered with "no edit", marked ``gated``;
    so is an unparseable one, with ``error`` saying why. The model's text stays in ``raw_output``.
    """

    def __init__(self, model: TextModel, max_output_tokens: int | None = 64) -> None:
        from nextedit.prompts import get_format

        self.model = model
        self.format = get_format(model.prompt_format)
        self.max_output_tokens = max_output_tokens
        self.name = model.name
        self.model_version = model.model_version

    def params(self) -> GenerationParams:
        """What the model is asked for: the format's stop tokens and output token limit."""
        return GenerationParams(
            self.format.max_tokens(self.max_output_tokens), tuple(self.format.stop_tokens)
        )

    def predict(
        self, request: Zeta2PromptInput, *, cancel: CancelToken | None = None, cache_key: str | None = None
    ) -> EditPrediction:
        t0 = time.perf_counter()
        formatted = self.format.format_prompt(request)
        t_prompt = time.perf_counter()
        if formatted is None:
            return EditPrediction.no_edit(
                error="prompt exceeds the format's token budget",
                model_version=self.model_version,
                timings_ms={"prompt": 1000 * (t_prompt - t0)},
            )
        completion = self.model.complete(formatted.text, self.params(), cancel=cancel, cache_key=cache_key)
        t_model = time.perf_counter()
        raw = formatted.prefill + completion.text
        parsed = self.format.parse_output(request, raw)
        t_parse = time.perf_counter()
        timings = {
            "prompt": 1000 * (t_prompt - t0),
            "model": 1000 * (t_model - t_prompt),
            "parse": 1000 * (t_parse - t_model),
        }
        gated = completion.finish_reason == "low_confidence"
        if gated or not parsed.ok:  # no edit: the old region, unchanged
            editable = formatted.editable_range
            return EditPrediction(
                output=request.slice_range(editable),
                editable_range=editable.as_tuple(),
                raw_output=raw,
                error=None if gated else f"unparseable: {parsed.reason}",
                model_version=self.model_version,
                completion=completion,
                timings_ms=timings,
                gated=gated,
            )
        return EditPrediction(
            output=parsed.new_editable_region,
            editable_range=parsed.range_in_excerpt.as_tuple(),
            cursor_offset=parsed.cursor_offset_in_new_region,
            raw_output=raw,
            model_version=self.model_version,
            completion=completion,
            timings_ms=timings,
        )

    def check(self) -> None:
        self.model.check()

    def close(self) -> None:
        self.model.close()
