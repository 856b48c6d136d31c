"""§2.10 minimal edits in bytes and cursor mapping."""

import random

from nextedit.prompts.edits import apply_byte_edits, compute_edits, prediction_edits
from tests.prompts.test_roundtrip import rand_edit, rand_text


def test_single_token_insertion_and_cursor():
    edits, cur = compute_edits("let x = 1;\n", "let xy = 1;\n", cursor=6)
    assert [(e.start, e.end, e.new_text) for e in edits] == [(5, 5, "y")]
    assert (cur.anchor, cur.offset_in_insertion, cur.new_offset) == (5, 1, 6)
    # multibyte: offsets are bytes
    edits, cur = compute_edits("é = 1\n", "é = 12\n", cursor=7, offset=100)
    assert [(e.start, e.end, e.new_text) for e in edits] == [(106, 106, "2")]
    assert (cur.anchor, cur.offset_in_insertion) == (106, 1)
    # cursor after all edits maps back by the size delta
    edits, cur = compute_edits("a\nb\nc\n", "a\nXYZ\nc\n", cursor=8)
    assert cur.anchor == 6 and cur.offset_in_insertion == 0


def test_random_edits_apply_and_are_trimmed():
    rng = random.Random(5)
    for _ in range(200):
        old = rand_text(rng, 1, 30)
        new = rand_edit(rng, old)
        edits, _ = compute_edits(old, new)
        assert apply_byte_edits(old, edits) == new
        ob = old.encode()
        for e in edits:
            removed = ob[e.start : e.end].decode()
            added = e.new_text
            assert removed or added
            if removed and added:  # common characters at either end are trimmed away
                assert removed[0] != added[0] and removed[-1] != added[-1]
        if old == new:
            assert edits == []


def test_prediction_edits_pads_newlines():
    excerpt = "prefix\neditable\nsuffix"
    edits, cur = prediction_edits(excerpt, (7, 15), "editable2", 9)
    assert [(e.start, e.end, e.new_text) for e in edits] == [(15, 15, "2")]
    assert cur.anchor == 15 and cur.offset_in_insertion == 1
    assert prediction_edits(excerpt, (7, 15), "editable")[0] == []
