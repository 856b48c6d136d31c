import pytest

from nextedit.metrics.reversal import (
    HistoryEvent,
    compute_reversal_overlap,
    compute_reversal_ratio,
    events_from_edit_history,
    events_from_prompt_inputs,
    paths_match,
    reverse_apply_hunks,
)

# zeta.md §5.4 test table: original -> current -> predicted : reversed/total
TABLE = [
    ("a\nb\nc\n", "a\nnew line\nb\nc\n", "a\nb\nc\n", 9, 9),
    ("a\ndeleted\nb\n", "a\nb\n", "a\ndeleted\nb\n", 8, 8),
    ("hello beautiful world", "hello world", "hello beautiful world", 10, 10),
    ("foo", "", "bar", 0, 3),
    ("the quick brown fox", "the slow brown fox", "the fast brown fox", 4, 8),
    ("", "epr", "eprintln!()", 0, 8),
    ("", "my_function()", "test_my_function()", 0, 5),
    ("", "abc", "xyz", 3, 6),
    ("", "abc", "cba", 3, 6),
    ("", "abcd", "axbx", 4, 8),
    ("", "vec.pu", "vec.push(item)", 0, 8),
    ("", "use std::col", "use std::collections::HashMap", 0, 17),
    ("", "hello", "world", 5, 10),
    ("", "mistake", "", 7, 7),
    ("", "<dv", "<div>", 0, 2),
    ("from", "ifrom", "from", 1, 1),
    ('print("Hello, World!")', 'sys.("Hello, World!")', 'sys.stdout.write("Hello, World!\\n")', 0, 14),
]


@pytest.mark.parametrize("original,current,predicted,reversed_,total", TABLE)
def test_spec_table(original, current, predicted, reversed_, total):
    r = compute_reversal_overlap(original, current, predicted)
    assert (r.reversed_chars, r.total_chars) == (reversed_, total)
    assert r.ratio == (reversed_ / total if total else 0.0)


def test_no_prediction_change_is_zero():
    r = compute_reversal_overlap("a", "ab", "ab")
    assert r.total_chars == 0 and r.ratio == 0.0


HISTORY = (
    "--- a/inventory/stock.py\n"
    "+++ b/inventory/stock.py\n"
    "@@ -10,6 +10,6 @@\n"
    " \n"
    " \n"
    "-def restock(item, qty):\n"
    "+def restock(item, quantity):\n"
    "     if qty <= 0:\n"
    '         raise ValueError("qty must be positive")\n'
    "     item.count += qty\n"
)
EXCERPT = 'def restock(item, quantity):\n    if qty <= 0:\n        raise ValueError("qty must be positive")\n    item.count += qty\n    return item\n'


def test_events_from_edit_history():
    hist = "--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a\n+b\n// User accepted prediction:\n" + HISTORY
    events = events_from_edit_history(hist)
    assert [(e.path, e.predicted) for e in events] == [("x.py", False), ("inventory/stock.py", True)]
    assert events[0].diff == "@@ -1 +1 @@\n-a\n+b\n"
    assert events[1].diff.startswith("@@ -10,6 +10,6 @@\n")


def test_events_from_prompt_inputs():
    pi = {"events": [{"event": "BufferChange", "path": "r/a.py", "diff": "@@ -1 +1 @@\n-a\n+b\n", "predicted": True}]}
    (e,) = events_from_prompt_inputs(pi)
    assert e.path == "r/a.py" and e.predicted


def test_paths_match():
    assert paths_match("zed/crates/a.rs", "crates/a.rs")
    assert paths_match("crates/a.rs", "zed/crates/a.rs")
    assert paths_match("a.rs", "a.rs")
    assert not paths_match("x/a.rs", "y/a.rs")


def test_reverse_apply_trims_context_outside_excerpt():
    original = reverse_apply_hunks(EXCERPT, HISTORY.split("\n", 2)[2])
    assert original.startswith("def restock(item, qty):\n    if qty")
    assert original.count("\n") == EXCERPT.count("\n")


def test_reverse_apply_uses_rows():
    current = "x = 1\ny = 2\nx = 1\ny = 2\n"
    diff = "@@ -3,2 +3,2 @@\n-x = 0\n+x = 1\n y = 2\n"
    # excerpt starts at buffer row 0: hunk at row 2 (second occurrence)
    assert reverse_apply_hunks(current, diff, excerpt_start_row=0) == "x = 1\ny = 2\nx = 0\ny = 2\n"
    # excerpt starting at row 2: the hunk is the first occurrence
    assert reverse_apply_hunks(current, diff, excerpt_start_row=2) == "x = 0\ny = 2\nx = 1\ny = 2\n"


def test_ratio_rename_propagation_is_not_a_reversal():
    events = events_from_edit_history(HISTORY)
    predicted = EXCERPT.replace("qty", "quantity")
    assert compute_reversal_ratio(events, "inventory/stock.py", EXCERPT, predicted) == 0.0


def test_ratio_undo_of_rename():
    events = events_from_edit_history(HISTORY)
    predicted = EXCERPT.replace("quantity", "qty")
    # the prediction deletes 'quantity'→ restores 'qty'; the token diff is quantity→qty
    ratio = compute_reversal_ratio(events, "inventory/stock.py", EXCERPT, predicted)
    assert ratio == 1.0


def test_ratio_predicted_or_other_file_is_zero():
    predicted = EXCERPT.replace("quantity", "qty")
    ev = events_from_edit_history(HISTORY)[0]
    assert compute_reversal_ratio([HistoryEvent(ev.path, ev.diff, True)], ev.path, EXCERPT, predicted) == 0.0
    assert compute_reversal_ratio([ev], "other.py", EXCERPT, predicted) == 0.0
    assert compute_reversal_ratio([HistoryEvent(ev.path, "", False)], ev.path, EXCERPT, predicted) == 0.0
