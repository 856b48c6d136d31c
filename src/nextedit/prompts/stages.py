"""Pipeline stages of the prompt area: ``format-prompt`` and ``parse-output`` (zeta.md §3.3, §2.11).

* :class:`FormatPromptStage` fills ``prompt`` = {input, expected_output (from the first expected
  patch), rejected_output (from ``rejected_patch``), prefill, provider="zeta2:<ZetaFormat>"}.
* :class:`ParseOutputStage` turns each ``predictions[].actual_output`` into ``actual_patch`` (the
  §2.10 region patch) and ``actual_cursor``; unparseable outputs get ``error`` and an empty patch.

The request is :func:`nextedit.context.example_request.example_request`: ``prompt_inputs``, or for
examples without it the request a stock Zed would send for their cursor position.
"""

from __future__ import annotations

from nextedit.context.example_prediction import prediction_from_edit
from nextedit.context.example_request import example_request, request_or_drop
from nextedit.pipeline.stage import Stage
from nextedit.prompts.base import PromptFormat
from nextedit.prompts.registry import DEFAULT_FORMAT, format_for_provider, get_format
from nextedit.prompts.teacher import TeacherFormat
from nextedit.schema.example import Example, PromptRecord
from nextedit.schema.prediction import EditPrediction
from nextedit.schema.request import Zeta2PromptInput


class FormatPromptStage(Stage):
    """``format-prompt``: build the prompt and SFT targets for one format."""

    name = "format-prompt"

    def __init__(self, format: str | PromptFormat = DEFAULT_FORMAT, keep_failed: bool = False) -> None:
        super().__init__()
        self.format = get_format(format)
        self.keep_failed = keep_failed

    def _fail(self, example: Example, reason: str) -> Example | None:
        self.stats.drop(reason)
        return example if self.keep_failed else None

    def _target(self, request: Zeta2PromptInput, patch: str | None, what: str) -> str | None:
        if patch is None:
            return None
        try:
            return self.format.encode_target(request, patch)
        except ValueError as e:
            self.stats.count(f"{what} failed: {type(e).__name__}")
            return None

    def process(self, example: Example) -> Example | None:
        if not example.prompt_inputs:
            self.stats.count("request built from spec")
        try:
            request = example_request(example)
        except ValueError as e:
            self.stats.count(f"bad request: {str(e).split(':')[0][:60]}")
            return self._fail(example, "invalid request")
        fmt = self.format
        if isinstance(fmt, TeacherFormat) and example.edit_history:
            formatted = fmt.format_prompt_with_history(request, example.edit_history)
        else:
            formatted = fmt.format_prompt(request)
        if formatted is None:
            return self._fail(example, "prompt over token budget")
        expected = self._target(
            request, example.expected_patches[0] if example.expected_patches else None, "expected_output"
        )
        rejected = self._target(request, example.rejected_patch, "rejected_output")
        example.prompt = PromptRecord(
            input=formatted.prompt,
            expected_output=expected,
            rejected_output=rejected,
            prefill=formatted.prefill,
            provider=fmt.provider,
        )
        self.stats.count("prompt tokens (est.)", formatted.estimated_tokens)
        return example

    def is_complete(self, example: Example) -> bool:
        return bool(
            example.prompt and example.prompt.input and example.prompt.provider == self.format.provider
        )


class ParseOutputStage(Stage):
    """``parse-output``: raw model text → ``actual_patch`` + ``actual_cursor`` for every prediction.

    The format is ``format`` if given, else the one named by the prediction's provider, else by
    ``prompt.provider``.
    """

    name = "parse-output"

    def __init__(self, format: str | PromptFormat | None = None) -> None:
        super().__init__()
        self.format = get_format(format) if format is not None else None

    def _format_for(self, example: Example, provider: str | None) -> PromptFormat | None:
        if self.format is not None:
            return self.format
        return format_for_provider(provider) or format_for_provider(
            example.prompt.provider if example.prompt else None
        )

    def process(self, example: Example) -> Example | None:
        pending = [p for p in example.predictions if p.actual_output is not None]
        if not pending:
            self.stats.count("no outputs")
            return example
        request = request_or_drop(example, self.stats)
        if request is None:
            return None
        for pred in pending:
            fmt = self._format_for(example, pred.provider)
            if fmt is None:
                pred.error = f"cannot tell the prompt format of provider {pred.provider!r}; pass --format"
                self.stats.count("unknown format")
                continue
            parsed = fmt.parse_output(request, pred.actual_output)
            if not parsed.ok:
                pred.actual_patch = ""
                pred.actual_cursor = None
                pred.error = f"unparseable output: {parsed.reason}"
                self.stats.count("unparseable")
                continue
            r = parsed.range_in_excerpt
            edit = EditPrediction(
                output=parsed.new_editable_region,
                editable_range=(r.start, r.end),
                cursor_offset=parsed.cursor_offset_in_new_region,
                raw_output=pred.actual_output,
            )
            built = prediction_from_edit(request, edit, pred.provider or fmt.provider)
            pred.actual_patch = built.actual_patch
            pred.actual_cursor = built.actual_cursor
            pred.error = None
            self.stats.count("no edit" if not built.actual_patch else "parsed")
        return example

    def is_complete(self, example: Example) -> bool:
        return all(
            p.actual_patch is not None or p.error for p in example.predictions if p.actual_output is not None
        )
