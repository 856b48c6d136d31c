import pytest

from nextedit.text.diff import unified_diff
from nextedit.text.patch import (
    PatchError,
    apply_patch,
    apply_patch_with_cursor,
    is_empty_patch,
    parse_patch,
    patch_files,
    paths_match,
    strip_cursor,
)

# §4.4: the cursor-position excerpt (marker line removed, trailing newline trimmed) and its expected patch.
EXCERPT = (
    "def restock(item, quantity):\n"
    "    if qty <= 0:\n"
    '        raise ValueError("qty must be positive")\n'
    "    item.count += qty\n"
    "    return item"
)
EXPECTED = (
    "def restock(item, quantity):\n"
    "    if quantity <= 0:\n"
    '        raise ValueError("quantity must be positive")\n'
    "    item.count += quantity\n"
    "    return item"
)
PATCH_44 = """--- a/inventory/stock.py
+++ b/inventory/stock.py
@@ -12,5 +12,5 @@
 def restock(item, quantity):
-    if qty <= 0:
-        raise ValueError("qty must be positive")
-    item.count += qty
+    if quantity <= 0:
+        raise ValueError("quantity must be positive")
+    item.count += quantity
     return item
"""


def test_section_4_4_expected_patch_applies_to_excerpt():
    # Wrong (file) line numbers relative to the excerpt: located by content; final newline state kept.
    assert apply_patch(EXCERPT, PATCH_44) == EXPECTED
    assert apply_patch(EXCERPT, PATCH_44, "inventory/stock.py") == EXPECTED
    assert patch_files(PATCH_44) == ["inventory/stock.py"]


def test_inline_cursor_marker():
    patch = PATCH_44.replace("+    if quantity <= 0:", "+    if quantity<|user_cursor|> <= 0:")
    clean, offset = strip_cursor(patch)
    assert clean == PATCH_44
    assert offset == len("def restock(item, quantity):\n    if quantity")
    text, cursor = apply_patch_with_cursor(EXCERPT, patch)
    assert text == EXPECTED
    assert text[:cursor] == "def restock(item, quantity):\n    if quantity"


def test_legacy_cursor_lines():
    # '^' at byte 15 of the marker line → column 14 (the '#' stands where the diff prefix is).
    patch = PATCH_44.replace(
        '+        raise ValueError("quantity must be positive")\n',
        '+        raise ValueError("quantity must be positive")\n#             ^[CURSOR_POSITION]\n',
    )
    clean, offset = strip_cursor(patch)
    assert clean == PATCH_44
    text, cursor = apply_patch_with_cursor(EXCERPT, patch)
    assert text == EXPECTED
    assert text[:cursor].endswith("\n        raise")
    # "<" form → column 0 of the line above; older [CURSOR] / [SELECTION] tags.
    lt = PATCH_44.replace(
        "+    item.count += quantity\n", "+    item.count += quantity\n# <[CURSOR_POSITION]\n"
    )
    text, cursor = apply_patch_with_cursor(EXCERPT, lt)
    assert text[cursor:].startswith("    item.count += quantity")
    old_style = PATCH_44.replace("+    if quantity <= 0:\n", "+    if quantity <= 0:\n#  ----^[SELECTION]\n")
    text, cursor = apply_patch_with_cursor(EXCERPT, old_style)
    assert text[:cursor].endswith("\n    if")  # "^" at byte 7 → column 6
    assert strip_cursor(old_style)[0] == PATCH_44
    # No marker → no cursor; other '#' lines are ignored.
    assert apply_patch_with_cursor(EXCERPT, PATCH_44.replace(" return item\n", " return item\n# note\n")) == (
        EXPECTED,
        None,
    )


def test_cursor_offset_is_in_bytes():
    text, cursor = apply_patch_with_cursor("é = 1\n", "-é = 1\n+é = 2<|user_cursor|>\n")
    assert text == "é = 2\n"
    assert cursor == len("é = 2".encode())


def test_missing_headers_and_missing_hunk_header():
    text = "a\nb\nc\nd\n"
    assert apply_patch(text, " b\n-c\n+C\n") == "a\nb\nC\nd\n"
    assert apply_patch(text, "@@ @@\n b\n-c\n+C\n") == "a\nb\nC\nd\n"
    assert apply_patch(text, "--- a/f\n+++ b/f\n b\n-c\n+C\n") == "a\nb\nC\nd\n"


def test_wrong_line_numbers_are_ignored_for_unique_context():
    text = "".join(f"line {i}\n" for i in range(20))
    patch = "@@ -90,3 +90,3 @@\n line 4\n-line 5\n+LINE 5\n line 6\n"
    assert apply_patch(text, patch) == text.replace("line 5\n", "LINE 5\n")


def test_blank_context_lines_without_leading_space():
    text = "def f():\n    pass\n\n\ndef g():\n    pass\n"
    patch = " def f():\n     pass\n\n\n def g():\n-    pass\n+    return 1\n"
    assert apply_patch(text, patch) == text.replace(
        "    pass\n\n\ndef g():\n    pass", "    pass\n\n\ndef g():\n    return 1"
    )
    # Trailing unspaced blank lines (e.g. end of a markdown block) are not required to match...
    assert apply_patch("x\ny", "-x\n+X\n y\n\n\n") == "X\ny"
    # ...unless the @@ count says they belong to the hunk.
    assert parse_patch("@@ -1,3 +1,3 @@\n-x\n+X\n y\n\n").hunks[0].old_lines == ["x", "y", ""]


def test_whitespace_tolerant_context_keeps_text_version():
    text = "a  \nb\nc\n"
    assert apply_patch(text, " a\n-b\n+B\n") == "a  \nB\nc\n"


def test_ambiguity_resolved_by_line_numbers():
    text = "x = 1\ny = 2\n\nx = 1\ny = 2\n"
    first = "@@ -1,2 +1,2 @@\n x = 1\n-y = 2\n+y = 3\n"
    second = "@@ -4,2 +4,2 @@\n x = 1\n-y = 2\n+y = 3\n"
    assert apply_patch(text, first) == "x = 1\ny = 3\n\nx = 1\ny = 2\n"
    assert apply_patch(text, second) == "x = 1\ny = 2\n\nx = 1\ny = 3\n"
    # Slightly wrong numbers still pick the nearest match.
    assert apply_patch(text, second.replace("-4,2 +4,2", "-5,2 +5,2")) == "x = 1\ny = 2\n\nx = 1\ny = 3\n"
    # start_row: numbers are file rows, the text is an excerpt starting at row 100.
    assert apply_patch(text, second.replace("-4,2 +4,2", "-104,2 +104,2"), start_row=100).endswith("y = 3\n")


def test_drift_of_previous_hunk_disambiguates_next_hunk():
    block = "x = 1\ny = 2\n"
    text = "head\n" + block + "mid\n" + block + "\n" * 20 + block
    # Numbers are off by +50 for both hunks: the first (unique) hunk reveals the drift.
    patch = "@@ -52,1 +52,1 @@\n-head\n+HEAD\n@@ -56,2 +56,2 @@\n mid\n x = 1\n-y = 2\n+y = 3\n"
    out = apply_patch(text, patch)
    assert out == "HEAD\n" + block + "mid\nx = 1\ny = 3\n" + "\n" * 20 + block


def test_ambiguous_without_numbers_raises_with_hunk_and_reason():
    text = "x = 1\ny = 2\n\nx = 1\ny = 2\n"
    with pytest.raises(PatchError) as err:
        apply_patch(text, " x = 1\n-y = 2\n+y = 3\n")
    assert "hunk #1" in str(err.value) and "ambiguous: 2 matches" in str(err.value)
    assert err.value.hunk_index == 0


def test_failing_hunk_raises_and_nothing_is_applied():
    text = "a\nb\nc\nd\ne\nf\ng\nh\n"
    patch = "--- a/f.txt\n+++ b/f.txt\n@@ -1,2 +1,2 @@\n a\n-b\n+B\n@@ -6,2 +6,2 @@\n f\n-zzz\n+G\n"
    with pytest.raises(PatchError) as err:
        apply_patch(text, patch)
    msg = str(err.value)
    assert msg == "hunk #2 (@@ -6,2 +6,2 @@) of f.txt: context not found"
    assert err.value.reason == "context not found" and err.value.header == "@@ -6,2 +6,2 @@"
    # lenient mode skips the failing hunk
    assert apply_patch(text, patch, lenient=True) == text.replace("b\n", "B\n")


def test_no_newline_at_end_of_file_markers():
    assert apply_patch("a\nb", "@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n") == "a\nc\n"
    assert apply_patch("a\nb\n", "@@ -1,2 +1,2 @@\n a\n-b\n+c\n\\ No newline at end of file\n") == "a\nc"
    # Without markers, the text's missing final newline is kept.
    assert apply_patch("a\nb", " a\n-b\n+c\n") == "a\nc"
    assert apply_patch("", "+x\n") == "x\n"


def test_empty_patch_and_is_empty_patch():
    assert apply_patch("abc\n", "") == "abc\n"
    assert is_empty_patch("")
    assert is_empty_patch("--- a/f\n+++ b/f\n")
    assert is_empty_patch("--- a/f\n+++ b/f\n@@ -1,1 +1,1 @@\n")
    assert not is_empty_patch("--- a/f\n+++ b/f\n@@ -1,1 +1,1 @@\n-a\n+b\n")


def test_git_headers_comments_and_multi_file_patches():
    patch = (
        "// Rename the helper\n"
        "diff --git a/src/one.py b/src/one.py\n"
        "index 1234567..89abcde 100644\n"
        "--- a/src/one.py\n"
        "+++ b/src/one.py\n"
        "@@ -1,2 +1,2 @@\n"
        "-def helper():\n"
        "+def assist():\n"
        "     pass\n"
        "// Update the caller\n"
        "diff --git a/src/two.py b/src/two.py\n"
        "--- a/src/two.py\n"
        "+++ b/src/two.py\n"
        "@@ -3 +3 @@\n"
        "-helper()\n"
        "+assist()\n"
    )
    assert patch_files(patch) == ["src/one.py", "src/two.py"]
    parsed = parse_patch(patch)
    assert [len(f.hunks) for f in parsed.files] == [1, 1]
    assert parsed.files[1].hunks[0].old_count == 1
    one = "def helper():\n    pass\n"
    two = "import one\n\nhelper()\n"
    assert apply_patch(one, patch, "src/one.py") == "def assist():\n    pass\n"
    assert apply_patch(two, patch, "src/two.py") == "import one\n\nassist()\n"
    # First path component may be dropped on either side (repo-name prefixes).
    assert apply_patch(two, patch, "repo/src/two.py") == "import one\n\nassist()\n"
    assert apply_patch(one, patch, "other.py") == one  # untouched file
    with pytest.raises(PatchError, match="2 files"):
        apply_patch(one, patch)


def test_paths_match():
    assert paths_match("/a/b.py", "a/b.py")
    assert paths_match("zed/crates/x.rs", "crates/x.rs")
    assert paths_match("crates/x.rs", "zed/crates/x.rs")
    assert not paths_match("a/b.py", "c/b.py")


def test_new_file_from_dev_null():
    patch = "--- /dev/null\n+++ b/new.txt\n@@ -0,0 +1,2 @@\n+hello\n+world\n"
    assert patch_files(patch) == ["new.txt"]
    assert apply_patch("", patch, "new.txt") == "hello\nworld\n"


def test_crlf_text_round_trip():
    old = "a\r\nb\r\nc\r\n"
    new = "a\r\nB\r\nc\r\n"
    assert apply_patch(old, unified_diff(old, new, "f")) == new


def test_reversed_patch_undoes():
    old = "one\ntwo\nthree\nfour\n"
    new = "one\n2\nthree\nfour\nfive\n"
    patch = parse_patch(unified_diff(old, new, "f", context=1))
    assert apply_patch(new, patch.reversed()) == old
    assert apply_patch(old, patch.to_text()) == new


def test_headerless_insertion_without_context_needs_numbers():
    with pytest.raises(PatchError, match="no context lines"):
        apply_patch("a\n", "+b\n")
    assert apply_patch("a\nc\n", "@@ -1,0 +2,1 @@\n+b\n") == "a\nb\nc\n"


def test_counted_hunk_keeps_lines_that_look_like_file_headers():
    # A removed SQL comment "-- old" and an added "++ new" inside a hunk whose counts are not used up.
    patch = "@@ -1,3 +1,3 @@\n a\n--- old comment\n+++ new comment\n b\n"
    assert apply_patch("a\n-- old comment\nb\n", patch) == "a\n++ new comment\nb\n"
    # ...while a real file header after a complete hunk starts a new file.
    two = "--- a/x\n+++ b/x\n@@ -1,1 +1,1 @@\n-a\n+b\n--- a/y\n+++ b/y\n@@ -1,1 +1,1 @@\n-c\n+d\n"
    assert patch_files(two) == ["x", "y"]


def test_legacy_cursor_line_with_other_comment_prefix():
    patch = "@@ -1,3 +1,3 @@\n fn main() {\n-    let x = 1;\n+    let xy = 1;\n//         ^[CURSOR_POSITION]\n }\n"
    text, cursor = apply_patch_with_cursor("fn main() {\n    let x = 1;\n}\n", patch)
    assert text == "fn main() {\n    let xy = 1;\n}\n"
    assert text[:cursor] == "fn main() {\n    let xy"
    assert "CURSOR" not in strip_cursor(patch)[0]


def test_cursor_is_mapped_through_later_sections_of_the_same_file():
    patch = "--- a/f\n+++ b/f\n@@ -2,1 +2,1 @@\n-b\n+B<|user_cursor|>\n--- a/f\n+++ b/f\n@@ -1,1 +1,1 @@\n-a\n+aaa\n"
    text, cursor = apply_patch_with_cursor("a\nb\n", patch)
    assert text == "aaa\nB\n"
    assert text[:cursor] == "aaa\nB"


def test_parser_never_raises_and_apply_only_raises_patch_error():
    import random

    rng = random.Random(5)
    pieces = [
        "--- a/f", "+++ b/f", "@@ -1,2 +1,2 @@", "@@ @@", "@@ -3 +3 @@", " a", "-a", "+b", "",
        "\\ No newline at end of file", "# ^[CURSOR_POSITION]", "// group", "diff --git a/f b/f",
        "index 1..2", "+x<|user_cursor|>", " <|user_cursor|>", "-", "+", " ", "junk", "#  <[CURSOR]",
    ]  # fmt: skip
    for _ in range(2000):
        patch = "\n".join(rng.choice(pieces) for _ in range(rng.randint(0, 12))) + rng.choice(["", "\n"])
        parsed = parse_patch(patch)
        strip_cursor(patch)
        parse_patch(parsed.to_text())
        for text in ("", "a\n", "a\nb", "a\na\nb\n"):
            try:
                new, cursor = apply_patch_with_cursor(text, patch, "f")
            except PatchError:
                continue
            assert cursor is None or 0 <= cursor <= len(new.encode())
