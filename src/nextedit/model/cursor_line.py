"""Cursor-line decoding for ``zeta2_1`` prompts: the model completes the line at the cursor, the
rest of the cursor's block is copied, and the answer is written in the format's own syntax.

A small model's weak point is copying a whole 6–16-line block faithfully; its strength is the next
few tokens of code. This decoder asks it only for that: the prompt is extended with the answer's
opening tag and the block text up to the cursor (exactly what a full answer would start with when
nothing before the cursor changes), the model continues until the end of the line, and the
completion is inserted at the cursor. Everything else in the block is kept, so the answer is
parseable by construction and never deletes the user's text. Generation statistics (log-probs)
cover the completion only, so the confidence gate judges just what the model added.

The result is an ordinary ``zeta2_1`` completion (``<|marker_k|>…<|user_cursor|>…<|marker_k+1|>``
and the end token), so parsing, the server's raw-prompt APIs and stock Zed all read it unchanged.
The training pairs for this decoder are made by :mod:`nextedit.training.cursor_line_pairs`.
"""

from __future__ import annotations

from dataclasses import dataclass

from nextedit.prompts.base import CURSOR_MARKER
from nextedit.prompts.markers import MARKER_RE, marker_tag

MAX_LINE_TOKENS = 48


@dataclass(frozen=True)
class CursorBlock:
    """The cursor's block in a marker prompt: its number and the text around the cursor."""

    number: int
    before: str  # block text from the opening tag to the cursor
    after: str  # block text from the cursor to the closing tag


def cursor_block(prompt: str) -> CursorBlock | None:
    """Find the block holding ``<|user_cursor|>`` (None when the prompt has no such block)."""
    at = prompt.rfind(CURSOR_MARKER)
    if at < 0:
        return None
    opening = None
    for m in MARKER_RE.finditer(prompt, 0, at):
        opening = m
    if opening is None:
        return None
    closing = MARKER_RE.search(prompt, at)
    if closing is None or int(closing.group(1)) != int(opening.group(1)) + 1:
        return None
    return CursorBlock(
        number=int(opening.group(1)),
        before=prompt[opening.end() : at],
        after=prompt[at + len(CURSOR_MARKER) : closing.start()],
    )


def answer_prefix(block: CursorBlock) -> str:
    """What the answer starts with: the opening tag and the block up to the cursor."""
    return marker_tag(block.number) + block.before


def line_completion(generated: str) -> str:
    """The part of the model's continuation that belongs to the cursor line."""
    return generated.split("\n", 1)[0]


def answer_text(block: CursorBlock, completion: str, end_marker: str) -> str:
    """The full ``zeta2_1`` answer that inserts ``completion`` at the cursor (no edit when empty)."""
    cursor = CURSOR_MARKER if completion else ""
    body = block.before + completion + cursor + block.after
    return marker_tag(block.number) + body + marker_tag(block.number + 1) + end_marker
