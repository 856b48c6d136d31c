"""`nextedit filter-settled` with the heuristic as the student, on examples whose settled states lie
at known distances from what it writes."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from nextedit.cli import app
from nextedit.data.filter_settled import levenshtein, quantile
from nextedit.schema.example import Example
from nextedit.text.diff import unified_diff
from tests.server.test_zed_clients import AFTER, BEFORE, CURSOR, DIFF, EDITABLE, PATH

EXCERPT = BEFORE + EDITABLE + AFTER
STUDENT = EXCERPT.replace("qty", "quantity")  # what the heuristic writes (the rename in the history)


def example(name: str, settled: str) -> Example:
    return Example(
        name=name,
        cursor_path=PATH,
        cursor_position=BEFORE + EDITABLE[:CURSOR] + "<|user_cursor|>" + EDITABLE[CURSOR:] + AFTER,
        edit_history=f"--- a/{PATH}\n+++ b/{PATH}\n{DIFF}",
        expected_patches=[unified_diff(EXCERPT, settled, PATH)],
        tags=["settled"],
    )


def test_levenshtein_and_quantile() -> None:
    assert (
        levenshtein("kitten", "sitting") == 3
        and levenshtein("", "abc") == 3
        and levenshtein("same", "same") == 0
    )
    assert levenshtein("prefix kitten suffix", "prefix sitting suffix") == 3
    assert quantile([0.0, 10.0], 0.25) == 2.5 and quantile([4.0], 0.9) == 4.0


def test_filter_settled_keeps_the_middle_band(tmp_path: Path) -> None:
    settled = {
        "trivial": STUDENT,  # the student already writes it
        "near": STUDENT.replace("return item", "return item  # done"),
        "middle": STUDENT.replace("raise ValueError('bad')", "raise ValueError(f'bad quantity: {quantity}')"),
        "noise": "# the whole file was rewritten by an agent\n" + "x = 1\n" * 40,
    }
    src = tmp_path / "settled.jsonl"
    src.write_text("".join(example(k, v).to_json() + "\n" for k, v in settled.items()))
    out = tmp_path / "kept.jsonl"
    r = CliRunner().invoke(app, ["filter-settled", str(src), "-o", str(out), "-p", "heuristic", "-n", "3"])
    assert r.exit_code == 0, r.output
    kept = [json.loads(line) for line in out.read_text().splitlines()]
    assert [k["name"] for k in kept] == ["near", "middle"]
    near = kept[0]["telemetry"]
    assert (
        near["student_distance"] == levenshtein(STUDENT, settled["near"])
        and len(near["student_distances"]) == 3
    )
    assert "band: student distance in [" in r.output and "too close" in r.output and "too far" in r.output


def test_filter_settled_refuses_a_bad_band(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(example("a", STUDENT).to_json() + "\n")
    r = CliRunner().invoke(app, ["filter-settled", str(src), "--band", "0.8,0.2"])
    assert r.exit_code == 2 and "--band" in r.output
