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
"""

from __future__ import annotations

from dataclasses import dataclass

from nextedit.pipeline.stage import Stage
from nextedit.prompts.base import CURSOR_MARKER
from nextedit.prompts.markers import MARKER_RE, marker_tag
from nextedit.schema.example import Example

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


def line_target(prompt: str, expected_output: str) -> tuple[str, str] | None:
    """SFT pair for cursor-line decoding from a ``zeta2_1`` example: ``(prompt + answer prefix,
    completion + "\\n")``. The completion is what the expected answer inserts at the cursor before
    the rest of the cursor line; it is empty when the expected answer leaves the cursor line alone
    or edits elsewhere (then the model should end the line at once). None when the prompt has no
    cursor block or the expected answer rewrites the rest of the line (an insertion cannot say it).
    """
    block = cursor_block(prompt)
    if block is None:
        return None
    prefix = answer_prefix(block)
    rest = block.after.split("\n", 1)[0]
    expected = expected_output.replace(CURSOR_MARKER, "")
    completion = ""
    if expected.startswith(prefix):
        line = MARKER_RE.split(expected[len(prefix) :].split("\n", 1)[0], maxsplit=1)[0]
        if line != rest:
            if not line.endswith(rest):
                return None
            completion = line[: len(line) - len(rest)]
    return prompt + prefix, completion + "\n"


class CursorLinePairsStage(Stage):
    """``cursor-line-pairs``: replace each example's ``prompt.input`` / ``expected_output`` with its
    cursor-line SFT pair (:func:`line_target`); examples without one are dropped (counted)."""

    name = "cursor-line-pairs"

    def process(self, example: Example) -> Example | None:
        p = example.prompt
        if p is None or p.input is None or p.expected_output is None:
            self.stats.drop("no zeta2_1 prompt / expected output")
            return None
        pair = line_target(p.input, p.expected_output)
        if pair is None:
            self.stats.drop("no cursor block, or the rest of the line is rewritten")
            return None
        p.input, p.expected_output = pair
        self.stats.count("empty completion" if pair[1] == "\n" else "completion")
        return example
