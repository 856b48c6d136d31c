"""The ``oracle`` provider: answers with the example's first expected patch (the ceiling; a
sanity check of the scoring: it must get delta chrF 100 and exact-lines F1 1.0).

A request does not carry the answer, so the oracle is :class:`~nextedit.schema.provider.ExampleAware`:
the ``predict`` stage binds each example (:meth:`OracleProvider.for_example`) and asks the bound
provider for that example's request. The edit is the expected patch applied to the request's
excerpt (rows from ``excerpt_start_row``), as a replacement of the whole excerpt, with the
patch's cursor; a patch that does not apply is this prediction's error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nextedit.schema.prediction import EditPrediction
from nextedit.schema.provider import ExampleAware, Provider

if TYPE_CHECKING:
    from nextedit.schema.cancel import CancelToken
    from nextedit.schema.example import Example
    from nextedit.schema.request import Zeta2PromptInput


class OracleProvider(ExampleAware):
    """Answers examples only (module docstring)."""

    name = "oracle"

    def for_example(self, example: Example) -> Provider:
        return ExpectedPatch(example.expected_patches[0] if example.expected_patches else None)


class ExpectedPatch(Provider):
    """Answers one request with ``patch`` applied to its excerpt (``None``: no edit)."""

    name = "oracle"

    def __init__(self, patch: str | None) -> None:
        self.patch = patch

    def predict(
        self, request: Zeta2PromptInput, *, cancel: CancelToken | None = None, cache_key: str | None = None
    ) -> EditPrediction:
        if self.patch is None:
            return EditPrediction.no_edit(model_version=self.name)
        from nextedit.text.patch import apply_patch_with_cursor

        excerpt = request.cursor_excerpt
        new_text, cursor = apply_patch_with_cursor(  # PatchError: recorded by the stage
            excerpt, self.patch, request.cursor_path or None, start_row=request.excerpt_start_row or 0
        )
        return EditPrediction(
            output=new_text,
            editable_range=(0, len(excerpt.encode("utf-8"))),
            cursor_offset=cursor,
            model_version=self.name,
        )
