"""Zeta2.1 = ``V0318SeedMultiRegions`` (zeta.md §2.7, §2.8): Seed-Coder SPM with byte-exact
``<|marker_N|>`` block boundaries over the editable region (blocks of 6–16 lines).

Cursor-file body: ``{context before}<|marker_1|>block1<|marker_2|>…<|marker_m|>\\n``.
Output: ``<|marker_i|>{new text of blocks i..j-1}<|marker_j|><[end▁of▁sentence]>``; the same
marker twice means no edit. Stop token ``<[end▁of▁sentence]>``.
"""

from __future__ import annotations

from typing import ClassVar

from nextedit.context.excerpt_ranges import CursorRegion
from nextedit.prompts.base import CURSOR_MARKER, PromptParts
from nextedit.prompts.markers import (
    MARKER_RE,
    apply_marker_span,
    compute_marker_offsets_v0318,
    encode_from_old_and_new_v0318,
    marker_tag,
    write_marked_region,
)
from nextedit.prompts.zeta2 import (
    FILE_MARKER,
    FIM_MIDDLE,
    FIM_PREFIX,
    FIM_SUFFIX,
    NO_EDITS,
    SEED_EOS,
    SeedCoderFormat,
    cursor_in_editable,
)

MAX_MARKERS = 32


class Zeta2_1Format(SeedCoderFormat):  # noqa: N801 (mirrors the product name)
    """``V0318SeedMultiRegions``."""

    name: ClassVar[str] = "zeta2_1"
    zeta_format: ClassVar[str] = "V0318SeedMultiRegions"
    special_tokens: ClassVar[tuple[str, ...]] = (
        FIM_SUFFIX, FIM_PREFIX, FIM_MIDDLE, FILE_MARKER, SEED_EOS, CURSOR_MARKER, NO_EDITS,
        *(marker_tag(k) for k in range(1, MAX_MARKERS + 1)),
    )  # fmt: skip
    line_tokens: ClassVar[frozenset[str]] = frozenset({NO_EDITS})
    no_edit_uses_request_cursor: ClassVar[bool] = True
    stop_tokens: ClassVar[tuple[str, ...]] = (SEED_EOS,)
    end_marker: ClassVar[str] = SEED_EOS

    def cursor_body(self, region: CursorRegion) -> str:
        s, _ = region.editable_in_context
        ctx = region.context_text.encode()
        editable = region.editable_text
        marked = write_marked_region(
            editable, compute_marker_offsets_v0318(editable), cursor_in_editable(region)
        )
        return ctx[:s].decode() + marked + "\n"

    def parse_region(self, region: CursorRegion, raw_output: str) -> tuple[str, int | None]:
        text = raw_output
        i = text.find(SEED_EOS)
        if i >= 0:
            text = text[:i]
        old = region.editable_text
        if text.strip() == NO_EDITS:
            return old, None
        return apply_marker_span(old, compute_marker_offsets_v0318(old), text)

    def encode_output(self, old_region: str, new_region: str, cursor_in_new: int | None) -> str:
        return encode_from_old_and_new_v0318(old_region, new_region, cursor_in_new, SEED_EOS)

    def _cursor_anchor(self, body: str) -> int:
        i = body.rfind(marker_tag(1))
        if i < 0:
            raise ValueError("not a zeta2_1 prompt: missing <|marker_1|>")
        return i

    def parse_prompt(self, prompt: str) -> PromptParts:
        suffix, related, history, path, file_body = self._split_prompt(prompt)
        i = file_body.rfind(marker_tag(1))
        tags = list(MARKER_RE.finditer(file_body, i))
        if not file_body.endswith("\n") or len(tags) < 2:
            raise ValueError("not a zeta2_1 prompt: marked region malformed")
        prefix = file_body[:i]
        marked = file_body[i : tags[-1].end()]
        editable = MARKER_RE.sub("", marked)
        return self._parts(prompt, prefix, editable, suffix, related, history, path)
