"""Edit-history events (§1.9): snapshots, edit_history text, live grouping."""

from nextedit.context.history import (
    EditHistoryTracker,
    event_from_snapshots,
    events_from_edit_history,
    split_edit_history,
)
from nextedit.text.patch import apply_patch

OLD = "".join(f"line {i}\n" for i in range(30))


def test_event_from_snapshots_has_real_line_numbers_and_byte_ranges():
    new = OLD.replace("line 10\n", "line ten\n")
    ev = event_from_snapshots(OLD, new, "repo/a.txt")
    assert ev.diff.startswith("@@ -8,7 +8,7 @@\n line 7\n line 8\n line 9\n-line 10\n+line ten\n line 11\n")
    assert "---" not in ev.diff and ev.path == ev.old_path == "repo/a.txt"
    start = OLD.index("line 10") + len("line ")
    assert (ev.old_range.start, ev.old_range.end) == (start, start + 2)
    assert (ev.new_range.start, ev.new_range.end) == (start, start + 3)
    # the diff re-applies onto the old text (as a patch with headers)
    assert apply_patch(OLD, f"--- a/a.txt\n+++ b/a.txt\n{ev.diff}") == new


def test_multibyte_ranges_are_bytes():
    old = "é = 1\nx = 2\n"
    new = "é = 1\nxy = 2\n"
    ev = event_from_snapshots(old, new, "a.py")
    assert ev.old_range.start == len("é = 1\nx".encode())


def test_oversized_event_is_dropped():
    big_old = "a\n1\n2\n3\n4\n" + "x" * 7000 + "\nb\n"
    # the big line is 5 rows away from the edit: outside the ±3-line window → kept
    assert event_from_snapshots(big_old, big_old.replace("a\n", "A\n"), "f") is not None
    # here the changed line's window includes the 7000-byte line → over 6144 bytes → dropped
    assert event_from_snapshots(big_old, big_old.replace("b\n", "B\n"), "f") is None
    assert event_from_snapshots("same", "same", "f") is None


def test_split_edit_history_and_predicted_marker():
    history = (
        "--- a/x.py\n+++ b/x.py\n@@ -1,2 +1,2 @@\n-a\n+b\n c\n"
        "// User accepted prediction:\n"
        "--- a/y.py\n+++ b/y.py\n@@ -3 +3 @@\n-q\n+r\n"
    )
    sections = split_edit_history(history)
    assert [(s.path, s.predicted) for s in sections] == [("x.py", False), ("y.py", True)]
    events = events_from_edit_history(history, root_name="repo")
    assert [(e.path, e.predicted) for e in events] == [("repo/x.py", False), ("repo/y.py", True)]
    assert events[0].diff == "@@ -1,2 +1,2 @@\n-a\n+b\n c\n"
    assert events_from_edit_history("") == []


def test_tracker_groups_nearby_edits_and_splits_at_pauses():
    now = [0.0]
    tr = EditHistoryTracker(clock=lambda: now[0])
    a = OLD
    b = a.replace("line 5\n", "line 5x\n")
    tr.record("f", a, b)
    now[0] = 0.3
    c = b.replace("line 7\n", "line 7y\n")  # 2 lines away, no pause → same event
    tr.record("f", b, c)
    assert len(tr.events()) == 1 and "+line 5x" in tr.events()[0].diff and "+line 7y" in tr.events()[0].diff
    now[0] = 2.0
    d = c.replace("line 8\n", "line 8z\n")  # after a pause → split point
    tr.record("f", c, d)
    evs = tr.events()
    assert len(evs) == 2 and "+line 8z" in evs[1].diff and "+line 8z" not in evs[0].diff
    now[0] = 2.1
    e = d.replace("line 28\n", "line 28w\n")  # 20 lines away → new event
    tr.record("f", d, e)
    now[0] = 2.2
    tr.record("g", "x\n", "y\n")  # other buffer → new event
    evs = tr.events()
    assert [ev.path for ev in evs] == ["f", "f", "f", "g"]
    tr.record("g", "y\n", "z\n", predicted=True)  # predicted flag differs → new event
    assert [ev.predicted for ev in tr.events()][-2:] == [False, True]


def test_tracker_keeps_at_most_ten_events():
    tr = EditHistoryTracker(clock=lambda: 0.0)
    text = OLD
    for i in range(15):
        new = text.replace(f"line {i}\n", f"LINE {i}\n")
        tr.record(f"f{i}", text, new)
        text = new
    evs = tr.events()
    assert len(evs) == 10 and evs[0].path == "f5" and evs[-1].path == "f14"


def test_event_diffs_reapply_for_random_edits():
    import random

    rng = random.Random(7)
    words = ["a", "bb", "é", "x = 1", "", "  indent", "}"]
    for _ in range(200):
        old = "\n".join(rng.choice(words) for _ in range(rng.randint(0, 30)))
        if rng.random() < 0.5:
            old += "\n"
        data = old
        i = rng.randint(0, len(data))
        j = min(len(data), i + rng.randint(0, 12))
        new = data[:i] + "\n".join(rng.choice(words) for _ in range(rng.randint(0, 3))) + data[j:]
        ev = event_from_snapshots(old, new, "f.txt")
        if old == new:
            assert ev is None
            continue
        assert ev is not None
        assert apply_patch(old, f"--- a/f.txt\n+++ b/f.txt\n{ev.diff}") == new, (old, new, ev.diff)
        ob, nb = old.encode(), new.encode()
        assert ob[: ev.old_range.start] == nb[: ev.new_range.start]
        assert ob[ev.old_range.end :] == nb[ev.new_range.end :]
