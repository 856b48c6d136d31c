"""Cursor-line SFT pairs: what the expected answer inserts at the cursor, or nothing when it cannot be
said as an insertion; the stage replaces the prompt and answer and counts what it drops."""

from __future__ import annotations

from nextedit.model.cursor_line import answer_prefix, cursor_block
from nextedit.schema.example import Example, PromptRecord
from nextedit.training.cursor_line_pairs import CursorLinePairsStage, line_target
from tests.model.test_cursor_line import PROMPT


def test_line_target_pairs() -> None:
    block = cursor_block(PROMPT)
    prefix = answer_prefix(block)
    # the expected answer completes the cursor line (cursor marker and closing tag ignored)
    done = "<|marker_2|>def g(y):\n    return os.path.join(y)<|user_cursor|>\n\n<|marker_3|><E>"
    assert line_target(PROMPT, done) == (PROMPT + prefix, "th.join(y)\n")
    # leaves the cursor line alone (edit elsewhere / no edit): end the line at once
    assert line_target(PROMPT, "<|marker_1|>def f(x):\n    return x + 1\n<|marker_2|><E>")[1] == "\n"
    assert line_target(PROMPT, "<|marker_2|><|marker_2|><E>")[1] == "\n"
    # rewrites what follows the cursor on its line: not an insertion, no pair
    mid = PROMPT.replace("os.pa<|user_cursor|>\n", "os.pa<|user_cursor|>rt\n")
    assert line_target(mid, "<|marker_2|>def g(y):\n    return os.path\n\n<|marker_3|>") is None
    assert line_target("no markers", "x") is None


def test_cursor_line_pairs_stage_replaces_the_pair_and_counts_drops() -> None:
    done = "<|marker_2|>def g(y):\n    return os.path.join(y)<|user_cursor|>\n\n<|marker_3|><E>"
    stage = CursorLinePairsStage()
    examples = [
        Example(name="a", prompt=PromptRecord(input=PROMPT, expected_output=done)),
        Example(name="b", prompt=PromptRecord(input="no markers", expected_output="x")),
        Example(name="c"),
    ]
    out = [stage.process(ex) for ex in examples]
    assert out[1] is None and out[2] is None
    assert (out[0].prompt.input, out[0].prompt.expected_output) == line_target(PROMPT, done)
    assert stage.stats.counters == {"completion": 1}
    assert sum(stage.stats.dropped.values()) == 2
