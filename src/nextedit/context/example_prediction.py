"""An answer to an example's request written as the example's ``Prediction`` record: the inverse
of :func:`nextedit.context.example_request.example_request`, used by ``predict`` and
``parse-output``.

``actual_patch`` is the §2.10 region patch (:func:`nextedit.text.diff.region_patch`: whole
editable region as context, cursor inline as ``<|user_cursor|>``), ``actual_output`` the raw model
text (else the output), ``actual_cursor`` the predicted cursor (bytes; ``offset`` in the new
excerpt, ``editable_region_offset`` in the new region).
"""

from __future__ import annotations

from typing import Any

from nextedit.schema.example import ActualCursor, Prediction
from nextedit.schema.prediction import EditPrediction
from nextedit.schema.request import Zeta2PromptInput
from nextedit.text.diff import region_patch


def prediction_from_edit(request: Zeta2PromptInput, edit: EditPrediction, provider: str) -> Prediction:
    """Turn a provider's answer for ``request`` into an example ``Prediction`` (module docstring):
    no patch when :meth:`EditPrediction.is_no_edit`; a cursor whenever the answer places one
    inside its output (even one that changes nothing)."""
    start, end = edit.editable_range
    cursor_in_new = edit.cursor_offset
    if cursor_in_new is not None and not 0 <= cursor_in_new <= len(edit.output.encode()):
        cursor_in_new = None
    patch = ""
    if not edit.is_no_edit(request.cursor_excerpt):
        start_row = request.excerpt_start_row or 0
        patch = region_patch(
            request.cursor_excerpt, start_row, request.cursor_path, start, end, edit.output, cursor_in_new
        )
    cursor = None
    if cursor_in_new is not None:
        before = request.excerpt_bytes()[:start] + edit.output.encode()[:cursor_in_new]
        cursor = ActualCursor(
            path=request.cursor_path,
            row=(request.excerpt_start_row or 0) + before.count(b"\n"),
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
