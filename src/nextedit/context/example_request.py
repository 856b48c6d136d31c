"""The editor request (``Zeta2PromptInput``) of an example: the one builder every stage uses
(``predict``, ``format-prompt``, ``parse-output``, scoring, the benchmarks).

An example with ``prompt_inputs`` is that request, validated. Without it the request is what a
stock Zed would send for the example's Cursor Position block: the excerpt with its cursor (byte
offset), the edit history as ``BufferChange`` events, the 11 pre-computed ``excerpt_ranges``
(§2.2, no syntax ranges) and no related files. ``excerpt_start_row`` is inferred from the edit
history (:func:`infer_excerpt_start_row`); otherwise it stays ``None`` (patches are then numbered
from row 0 of the excerpt). The expected patches are never looked at: a request does not know the
answer.
"""

from __future__ import annotations

from nextedit.pipeline.stage import StageStats
from nextedit.schema.example import Example
from nextedit.schema.request import Zeta2PromptInput


def example_request(example: Example) -> Zeta2PromptInput:
    """The request of ``example`` (module docstring). Raises ``ValueError`` naming the field when
    ``prompt_inputs`` is invalid or an offset lies outside the excerpt, and
    :class:`nextedit.io.markdown.CursorMarkerError` (a ``ValueError``) when the cursor position
    has no cursor marker."""
    if example.prompt_inputs:
        request = Zeta2PromptInput.from_json(example.prompt_inputs)
    else:
        from nextedit.context.excerpt_ranges import compute_legacy_excerpt_ranges
        from nextedit.context.history import events_from_edit_history
        from nextedit.io.markdown import cursor_excerpt

        excerpt, cursor = cursor_excerpt(example.cursor_position, example.cursor_path)
        request = Zeta2PromptInput(
            cursor_path=example.cursor_path,
            cursor_excerpt=excerpt,
            cursor_offset_in_excerpt=cursor,
            excerpt_start_row=start_row_from_history(excerpt, example.edit_history, example.cursor_path),
            events=events_from_edit_history(example.edit_history),
            related_files=[],
            excerpt_ranges=compute_legacy_excerpt_ranges(excerpt, cursor, None),
        )
    request.validate_offsets()
    return request


def request_or_drop(example: Example, stats: StageStats) -> Zeta2PromptInput | None:
    """For a stage that cannot use an example without its request: the request, or None after
    counting the example in ``stats`` as dropped (``invalid request``) when building it raises."""
    try:
        return example_request(example)
    except ValueError:
        stats.drop("invalid request")
        return None


def infer_excerpt_start_row(excerpt: str, diffs: list[str]) -> int | None:
    """First buffer row (0-based) of ``excerpt``, from the newest of ``diffs`` (oldest first, the
    excerpt's file only) with a hunk whose new side occurs exactly once in the excerpt: its ``@@``
    new-side number then gives the row. Context lines at the ends of a hunk may be dropped (they
    can lie outside the excerpt); unparseable diffs are skipped. ``None`` when nothing fits."""
    from nextedit.text.patch import parse_patch

    keys = excerpt.split("\n")
    for diff in reversed(diffs):
        try:
            patch = parse_patch(diff)
        except ValueError:
            continue
        for fp in patch.files:
            for h in fp.hunks:
                side = [ln for ln in h.lines if ln.kind != "-"]
                if h.new_start is None or not side or all(ln.kind == " " for ln in h.lines):
                    continue
                lead = next((i for i, ln in enumerate(side) if ln.kind != " "), len(side))
                trail = next((i for i, ln in enumerate(reversed(side)) if ln.kind != " "), len(side))
                for k in range(min(lead, len(side) - 1) + 1):
                    for t in range(min(trail, len(side) - k - 1) + 1):
                        block = [ln.text for ln in side[k : len(side) - t]]
                        hits = [
                            i for i in range(len(keys) - len(block) + 1) if keys[i : i + len(block)] == block
                        ]
                        if len(hits) == 1 and h.new_start - 1 + k - hits[0] >= 0:
                            return h.new_start - 1 + k - hits[0]
    return None


def start_row_from_history(excerpt: str, edit_history: str, cursor_path: str) -> int | None:
    """:func:`infer_excerpt_start_row` over the ``cursor_path`` diffs of an ``edit_history`` text
    (Zed's ``--- a/… +++ b/…`` sections)."""
    if not edit_history.strip():
        return None
    from nextedit.context.history import split_edit_history
    from nextedit.text.patch import paths_match

    diffs = [s.hunks for s in split_edit_history(edit_history) if paths_match(s.path, cursor_path)]
    return infer_excerpt_start_row(excerpt, diffs)
