"""split-commit building blocks (§3.10): ordering, imitation, cursor, classification, diffs."""

from __future__ import annotations

import random

from nextedit.data.commit import FileChange, order_commit, render
from nextedit.data.split_commit import (
    SplitConfig,
    choose_split,
    fuzzy_ratio,
    imitate_human_edit,
    make_sample,
    position_weight,
    split_commit,
)
from nextedit.text.patch import apply_patch, patch_files


def test_position_weights():
    line = "foo(a, bar.baz) + x"
    assert position_weight(line, 4) == 10  # after "("
    assert position_weight(line, 6) == 10  # after ","
    assert position_weight(line, 15) == 8  # after ")"
    assert position_weight(line, 3) == 8  # end of identifier "foo"
    assert position_weight(line, 8) == 1  # inside "bar"
    assert position_weight(line, 7) == 6  # after a space
    assert position_weight(line, 11) == 5  # after "."
    assert position_weight("a#b", 2) == 3  # default


def test_imitation_typed_prefix_keeps_rest_of_old_line():
    rng = random.Random(1)
    seen = set()
    for _ in range(50):
        got = imitate_human_edit("    return foo(a)\n", "    return foo(a, b)\n", rng)
        assert got is not None
        partial, col = got
        assert partial.endswith("\n")
        body = partial[:-1]
        typed = "    return foo(a, b)"[:col]
        assert body.startswith(typed)
        assert col > len("    return foo(a")  # typing starts where the lines differ
        assert body != "    return foo(a, b)" and body != "    return foo(a)"
        seen.add(body)
    assert "    return foo(a,)" in seen  # typed ", " … remainder ")" of the old line kept


def test_imitation_of_new_line_and_blank_lines():
    rng = random.Random(0)
    partial, col = imitate_human_edit(None, "    x = compute(y)\n", rng)
    assert "    x = compute(y)".startswith(partial[:-1]) and col == len(partial) - 1
    assert col > 4  # never stops inside the indentation
    assert imitate_human_edit(None, "\n", rng) is None
    assert imitate_human_edit("same\n", "same\n", rng) is None


def test_fuzzy_ratio():
    assert fuzzy_ratio("abc", "abc") == 100
    assert fuzzy_ratio("", "") == 100
    assert fuzzy_ratio("abc", "xyz") == 0


def _commit():
    a_old = "".join(f"line {i}\n" for i in range(80))
    a_new = a_old.replace("line 2\n", "line two\n").replace("line 70\n", "line seventy\n")
    return order_commit(
        [
            FileChange("pkg/a.py", a_old, a_new),
            FileChange("pkg/b.py", "x = 1\ny = 1\n", "x = 1\ny = 2\n"),
            FileChange("yarn.lock", "a\n", "b\n"),
        ]
    )


def test_order_puts_service_and_tests_last_and_definitions_first():
    files = [
        FileChange("tests/test_core.py", "", "from core import helper\nassert helper()\n"),
        FileChange("use.py", "", "from core import helper\nhelper()\n"),
        FileChange("core.py", "", "def helper():\n    return 1\n"),
    ]
    c = order_commit(files)
    order = list(dict.fromkeys(c.files[h.file].path for h in c.hunks))
    assert order == ["core.py", "use.py", "tests/test_core.py"]


def test_every_split_point_is_consistent():
    c = _commit()
    n = c.num_edits
    assert n == 8
    for s in range(0, n + 1):
        smp = make_sample(c, s, random.Random(s))
        files = {f.path: f.old for f in c.files}
        for blob in (smp.uncommitted_diff, smp.edit_history):
            for p in patch_files(blob) if blob else []:
                files[p] = apply_patch(files[p], blob, p)
        assert ("<|" not in smp.cursor_position) and "[CURSOR_POSITION]" in smp.cursor_position
        for p in patch_files(smp.expected_patch) if smp.expected_patch else []:
            files[p] = apply_patch(files[p], smp.expected_patch, p)
        if s == 0:
            assert smp.expected_patch == ""
        if s == n:
            assert smp.kind == "no-edit" and smp.expected_patch == ""


def test_classification_far_and_cross_file():
    c = _commit()
    kinds = {}
    for s in range(1, c.num_edits):
        for seed in range(6):
            smp = make_sample(c, s, random.Random(seed))
            kinds.setdefault(smp.kind, []).append((s, smp))
    # after the edit near the top of a.py, the next one is 68 lines further down
    assert "same-file-far" in kinds
    assert "cross-file" in kinds
    for _, smp in kinds["cross-file"]:
        assert patch_files(smp.expected_patch)[0] != smp.cursor_path


def test_service_files_resampled():
    c = _commit()
    # the lock file is the last unit: a split point right before it is re-drawn
    last = c.num_edits - 1
    assert c.is_service_unit(last)
    for seed in range(30):
        s = choose_split(c, random.Random(seed), None)
        assert 1 <= s <= c.num_edits


def test_history_window_moves_old_edits_to_uncommitted_diff():
    old = "".join(f"v{i} = {i}\n\n\n\n\n\n\n\n" for i in range(30))
    new = old.replace(" = ", " = 1 + ")
    c = order_commit([FileChange("m.py", old, new)])
    assert len(c.hunks) == 30
    smp = make_sample(c, c.num_edits - 1, random.Random(0), SplitConfig(max_history_hunks=4))

    def n_hunks(patch: str) -> int:
        return sum(line.startswith("@@ ") for line in patch.splitlines())

    assert n_hunks(smp.uncommitted_diff) == 26
    assert n_hunks(smp.edit_history) == 4


def test_render_partial_line_and_marks():
    c = order_commit([FileChange("f.py", "a\nb\n", "A\nb\n")])
    r = render(c, 0, {0: 1}, partial=(0, 0, "A-partial\n"), marks={(0, "+", 0)})
    assert r.text == "A-partial\nb\n"
    assert r.marks[(0, "+", 0)] == 0


def test_samples_are_distinct_and_named():
    c = _commit()
    exs = split_commit(c, name="repo-abcdef12", repository_url="u", revision="abc~1", seed=0, samples=5)
    assert [e.name for e in exs] == ["repo-abcdef12"] + [f"repo-abcdef12-{i}" for i in range(1, len(exs))]
    keys = {(e.edit_history, e.cursor_position, e.expected_patches[0]) for e in exs}
    assert len(keys) == len(exs)
    assert split_commit(c, name="r", repository_url="u", revision="x", samples=3, seed=0) == split_commit(
        c, name="r", repository_url="u", revision="x", samples=3, seed=0
    )


def test_split_by_kind():
    c = _commit()
    exs = split_commit(
        c, name="r", repository_url="u", revision="x", seed=0, samples=2, cfg=SplitConfig(split="cross-file")
    )
    assert exs and all("split:cross-file" in e.tags for e in exs)


def test_truncate_patch_keeps_a_valid_beginning():
    from nextedit.data.target import truncate_patch

    old = "a\nb\nc\nd\n"
    patch = "--- a/f\n+++ b/f\n@@ -1,4 +1,5 @@\n a\n-b\n-c\n+B\n+C\n+X\n d\n"
    assert apply_patch(old, truncate_patch(patch, 2), "f") == "a\nB\nc\nd\n"
    assert apply_patch(old, truncate_patch(patch, 3), "f") == "a\nB\nd\n"
    assert apply_patch(old, truncate_patch(patch, 99), "f") == "a\nB\nC\nX\nd\n"
    assert truncate_patch(patch, 0) == ""


def test_focus_target_cli_cuts_targets_and_keeps_the_remainder(tmp_path):
    """`nextedit focus-target` then `format-prompt`: every target keeps at most N changed lines,
    still applies, and the full patch is kept in `commit_remainder_patch`."""
    from pathlib import Path

    from typer.testing import CliRunner

    from nextedit.cli import app
    from nextedit.io.inputs import read_examples

    examples = Path(__file__).resolve().parents[2] / "examples"
    focused = tmp_path / "focused.jsonl"
    res = CliRunner().invoke(app, ["focus-target", str(examples), "-o", str(focused), "--max-changed-lines", "1"])
    assert res.exit_code == 0, res.output
    before = {ex.name: ex for ex in read_examples([examples])}
    after = list(read_examples([focused]))
    assert len(after) == len(before)
    cut = 0
    for ex in after:
        patch = ex.expected_patches[0] if ex.expected_patches else ""
        changed = [ln for ln in patch.splitlines() if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]
        assert len(changed) <= 1
        if (ex.model_extra or {}).get("commit_remainder_patch"):
            cut += 1
            assert ex.commit_remainder_patch == before[ex.name].expected_patches[0]  # type: ignore[attr-defined]
    assert cut > 0
    prompts = tmp_path / "prompts.jsonl"
    res = CliRunner().invoke(app, ["format-prompt", str(focused), "-f", "zeta2_1", "-o", str(prompts)])
    assert res.exit_code == 0, res.output
    for ex in read_examples([prompts]):
        if ex.expected_patches and ex.expected_patches[0].strip():
            assert ex.prompt and ex.prompt.expected_output
