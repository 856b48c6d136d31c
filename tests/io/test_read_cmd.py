"""`nextedit read`: normalise inputs to JSONL or to `.md` eval cases; bad files are reported and skipped."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from nextedit.cli import app
from nextedit.io.markdown import parse_markdown

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
runner = CliRunner()


def _bad_dir(tmp_path: Path) -> Path:
    src = tmp_path / "cases"
    src.mkdir()
    for name in ("kvstore--add-struct-field-init.md", "ledger--import-after-use.md"):
        (src / name).write_text((EXAMPLES / name).read_text())
    (src / "broken.md").write_text("# broken\n\n## Cursor Position\n\n##### nope\n")
    return src


def test_read_dir_to_jsonl_skips_bad_file(tmp_path):
    src = _bad_dir(tmp_path)
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["read", str(src), "-o", str(out)])
    assert result.exit_code == 3, result.output  # done, but something was skipped
    flat = "".join(result.output.split())  # rich wraps long lines; compare without whitespace
    assert "".join(f"{src / 'broken.md'}:5: H5 headings are not allowed".split()) in flat
    assert "unreadableinputs:1" in flat
    names = [json.loads(line)["name"] for line in out.read_text().splitlines()]
    assert names == ["kvstore--add-struct-field-init", "ledger--import-after-use"]


def test_read_failfast_exits_nonzero(tmp_path):
    src = _bad_dir(tmp_path)
    result = runner.invoke(app, ["read", str(src), "-o", str(tmp_path / "o.jsonl"), "--failfast"])
    assert result.exit_code == 1
    assert "broken.md:5:" in "".join(result.output.split())


def test_read_jsonl_to_markdown_and_back(tmp_path):
    jsonl = tmp_path / "all.jsonl.zst"
    assert runner.invoke(app, ["read", str(EXAMPLES), "-o", str(jsonl)]).exit_code == 0
    md_dir = tmp_path / "md"
    result = runner.invoke(app, ["read", str(jsonl), "--markdown", str(md_dir)])
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in md_dir.glob("*.md"))
    assert written == sorted(p.name for p in EXAMPLES.glob("*.md"))
    for path in EXAMPLES.glob("*.md"):
        original = parse_markdown(path.read_text(), str(path))
        back = parse_markdown((md_dir / path.name).read_text(), path.name)
        assert back.cursor_position == original.cursor_position
        assert back.expected_patches == original.expected_patches
        assert back.edit_history == original.edit_history
        assert back.name == path.stem
    # and the .md directory reads back to the same JSONL
    again = tmp_path / "again.jsonl"
    assert runner.invoke(app, ["read", str(md_dir), "-o", str(again)]).exit_code == 0
    from nextedit.io.inputs import read_examples

    assert [e.to_json() for e in read_examples([again])] == [e.to_json() for e in read_examples([jsonl])]


def test_read_resumes_after_a_torn_write(tmp_path):
    out = tmp_path / "out.jsonl"
    assert runner.invoke(app, ["read", str(EXAMPLES), "-o", str(out)]).exit_code == 0
    full = out.read_text()
    lines = full.splitlines(keepends=True)
    out.write_text("".join(lines[:4]) + lines[4][:30])  # interrupted in the middle of line 5,
    record = Path(f"{out}.run.jsonl")  # before its shard was marked done in the run record
    record.write_text(record.read_text().splitlines(keepends=True)[0])
    assert runner.invoke(app, ["read", str(EXAMPLES), "-o", str(out)]).exit_code == 0
    assert out.read_text() == full
