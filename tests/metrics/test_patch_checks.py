from nextedit.metrics.patch_checks import (
    braces_disbalance,
    change_groups,
    cursor_match,
    has_isolated_whitespace_changes,
    is_wrong_editable_region,
    token_changes,
)


def test_braces_spec():
    assert braces_disbalance("", "let x = { 1 + 2") == 1
    assert braces_disbalance("", "{ 1 + 2 )") == 2
    # only the imbalance the prediction adds counts
    assert braces_disbalance("f(", "f(x") == 0
    assert braces_disbalance("f(", "f(x)") == 0
    assert braces_disbalance("a", "a[[") == 2


def test_wrong_editable_region():
    shifted = "--- a/f\n+++ b/f\n@@ -1,5 +1,2 @@\n-a\n-b\n-c\n d\n+e\n"
    assert is_wrong_editable_region(shifted)
    two = "--- a/f\n+++ b/f\n@@ -1,5 +1,2 @@\n-a\n-b\n+c\n"
    assert not is_wrong_editable_region(two)
    ctx_first = "--- a/f\n+++ b/f\n@@ -1,5 +1,2 @@\n x\n-a\n-b\n-c\n"
    assert not is_wrong_editable_region(ctx_first)
    # only the first hunk counts
    second = "@@ -1,2 +1,2 @@\n x\n-y\n+z\n@@ -10,3 +10,0 @@\n-a\n-b\n-c\n"
    assert not is_wrong_editable_region(second)
    assert not is_wrong_editable_region("")


def test_isolated_whitespace():
    only_blank = "--- a/f\n+++ b/f\n@@ -1,2 +1,3 @@\n a\n+\n b\n"
    assert has_isolated_whitespace_changes(only_blank)
    # exempt when the added blank line is the cursor row (0-based row 1)
    assert not has_isolated_whitespace_changes(only_blank, cursor_row=1)
    assert has_isolated_whitespace_changes(only_blank, cursor_row=5)
    with_code = "@@ -1,2 +1,4 @@\n a\n+\n+x = 1\n b\n"
    assert not has_isolated_whitespace_changes(with_code)
    removed_blank = "@@ -1,3 +1,2 @@\n a\n-   \n b\n"
    assert has_isolated_whitespace_changes(removed_blank)
    assert not has_isolated_whitespace_changes("")


def test_change_groups_rows():
    groups = change_groups("@@ -10,3 +10,4 @@\n a\n-b\n+c\n+d\n e\n+f\n")
    assert [(g.removed, g.added, g.added_rows) for g in groups] == [(["b"], ["c", "d"], [10, 11]), ([], ["f"], [13])]


def test_token_changes():
    ins, dele = token_changes("@@ -1 +1 @@\n-total = qty\n+total = quantity\n")
    assert (ins, dele) == (1, 1)
    ins, dele = token_changes("@@ -1 +1,2 @@\n x\n+foo(bar)\n")
    assert (ins, dele) == (4, 0)


def test_cursor_match():
    assert cursor_match(5, 5) == (True, 0)
    assert cursor_match(5, 9) == (False, 4)
    assert cursor_match(None, 9) == (False, None)
    assert cursor_match(3, None) == (False, None)
