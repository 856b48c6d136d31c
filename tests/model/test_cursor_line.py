"""Cursor-line decoding: the answer is always a parseable zeta2_1 span that only inserts at the
cursor; the confident-prefix cut and the gate shorten or silence it."""

from __future__ import annotations

from pathlib import Path

import pytest

from nextedit.model.cursor_line import answer_prefix, answer_text, cursor_block, line_completion

PROMPT = (
    "<[fim-suffix]><[fim-prefix]><filename>a.py\n"
    "import os\n<|marker_1|>def f(x):\n    return x\n<|marker_2|>def g(y):\n    return os.pa<|user_cursor|>\n"
    "\n<|marker_3|>\n<[fim-middle]>"
)


def test_cursor_block_and_answer() -> None:
    block = cursor_block(PROMPT)
    assert block is not None and block.number == 2
    assert block.before == "def g(y):\n    return os.pa" and block.after == "\n\n"
    assert answer_prefix(block) == "<|marker_2|>def g(y):\n    return os.pa"
    assert line_completion("th.join(y)\n    more") == "th.join(y)"
    assert answer_text(block, "th", "<E>") == "<|marker_2|>def g(y):\n    return os.path<|user_cursor|>\n\n<|marker_3|><E>"
    assert answer_text(block, "", "") == "<|marker_2|>" + block.before + block.after + "<|marker_3|>"


def test_cursor_block_needs_a_cursor_between_consecutive_markers() -> None:
    assert cursor_block("<|marker_1|>abc<|marker_2|>") is None
    assert cursor_block("<|user_cursor|><|marker_1|>abc<|marker_2|>") is None


@pytest.mark.parametrize("cut", [None, -0.5, 0.0])
def test_local_provider_cursor_line_answers_parse_and_only_insert(tiny_model_dir: Path, cut: float | None) -> None:
    pytest.importorskip("torch")
    from nextedit.context.example_request import example_request
    from nextedit.io.inputs import read_examples
    from nextedit.predict.local import LocalModel
    from nextedit.predict.model_provider import ModelProvider

    root = Path(__file__).resolve().parents[2]
    model = LocalModel(tiny_model_dir, "zeta2_1", gate=False, decode="cursor_line")
    model.line_cut_logprob = cut
    provider = ModelProvider(model)
    for ex in list(read_examples([root / "examples"]))[:6]:
        req = example_request(ex)
        pred = provider.predict(req)
        assert pred.error is None  # parseable by construction
        assert pred.stats["decode"] == "cursor_line"
        s, e = pred.editable_range
        old = req.excerpt_bytes()[s:e].decode()
        cursor = req.cursor_offset_in_excerpt - s
        if pred.output != old:  # an insertion at the cursor, nothing else
            head = old.encode()[:cursor].decode()
            tail = old.encode()[cursor:].decode()
            assert pred.output.startswith(head) and pred.output.endswith(tail)
            inserted = pred.output[len(head) : len(pred.output) - len(tail)]
            assert inserted and "\n" not in inserted
        if cut == 0.0:  # no token is that sure: nothing is inserted
            assert pred.output == old
