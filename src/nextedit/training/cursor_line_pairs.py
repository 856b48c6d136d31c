"""Training data for cursor-line decoding (:mod:`nextedit.model.cursor_line`): SFT pairs that teach
the model to complete the cursor line of a ``zeta2_1`` prompt, and the ``cursor-line-pairs`` stage
that turns format-prompt output into them.
"""

from __future__ import annotations

from nextedit.model.cursor_line import answer_prefix, cursor_block
from nextedit.pipeline.stage import Stage
from nextedit.prompts.base import CURSOR_MARKER
from nextedit.prompts.markers import MARKER_RE
from nextedit.schema.example import Example


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
