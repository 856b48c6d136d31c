"""A provider's answer for one editor request (:class:`EditPrediction`) and the one definition of
"no edit" (:func:`is_no_edit`).

Offsets are UTF-8 **bytes** of the request's ``cursor_excerpt``. "No edit" follows Zed: the output
equals the region it replaces, or the range is 0..0 with an empty output (what ``/predict_edits/v3``
answers when there is nothing to suggest).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nextedit.schema.completion import Completion

NO_EDIT_RANGE = (0, 0)


def is_no_edit(cursor_excerpt: str, editable_range: tuple[int, int], output: str) -> bool:
    """True when replacing ``editable_range`` (bytes of ``cursor_excerpt``) by ``output`` changes
    nothing, or the answer is Zed's explicit no-edit form (range 0..0, output "")."""
    start, end = editable_range
    if (start, end) == NO_EDIT_RANGE and output == "":
        return True
    return cursor_excerpt.encode("utf-8")[start:end].decode("utf-8", errors="replace") == output


@dataclass
class EditPrediction:
    """``output`` replaces the byte range ``editable_range`` of the request's ``cursor_excerpt``.

    * ``cursor_offset``: where the cursor goes, a byte offset inside ``output`` (or ``None``).
    * ``raw_output``: the model's text before parsing (``None`` for providers without a model).
    * ``error``: set when the model's text could not be turned into an edit (then ``output`` is
      the old region: no edit).
    * ``completion``: the model's :class:`~nextedit.schema.completion.Completion` (model providers).
    * ``timings_ms``: per-stage times of a model provider (``prompt``, ``model``, ``parse``; ms).
    * ``gated``: the model's confidence gate turned its edit into "no edit".
    * ``answered_by``: which provider of a first-then-model pair answered (``hybrid``).
    """

    output: str
    editable_range: tuple[int, int]
    cursor_offset: int | None = None
    raw_output: str | None = None
    error: str | None = None
    model_version: str | None = None
    completion: Completion | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)
    gated: bool = False
    answered_by: str | None = None

    @classmethod
    def no_edit(cls, **kw: Any) -> EditPrediction:
        """Zed's explicit "nothing to suggest": range 0..0, empty output."""
        return cls(output="", editable_range=NO_EDIT_RANGE, **kw)

    def is_no_edit(self, cursor_excerpt: str) -> bool:
        """:func:`is_no_edit` of this answer for a request with this ``cursor_excerpt``."""
        return is_no_edit(cursor_excerpt, self.editable_range, self.output)

    @property
    def stats(self) -> dict[str, Any]:
        """Everything measured, flat (what a prediction's ``stats`` field records): the
        completion's stats, token counts and finish reason, the stage times as ``<stage>_ms``,
        ``gated`` and ``answered_by`` when set."""
        out: dict[str, Any] = self.completion.stats_dict() if self.completion is not None else {}
        out.update({f"{k}_ms": v for k, v in self.timings_ms.items()})
        if self.gated:
            out["gated"] = True
        if self.answered_by is not None:
            out["answered_by"] = self.answered_by
        return out
