"""Shared path of every model-backed provider: request → prompt → generate → parse → edit.

Subclasses supply only :meth:`ModelProvider.complete` (how text is generated: the local engine or a
remote ``/v1/completions`` server). The stage timings measured here (prompt, model, parse) are what
the server and the latency benchmark report.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from nextedit.predict.base import CancelToken, EditPrediction

if TYPE_CHECKING:
    from nextedit.model.serving import ConfidenceGate
    from nextedit.schema.request import Zeta2PromptInput


class ModelProvider:
    """A provider that formats a prompt in ``prompt_format`` and parses the model's completion.

    ``gate`` (see :mod:`nextedit.model.serving`) turns low-confidence edits into "no edit", marked
    ``stats["gated"]``; the model's text stays in ``raw_output``.
    """

    name = "model"

    def __init__(
        self,
        prompt_format: str = "zeta2_1",
        max_output_tokens: int | None = 64,
        gate: ConfidenceGate | None = None,
    ) -> None:
        from nextedit.prompts import get_format

        self.format = get_format(prompt_format)
        self.max_output_tokens = max_output_tokens
        self.model_version = self.name
        self.gate = gate

    def complete(
        self, prompt: str, max_tokens: int, stop: list[str], cancel: CancelToken | None, cache_key: str | None
    ) -> tuple[str, dict[str, Any]]:
        """Return the completion text (stop string excluded) and generation stats."""
        raise NotImplementedError

    def predict_request(
        self, request: Zeta2PromptInput, *, cancel: CancelToken | None = None, cache_key: str | None = None
    ) -> EditPrediction:
        t0 = time.perf_counter()
        formatted = self.format.format_prompt(request)
        t_prompt = time.perf_counter()
        if formatted is None:
            return EditPrediction(
                output="",
                editable_range=(0, 0),
                error="prompt exceeds the format's token budget",
                model_version=self.model_version,
                stats={"prompt_ms": 1000 * (t_prompt - t0)},
            )
        text, stats = self.complete(
            formatted.text,
            self.format.max_tokens(self.max_output_tokens),
            list(self.format.stop_tokens),
            cancel,
            cache_key,
        )
        t_model = time.perf_counter()
        raw = formatted.prefill + text
        parsed = self.format.parse_output(request, raw)
        t_parse = time.perf_counter()
        stats = {
            **stats,
            "prompt_ms": 1000 * (t_prompt - t0),
            "model_ms": 1000 * (t_model - t_prompt),
            "parse_ms": 1000 * (t_parse - t_model),
        }
        editable = formatted.editable_range

        def unchanged(error: str | None = None, gated: bool = False) -> EditPrediction:
            if gated:
                stats["gated"] = True
            return EditPrediction(
                output=request.slice_range(editable),
                editable_range=editable.as_tuple(),
                raw_output=raw,
                error=error,
                model_version=self.model_version,
                stats=stats,
            )

        if stats.get("finish_reason") == "low_confidence":  # stopped early by the gate
            return unchanged(gated=True)
        if not parsed.ok:
            return unchanged(error=f"unparseable: {parsed.reason}")
        if self.gate is not None and not self.gate.passes(stats) and not parsed.is_no_edit(request):
            return unchanged(gated=True)
        return EditPrediction(
            output=parsed.new_editable_region,
            editable_range=parsed.range_in_excerpt.as_tuple(),
            cursor_offset=parsed.cursor_offset_in_new_region,
            raw_output=raw,
            model_version=self.model_version,
            stats=stats,
        )
