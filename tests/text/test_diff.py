import random

import pytest

from nextedit.text.diff import (
    CURSOR_MARKER,
    DiffHunk,
    TextEdit,
    apply_edits,
    granular_edits,
    line_diff,
    region_patch,
    split_lines,
    unified_diff,
)
from nextedit.text.histogram import _intern, _myers, diff_sequences
from nextedit.text.patch import apply_patch, apply_patch_with_cursor, parse_patch, strip_cursor


def _rebuild(a, b, regions):
    out, pa = [], 0
    for a0, a1, b0, b1 in regions:
        assert a0 >= pa and a1 >= a0 and b1 >= b0
        assert a[pa:a0] == b[len(out) : len(out) + a0 - pa]
        out += a[pa:a0]
        assert len(out) == b0
        out += b[b0:b1]
        pa = a1
    return out + a[pa:]


def _lcs_len(a, b):
    dp = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            dp[i + 1][j + 1] = dp[i][j] + 1 if x == y else max(dp[i][j + 1], dp[i + 1][j])
    return dp[-1][-1]


def test_split_lines():
    assert split_lines("") == []
    assert split_lines("a") == ["a"]
    assert split_lines("a\nb") == ["a\n", "b"]
    assert split_lines("a\r\n\n") == ["a\r\n", "\n"]
    assert split_lines("a\x0bb\x1cc\n") == ["a\x0bb\x1cc\n"]  # only \n splits (unlike str.splitlines)


def test_diff_sequences_reconstructs_and_regions_do_not_touch():
    rng = random.Random(11)
    for _ in range(1500):
        a = [rng.choice("abcde") for _ in range(rng.randint(0, 30))]
        b = [rng.choice("abcde") for _ in range(rng.randint(0, 30))]
        regions = diff_sequences(a, b)
        assert _rebuild(a, b, regions) == b
        for r1, r2 in zip(regions, regions[1:], strict=False):
            assert r2[0] > r1[1] or r2[2] > r1[3]


def test_myers_fallback_is_minimal():
    rng = random.Random(2)
    for _ in range(800):
        a = [rng.choice("abc") for _ in range(rng.randint(0, 18))]
        b = [rng.choice("abc") for _ in range(rng.randint(0, 18))]
        ia, ib = _intern(a, b)
        regions = _myers(ia, 0, len(ia), ib, 0, len(ib))
        assert _rebuild(a, b, regions) == b
        assert len(a) - sum(r[1] - r[0] for r in regions) == _lcs_len(a, b)


def test_repetitive_input_uses_fallback_correctly():
    a = ["x"] * 200
    b = ["x", "y"] * 100
    regions = diff_sequences(a, b)
    assert _rebuild(a, b, regions) == b
    assert sum(r[1] - r[0] for r in regions) == 100  # 100 x's deleted, none of the others


def test_histogram_anchors_on_unique_lines():
    # Histogram prefers the unique "}" + "fn b" block as anchor over the frequent blank lines, so the
    # inserted function shows up as one contiguous insertion.
    old = "fn a() {\n}\n\nfn b() {\n}\n"
    new = "fn a() {\n}\n\nfn c() {\n}\n\nfn b() {\n}\n"
    assert line_diff(old, new) == [DiffHunk(3, 3, 3, 6)]


def test_unified_diff_format():
    assert unified_diff("a\nb\nc\n", "a\nB\nc\n", "/x/y.py") == (
        "--- a/x/y.py\n+++ b/x/y.py\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"
    )
    assert unified_diff("same\n", "same\n", "f") == ""
    assert unified_diff("a\n", "b\n", "old.py", "new.py", headers=True).startswith(
        "--- a/old.py\n+++ b/new.py\n"
    )
    assert unified_diff("a\n", "b\n", "f", headers=False) == "@@ -1,1 +1,1 @@\n-a\n+b\n"


def test_unified_diff_empty_sides_use_git_numbers():
    assert unified_diff("", "a\nb\n", "f", headers=False) == "@@ -0,0 +1,2 @@\n+a\n+b\n"
    assert unified_diff("a\nb\n", "", "f", headers=False) == "@@ -1,2 +0,0 @@\n-a\n-b\n"
    # Pure insertion after line 2 with no context: "-2,0".
    assert unified_diff("a\nb\nc\n", "a\nb\nX\nc\n", "f", context=0, headers=False) == "@@ -2,0 +3,1 @@\n+X\n"


def test_unified_diff_start_rows_and_no_newline_marker():
    d = unified_diff("a\nb", "a\nc", "f", headers=False, old_start_row=9, new_start_row=19)
    assert d == (
        "@@ -10,2 +20,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n"
    )


def test_unified_diff_merges_hunks_whose_context_overlaps():
    old = "".join(f"l{i}\n" for i in range(30))
    close = old.replace("l5\n", "X\n").replace("l11\n", "Y\n")  # 5 unchanged lines between: merged
    far = old.replace("l5\n", "X\n").replace("l13\n", "Y\n")  # 7 unchanged lines between: split
    assert unified_diff(old, close, "f").count("@@ -") == 1
    assert unified_diff(old, far, "f").count("@@ -") == 2
    # real 1-based numbers with 3 lines of context
    assert "@@ -3,7 +3,7 @@" in unified_diff(old, old.replace("l5\n", "X\n"), "f")


WORDS = [
    "foo",
    "bar",
    "",
    "    x = 1",
    "}",
    "{",
    "é ünï",
    "  ",
    "return y",
    "a\r",
    "日本語",
    "# c",
    "-",
    "+",
    " ",
]


def _random_text(rng):
    lines = [rng.choice(WORDS) for _ in range(rng.randint(0, 25))]
    text = "\n".join(lines)
    return text + "\n" if lines and rng.random() < 0.6 else text


def _mutate(rng, text):
    lines = text.split("\n")
    for _ in range(rng.randint(0, 5)):
        op, i = rng.random(), rng.randint(0, len(lines))
        if op < 0.3:
            lines.insert(i, rng.choice(WORDS))
        elif op < 0.6 and i < len(lines):
            del lines[i]
        elif i < len(lines):
            lines[i] += rng.choice(WORDS)
    return "\n".join(lines)


@pytest.mark.parametrize("kwargs", [{}, {"context": 0}, {"headers": False}, {"context": 1}])
def test_unified_diff_round_trips_through_apply_patch(kwargs):
    rng = random.Random(1234)
    for _ in range(600):
        old = _random_text(rng)
        new = _mutate(rng, old)
        patch = unified_diff(old, new, "f", **kwargs)
        assert apply_patch(old, patch) == new, (old, new, patch)
        assert (patch == "") == (old == new)


def test_round_trip_with_start_rows_on_excerpt():
    rng = random.Random(99)
    for _ in range(200):
        old = _random_text(rng)
        new = _mutate(rng, old)
        patch = unified_diff(old, new, "f", context=0, old_start_row=40, new_start_row=40)
        assert apply_patch(old, patch, start_row=40) == new


def test_granular_edits_reproduce_new_text():
    rng = random.Random(7)
    for _ in range(600):
        old = _random_text(rng)
        new = _mutate(rng, old)
        edits = granular_edits(old, new)
        assert apply_edits(old, edits) == new
        for e in edits:
            assert e.old_start < e.old_end or e.new_text  # no no-op edits


def test_granular_edits_are_token_level_and_trimmed():
    assert granular_edits("    foo(old_name)\n", "    foo(new_name)\n") == [TextEdit(8, 11, "new")]
    assert granular_edits("let x = 42;\n", "let x = 100;\n") == [TextEdit(8, 10, "100")]
    # character offsets, not bytes
    assert granular_edits("é = oldValue\n", "é = newValue\n") == [TextEdit(4, 7, "new")]
    # pure insertion of a line stays a line insertion
    assert granular_edits("a\nb\n", "a\nX\nb\n") == [TextEdit(2, 2, "X\n")]


def test_granular_edits_large_hunks_are_not_token_diffed():
    old = "".join(f"value_{i} = compute({i})\n" for i in range(9))
    new = "".join(f"value_{i} = compute({i + 1})\n" for i in range(9))
    edits = granular_edits(old, new)
    assert len(edits) == 1  # 9 lines > 8: one trimmed line-level edit
    assert apply_edits(old, edits) == new
    small_old = "".join(f"value_{i} = compute({i})\n" for i in range(3))
    small_new = "".join(f"value_{i} = compute({i + 1})\n" for i in range(3))
    assert len(granular_edits(small_old, small_new)) == 3


def test_region_patch_whole_region_is_context_and_rows_are_real():
    excerpt = "import os\n\ndef f():\n    return 1\n\nprint(f())\n"
    start = excerpt.index("def")
    end = excerpt.index("\nprint") + 1
    new_region = "def f():\n    return 2\n\n"
    patch = region_patch(excerpt, 100, "/src/m.py", start, end, new_region)
    assert patch == (
        "--- a/src/m.py\n+++ b/src/m.py\n@@ -103,3 +103,3 @@\n def f():\n-    return 1\n+    return 2\n \n"
    )
    assert apply_patch(excerpt, patch) == excerpt[:start] + new_region + excerpt[end:]
    assert region_patch(excerpt, 0, "m.py", start, end, excerpt[start:end]) == ""


def test_region_patch_cursor_inline_and_recoverable():
    excerpt = "a = 1\nb = 2\nc = 3\n"
    start, end = 6, 18
    new_region = "b = 20\nc = 3\n"
    cursor = new_region.index("20") + 2
    patch = region_patch(excerpt, 0, "m.py", start, end, new_region, cursor_in_new=cursor)
    assert f"+b = 20{CURSOR_MARKER}\n" in patch
    clean, offset = strip_cursor(patch)
    assert CURSOR_MARKER not in clean
    assert offset == cursor  # hunk starts at the region start
    new_text, at = apply_patch_with_cursor(excerpt, patch)
    assert new_text == "a = 1\n" + new_region
    assert at == len("a = 1\n") + cursor


def test_region_patch_cursor_on_unchanged_line_becomes_marker_pair():
    excerpt = "x\ny\n"
    patch = region_patch(excerpt, 0, "m", 0, 4, "x\nY\n", cursor_in_new=1)
    assert "\n-x\n" in patch and "\n+x<|user_cursor|>\n" in patch
    new_text, at = apply_patch_with_cursor(excerpt, patch)
    assert (new_text, at) == ("x\nY\n", 1)


def test_region_patch_pads_missing_final_newline_and_unicode_byte_offsets():
    excerpt = "ä\nold"
    start = len("ä\n".encode())
    patch = region_patch(
        excerpt, 0, "m", start, len(excerpt.encode()), "new ü", cursor_in_new=len("new ü".encode())
    )
    assert "\\ No newline" not in patch
    assert "+new ü<|user_cursor|>\n" in patch
    assert parse_patch(patch).hunks[0].old_start == 2
