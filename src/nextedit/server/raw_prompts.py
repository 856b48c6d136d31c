"""Raw prompts for non-neural providers: recover the request from a formatted prompt, and encode a
prediction as the exact completion text the format's parser (Zed's) maps back to it.

Offsets are UTF-8 bytes of the prompt's visible context (``PromptParts.context``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from nextedit.schema.prediction import EditPrediction
from nextedit.schema.request import Zeta2PromptInput
from nextedit.text.diff import common_affixes

if TYPE_CHECKING:
    from nextedit.prompts.base import PromptFormat, PromptParts


@dataclass
class RecoveredPrompt:
    parts: PromptParts
    request: Zeta2PromptInput


def request_from_prompt(fmt: PromptFormat, prompt: str) -> RecoveredPrompt:
    """``fmt.parse_prompt`` + ``to_request``; ValueError when the prompt is not in ``fmt``."""
    parts = fmt.parse_prompt(prompt)
    return RecoveredPrompt(parts=parts, request=parts.to_request())


def region_edit(rec: RecoveredPrompt, pred: EditPrediction) -> tuple[str, str, int | None]:
    """(old region, new region, cursor in new) for the prompt's editable region. Changes outside
    that region cannot be expressed in the format and count as "no edit"."""
    old_ctx = rec.request.excerpt_bytes()
    s, e = rec.parts.editable_range
    old_region = old_ctx[s:e].decode("utf-8")
    if pred.error is not None or pred.is_no_edit(rec.request.cursor_excerpt):
        return old_region, old_region, None
    ps, pe = pred.editable_range
    if not (0 <= ps <= pe <= len(old_ctx)):
        return old_region, old_region, None
    new_ctx = old_ctx[:ps] + pred.output.encode("utf-8") + old_ctx[pe:]
    p, suf = common_affixes(old_ctx, new_ctx)
    if p < s or len(old_ctx) - suf > e:
        return old_region, old_region, None
    tail = len(old_ctx) - e
    new_region = new_ctx[s : len(new_ctx) - tail].decode("utf-8")
    cursor = None
    if pred.cursor_offset is not None:
        c = ps + pred.cursor_offset - s
        if 0 <= c <= len(new_region.encode("utf-8")):
            cursor = c
    return old_region, new_region, cursor


def encode_prediction(fmt: PromptFormat, rec: RecoveredPrompt, pred: EditPrediction) -> str:
    """The model-output text for ``pred`` in ``fmt`` (end marker included; the caller applies stops)."""
    old_region, new_region, cursor = region_edit(rec, pred)
    return fmt.encode_output(old_region, new_region, cursor)
