"""§2.8 marker offsets (hand-computed cases), marked regions, span parsing, V0318 targets."""

import pytest

from nextedit.prompts.base import ParseError
from nextedit.prompts.markers import (
    apply_marker_span,
    compute_marker_offsets_v0318,
    compute_marker_offsets_with_limits,
    encode_from_old_and_new_v0318,
    write_marked_region,
)

EOS = "<[end▁of▁sentence]>"


def starts(lines: list[str]) -> list[int]:
    """Byte offset of each line start when ``lines`` are joined with \\n."""
    out, pos = [], 0
    for line in lines:
        out.append(pos)
        pos += len(line.encode()) + 1
    return out


def test_empty_and_short():
    assert compute_marker_offsets_v0318("") == [0, 0]
    assert compute_marker_offsets_v0318("a\nb\n") == [0, 4]
    assert compute_marker_offsets_v0318("editable") == [0, 8]
    assert compute_marker_offsets_v0318("é") == [0, 2]


def test_blank_line_split():
    lines = [f"l{i}" for i in range(7)] + [""] + [f"m{i}" for i in range(7)]
    text = "\n".join(lines) + "\n"
    assert compute_marker_offsets_v0318(text) == [0, starts(lines)[8], len(text)]
    # fewer than MIN lines would follow the split: no split
    lines2 = [f"l{i}" for i in range(7)] + [""] + [f"m{i}" for i in range(5)]
    text2 = "\n".join(lines2)
    assert compute_marker_offsets_v0318(text2) == [0, len(text2)]
    # block not yet MIN lines long at the blank line: no split
    lines3 = [f"l{i}" for i in range(4)] + [""] + [f"m{i}" for i in range(9)]
    assert compute_marker_offsets_v0318("\n".join(lines3)) == [0, len("\n".join(lines3))]


def test_blank_split_nudged_past_structural_tail():
    lines = [f"l{i}" for i in range(7)] + ["", "}", "foo"] + [f"m{i}" for i in range(7)]
    text = "\n".join(lines)
    assert compute_marker_offsets_v0318(text) == [0, starts(lines)[9], len(text)]


def test_hard_cap_and_nudge():
    lines = ["a = 1"] * 40
    text = "\n".join(lines)
    s = starts(lines)
    assert compute_marker_offsets_v0318(text) == [0, s[16], s[32], len(text)]
    lines = ["a = 1"] * 40
    lines[16], lines[17] = "}", "  return;"
    s = starts(lines)
    # cap at 16 nudged to the first good start (18); next cap 16 lines later (34)
    assert compute_marker_offsets_v0318("\n".join(lines)) == [0, s[18], s[34], len("\n".join(lines))]
    lines = ["a"] * 16 + ["}", ")", "]", "end", "break;"] + ["a"] * 3
    s = starts(lines)
    # no good start within 5 lines: split at the cap line itself
    assert compute_marker_offsets_v0318("\n".join(lines)) == [0, s[16], len("\n".join(lines))]


def test_other_limits():
    lines = [f"x{i}" for i in range(10)]
    text = "\n".join(lines)
    s = starts(lines)
    assert compute_marker_offsets_with_limits(text, 3, 8) == [0, s[8], len(text)]
    assert compute_marker_offsets_with_limits(text, 3, 32) == [0, len(text)]


def test_write_marked_region_cursor_in_first_containing_block():
    text = "ab\ncd\n"
    offs = [0, 3, 6]
    assert write_marked_region(text, offs, 3) == "<|marker_1|>ab\n<|user_cursor|><|marker_2|>cd\n<|marker_3|>"
    assert write_marked_region(text, offs, None) == "<|marker_1|>ab\n<|marker_2|>cd\n<|marker_3|>"


def test_apply_marker_span():
    old = "ab\ncd\nef\n"
    offs = [0, 3, 6, 9]
    assert apply_marker_span(old, offs, "<|marker_2|>CD\n<|marker_3|>") == ("ab\nCD\nef\n", None)
    assert apply_marker_span(
        old, offs, "<|marker_1|>x<|user_cursor|>\n<|marker_2|>y\n<|marker_3|>" + EOS
    ) == (
        "x\ny\nef\n",
        1,
    )
    assert apply_marker_span(old, offs, "<|marker_2|><|marker_2|>") == (old, None)
    for bad in ("", "no markers", "<|marker_1|>only one", "<|marker_9|>x<|marker_10|>", "<|marker_3|>x<|marker_1|>",
                "<|marker_0|>x<|marker_1|>"):  # fmt: skip
        with pytest.raises(ParseError):
            apply_marker_span(old, offs, bad)


def test_encode_v0318_examples():
    lines = [f"line {i}" for i in range(30)]
    old = "\n".join(lines) + "\n"
    offs = compute_marker_offsets_v0318(old)
    assert len(offs) == 3  # 0, start of line 16, end
    new = old.replace("line 3\n", "line three\n")
    out = encode_from_old_and_new_v0318(old, new, None, EOS)
    assert out == "<|marker_1|>" + new[: new.index("line 16")] + "<|marker_2|>" + EOS
    # identical: nearest marker to the cursor, twice
    assert encode_from_old_and_new_v0318(old, old, offs[1] + 2, EOS) == "<|marker_2|><|marker_2|>" + EOS
    assert encode_from_old_and_new_v0318(old, old, None, EOS) == "<|marker_1|><|marker_1|>" + EOS
    # a change right at the end widens to the previous marker
    new2 = old + "tail\n"
    out2 = encode_from_old_and_new_v0318(old, new2, len(new2.encode()), EOS)
    assert out2.startswith("<|marker_2|>") and out2.endswith("tail\n<|user_cursor|><|marker_3|>" + EOS)
    assert apply_marker_span(old, offs, out2) == (new2, len(new2.encode()))
